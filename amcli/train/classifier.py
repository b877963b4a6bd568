"""Supervised training of a classifier with augmentation and early stopping on validation.

Augmentation keeps the class cues intact: a random time shift (the dataset draws a new window
each epoch), additive noise at a random SNR, and a gain within +-3 dB only, because loudness is
a class cue (angry is louder, sad quieter) and a wider gain range would teach the model to
ignore it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm


@dataclass
class TrainSettings:
    epochs: int = 40
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    #: stop after this many epochs without a better validation accuracy
    patience: int = 8
    #: gain augmentation range, +-dB (at most 3: loudness is a class cue)
    gain_db: float = 3.0
    #: additive white noise at an SNR drawn from this range (dB), on a share of the clips
    noise_snr_db: tuple[float, float] = (15.0, 40.0)
    noise_prob: float = 0.5
    label_smoothing: float = 0.05
    seed: int = 0


@dataclass
class TrainResult:
    best_epoch: int
    best_val_accuracy: float
    epochs_run: int
    stopped_early: bool
    history: list[dict[str, float]] = field(default_factory=list)


def augment(wave: torch.Tensor, settings: TrainSettings,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Random gain (+-gain_db) and, on a share of clips, white noise at a random SNR."""
    b = wave.shape[0]
    device = wave.device

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(b, 1, generator=generator).to(device)

    if settings.gain_db > 0:
        wave = wave * 10.0 ** (uniform(-settings.gain_db, settings.gain_db) / 20.0)
    if settings.noise_prob > 0:
        power = wave.pow(2).mean(dim=-1, keepdim=True).clamp_min(1e-10)
        snr = uniform(*settings.noise_snr_db)
        noise_std = torch.sqrt(power / 10.0 ** (snr / 10.0))
        use = (torch.rand(b, 1, generator=generator) < settings.noise_prob).to(device)
        noise = torch.randn(wave.shape, generator=generator).to(device)
        wave = wave + use * noise_std * noise
    return wave


@torch.no_grad()
def _evaluate(model: nn.Module, loader, device: torch.device) -> tuple[float, float]:
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    for wave, target in loader:
        wave, target = wave.to(device), target.to(device)
        logits = model(wave)
        loss_sum += float(nn.functional.cross_entropy(logits, target, reduction="sum"))
        correct += int((logits.argmax(-1) == target).sum())
        n += len(target)
    return correct / max(n, 1), loss_sum / max(n, 1)


def train_classifier(
    model: nn.Module,
    train_set: torch.utils.data.Dataset,
    val_set: torch.utils.data.Dataset,
    settings: TrainSettings,
    device: torch.device | str = "cpu",
    progress: bool = True,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train in place; leaves the model at its best validation epoch, in eval mode."""
    device = torch.device(device)
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    model.to(device)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=settings.batch_size,
                                               shuffle=True, generator=generator,
                                               drop_last=len(train_set) > settings.batch_size)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=2 * settings.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr,
                                  weight_decay=settings.weight_decay)
    steps = settings.epochs * max(len(train_loader), 1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=settings.lr,
                                                    total_steps=steps, pct_start=0.1)
    criterion = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
    best = (-math.inf, math.inf)
    best_state, best_epoch, waited = None, 0, 0
    history: list[dict[str, float]] = []
    bar = tqdm(total=steps, desc="train", unit="step", disable=not progress)
    epoch = 0
    for epoch in range(1, settings.epochs + 1):
        model.train()
        loss_sum, n = 0.0, 0
        for wave, target in train_loader:
            wave, target = wave.to(device), target.to(device)
            logits = model(augment(wave, settings, generator))
            loss = criterion(logits, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item() * len(target)
            n += len(target)
            bar.update(1)
        val_acc, val_loss = _evaluate(model, val_loader, device)
        row = {"epoch": epoch, "train_loss": loss_sum / max(n, 1), "val_accuracy": val_acc,
               "val_loss": val_loss}
        history.append(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{val_acc:.3f}")
        if on_epoch:
            on_epoch(row)
        if (val_acc, -val_loss) > (best[0], -best[1]):
            best, best_epoch, waited = (val_acc, val_loss), epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if waited >= settings.patience:
                break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainResult(best_epoch=best_epoch, best_val_accuracy=best[0], epochs_run=epoch,
                       stopped_early=epoch < settings.epochs, history=history)
