"""GAN / conditional-GAN training: hinge loss, spectral-normalized discriminator, resumable.

One iteration = one discriminator step on a real and a generated batch, then one generator step
(hinge loss: Lim & Ye 2017, Miyato et al. 2018; Adam with beta1 = 0 as in SNGAN). Real batches
are random crops of the corpus' clips, drawn around the speech (not the padding silence).

The whole training state (both networks with their spectral-norm and BatchNorm buffers, both
Adam states, every random generator, the iteration and the loss history) fits in one safetensors
file, so an interrupted run resumes exactly where it stopped: on the CPU, N iterations + resume
+ M iterations equal N + M iterations straight (tested).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from amcli.activity import active_frames
from amcli.features import FeatureParams, LogMel
from amcli.files import atomic_write, json_text
from amcli.models.gan import MEL_FRAMES, RAW_SAMPLES, Discriminator, Generator


@dataclass
class GanSettings:
    iterations: int = 1500
    batch_size: int = 32
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.0
    beta2: float = 0.9
    seed: int = 0
    #: how many fixed-z samples the periodic sample grids show (per class for a cgan)
    n_samples: int = 6
    #: weight of the mode-seeking term (Mao et al. 2019, MSGAN): the generator is rewarded for
    #: |G(z1) - G(z2)| / |z1 - z2|, against a conditional GAN ignoring z; 0 turns it off
    diversity: float = 0.0


class CropSampler:
    """Random fixed-length crops of a set of clips, placed over each clip's active region.

    ``waves`` [N, T] may be float16 (the tensor cache the GPU machines get); crops come back as
    float32 on ``device``.
    """

    def __init__(self, waves: torch.Tensor, labels: torch.Tensor, length: int,
                 hop: int = 256) -> None:
        if waves.shape[-1] < length:
            waves = F.pad(waves, (0, length - waves.shape[-1]))
        self.waves, self.labels, self.length = waves, labels.long(), int(length)
        active = active_frames(waves.float(), hop, 1024, threshold_db=-40.0)
        frames = torch.arange(active.shape[-1]).expand_as(active)
        first = torch.where(active, frames, active.shape[-1]).amin(-1) * hop
        last = torch.where(active, frames, 0).amax(-1) * hop
        total = waves.shape[-1]
        # the crop's start: within the speech when it is longer than the crop, else a window
        # that holds all of it
        span = last - first
        long = span >= length
        self.low = torch.where(long, first, (last - length).clamp_min(0))
        self.high = torch.where(long, last - length, first.clamp_max(total - length))
        self.high = torch.maximum(self.high, self.low).clamp_max(total - length)

    def __len__(self) -> int:
        return self.waves.shape[0]

    def sample(self, batch: int, generator: torch.Generator,
               device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(len(self), (batch,), generator=generator)
        low, high = self.low[index], self.high[index]
        start = low + (torch.rand(batch, generator=generator) * (high - low + 1)).long()
        offsets = start.unsqueeze(1) + torch.arange(self.length).unsqueeze(0)
        crops = self.waves[index].gather(1, offsets).float()
        return crops.to(device), self.labels[index].to(device)


def crop_length(representation: str, features: FeatureParams | None) -> int:
    """Samples a real crop needs: 128 log-mel frames (mel) or 16384 samples (raw)."""
    if representation == "mel":
        return (MEL_FRAMES - 1) * (features or FeatureParams()).hop_length
    return RAW_SAMPLES


class GanTrainer:
    """Owns G, D, their optimizers and random generators; ``run`` trains up to an iteration."""

    def __init__(self, gen: Generator, disc: Discriminator, sampler: CropSampler,
                 settings: GanSettings, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.gen, self.disc = gen.to(self.device), disc.to(self.device)
        self.sampler, self.settings = sampler, settings
        betas = (settings.beta1, settings.beta2)
        self.opt_g = torch.optim.Adam(gen.parameters(), lr=settings.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(disc.parameters(), lr=settings.lr_d, betas=betas)
        torch.manual_seed(settings.seed)
        self.data_rng = torch.Generator().manual_seed(settings.seed)
        self.noise_rng = torch.Generator().manual_seed(settings.seed + 1)
        fixed = torch.Generator().manual_seed(settings.seed + 2)
        n = settings.n_samples * (len(gen.classes) if gen.conditional else 1)
        self.fixed_z = gen.sample_z(settings.n_samples, fixed).repeat(n // settings.n_samples, 1)
        self.fixed_y = torch.arange(len(gen.classes)).repeat_interleave(settings.n_samples) \
            if gen.conditional else None
        self.logmel = LogMel(gen.feature_params).to(self.device) \
            if gen.representation == "mel" else None
        self.iteration = 0
        self.history: list[dict[str, float]] = []

    def real_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        crops, labels = self.sampler.sample(self.settings.batch_size, self.data_rng, self.device)
        if self.logmel is not None:
            crops = self.logmel(crops)
        return self.gen.normalize(crops), labels

    def fake_batch(self, labels: torch.Tensor) -> torch.Tensor:
        z = self.gen.sample_z(len(labels), self.noise_rng, self.device)
        return self.gen.forward_normalized(z, labels if self.gen.conditional else None)

    def step(self) -> dict[str, float]:
        self.gen.train()
        self.disc.train()
        real, labels = self.real_batch()
        y = labels if self.disc.conditional else None
        fake = self.fake_batch(labels)
        loss_d = F.relu(1.0 - self.disc(real, y)).mean() + \
            F.relu(1.0 + self.disc(fake.detach(), y)).mean()
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        fake = self.fake_batch(labels)
        loss_g = -self.disc(fake, y).mean()
        if self.settings.diversity > 0:
            z1 = self.gen.sample_z(len(labels), self.noise_rng, self.device)
            z2 = self.gen.sample_z(len(labels), self.noise_rng, self.device)
            cond = labels if self.gen.conditional else None
            a, b = self.gen.forward_normalized(z1, cond), self.gen.forward_normalized(z2, cond)
            ratio = (a - b).abs().flatten(1).mean(1) / (z1 - z2).abs().mean(1)
            loss_g = loss_g - self.settings.diversity * ratio.mean()
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.iteration += 1
        row = {"iteration": self.iteration, "loss_d": loss_d.detach().item(),
               "loss_g": loss_g.detach().item()}
        if not (math.isfinite(row["loss_d"]) and math.isfinite(row["loss_g"])):
            raise FloatingPointError(f"GAN losses turned non-finite at iteration {self.iteration}")
        self.history.append(row)
        return row

    def run(self, until: int, every: int = 0,
            on_step: Callable[[dict[str, float]], None] | None = None,
            on_every: Callable[[int], None] | None = None) -> None:
        """Train until ``until`` iterations; ``on_every(iteration)`` every ``every`` of them."""
        while self.iteration < until:
            row = self.step()
            if on_step:
                on_step(row)
            if every and on_every and (self.iteration % every == 0 or self.iteration == until):
                on_every(self.iteration)

    @torch.no_grad()
    def samples(self) -> torch.Tensor:
        """The fixed-z grid in the generator's output scale (log-mel or waveform)."""
        self.gen.eval()
        y = self.fixed_y.to(self.device) if self.fixed_y is not None else None
        out = self.gen(self.fixed_z.to(self.device), y).cpu()
        self.gen.train()
        return out

    # ---- resumable state -------------------------------------------------------------------

    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"gen.{k}": v for k, v in self.gen.state_dict().items()}
        tensors.update({f"disc.{k}": v for k, v in self.disc.state_dict().items()})
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            for index, values in opt.state_dict()["state"].items():
                for key, value in values.items():
                    tensors[f"{name}.{index}.{key}"] = torch.as_tensor(value)
        tensors["rng.torch"] = torch.get_rng_state()
        tensors["rng.data"] = self.data_rng.get_state()
        tensors["rng.noise"] = self.noise_rng.get_state()
        if self.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}

    def save_state(self, path: str | Path, extra: dict | None = None) -> None:
        """One atomic safetensors file; iteration, history and settings in its metadata."""
        meta = {"iteration": str(self.iteration), "history": json_text(self.history, None),
                "settings": json_text(asdict(self.settings), None), **(extra or {})}
        tensors = self.state_tensors()
        atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))

    def load_state(self, path: str | Path) -> dict[str, str]:
        """Restore everything ``save_state`` wrote; returns its metadata."""
        from safetensors import safe_open

        tensors = load_file(str(path))
        with safe_open(str(path), "pt") as handle:
            meta = handle.metadata() or {}

        def part(prefix: str) -> dict[str, torch.Tensor]:
            return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

        self.gen.load_state_dict(part("gen."))
        self.disc.load_state_dict(part("disc."))
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            state: dict[int, dict[str, torch.Tensor]] = {}
            for key, value in part(f"{name}.").items():
                index, field = key.split(".", 1)
                state.setdefault(int(index), {})[field] = value.to(self.device) \
                    if field != "step" else value
            opt.load_state_dict({"state": state,
                                 "param_groups": opt.state_dict()["param_groups"]})
        torch.set_rng_state(tensors["rng.torch"])
        self.data_rng.set_state(tensors["rng.data"])
        self.noise_rng.set_state(tensors["rng.noise"])
        if "rng.cuda" in tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda"], self.device)
        self.iteration = int(meta.get("iteration", 0))
        self.history = json.loads(meta.get("history", "[]"))
        return meta
