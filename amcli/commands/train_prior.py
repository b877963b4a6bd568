"""``amcli train-prior``: train a GAN or conditional-GAN prior over log-mel patches or waveforms.

Every ``every`` iterations the run folder gets a fixed-z sample grid (``samples/iter_N.png`` and
``.wav``), the full training state (``state.safetensors``, for resuming) and the generator
checkpoint so far (``<name>.safetensors`` + ``.json``). ``resume=RUN_DIR`` continues an
interrupted run exactly; a run folder that already holds a state resumes by itself. At the end the
judge scores the prior (Frechet distances, cgan accuracy) into the checkpoint's ``metrics``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig
from tqdm import tqdm

from amcli.audio import write_wav
from amcli.bounds import check_bounds
from amcli.commands.common import done_before, run_context, to_schema
from amcli.config.train_prior import TrainPriorConfig
from amcli.data.base import load_waves
from amcli.data.spec import dataset_name, describe_split, make_splits
from amcli.device import resolve_device
from amcli.errors import UserError
from amcli.features import FeatureParams, GriffinLimVocoder, LogMel
from amcli.files import json_text
from amcli.models import load_classifier
from amcli.models.checkpoint import save_generator
from amcli.models.gan import Generator, build_gan
from amcli.report.plots import sample_grid_plot
from amcli.report.run import run_info, run_record
from amcli.resources import CONF_PATH
from amcli.train.gan import CropSampler, GanTrainer, crop_length

log = logging.getLogger(__name__)

STATE_FILE = "state.safetensors"
DEFAULTS = {"mel": {"latent_dim": 128, "width": 32}, "raw": {"latent_dim": 100, "width": 16}}


def check(cfg: TrainPriorConfig) -> None:
    check_bounds(cfg)
    if cfg.representation not in DEFAULTS:
        raise UserError(f"representation={cfg.representation}; use mel or raw")


def hparams(cfg: TrainPriorConfig) -> dict:
    chosen = {"latent_dim": cfg.latent_dim, "width": cfg.width, "d_width": cfg.d_width,
              "embed_dim": cfg.embed_dim}
    return {**DEFAULTS[cfg.representation], **{k: v for k, v in chosen.items() if v is not None}}


def mel_range(waves: torch.Tensor, features: FeatureParams) -> tuple[float, float]:
    """The log-mel range the generator's tanh maps onto: the floor and the corpus' 99.9th
    percentile (plus a margin), so loud classes fit without saturating."""
    pick = torch.linspace(0, len(waves) - 1, min(len(waves), 256)).long()  # across classes
    mel = LogMel(features)(waves[pick].float())
    high = float(torch.quantile(mel.flatten()[::7], 0.999)) + 1.0
    return float(np.log(features.log_floor)), high


def find_state(cfg: TrainPriorConfig, folder: Path) -> Path | None:
    if cfg.resume:
        path = Path(cfg.resume).expanduser()
        path = path / STATE_FILE if path.is_dir() else path
        if not path.is_file():
            raise UserError(f"resume={cfg.resume}: no {STATE_FILE} there; give the run folder "
                            "of the interrupted train-prior run")
        return path
    own = folder / STATE_FILE
    return own if own.is_file() else None


def write_samples(trainer: GanTrainer, folder: Path, iteration: int,
                  vocoder: GriffinLimVocoder | None) -> None:
    gen = trainer.gen
    out = trainer.samples()
    waves = vocoder(out) if vocoder is not None else out
    gap = torch.zeros(waves.shape[0], gen.sample_rate // 4)
    write_wav(folder / "samples" / f"iter_{iteration:06d}.wav",
              torch.cat([waves, gap], dim=1).reshape(-1), gen.sample_rate)
    mels = out if gen.representation == "mel" else LogMel(FeatureParams(gen.sample_rate))(out)
    labels = [gen.classes[int(y)] for y in trainer.fixed_y] if trainer.fixed_y is not None \
        else None
    sample_grid_plot(mels.numpy(), folder / "samples" / f"iter_{iteration:06d}.png",
                     f"{gen.representation} {'cgan' if gen.conditional else 'gan'}, "
                     f"iteration {iteration}", labels, columns=trainer.settings.n_samples)


def run(cfg: TrainPriorConfig) -> dict:
    if done_before(cfg.overwrite):
        return {}
    context = run_context()
    folder = context.folder
    with run_record(context, "train-prior", run_info(cfg.seed, cfg.device, context),
                    overwrite=cfg.overwrite, resumes=True) as record:
        check(cfg)
        device = resolve_device(cfg.device)
        record["run"]["device"] = str(device)
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        rep, conditional = cfg.representation, cfg.prior.kind.value == "cgan"
        features = FeatureParams(sample_rate=cfg.data.sample_rate) if rep == "mel" else None
        judge = load_classifier(cfg.judge, "cpu") if cfg.judge else None
        if judge is not None and rep == "mel" and judge.feature_params != features:
            raise UserError(f"judge {cfg.judge} uses other log-mel parameters than the prior; "
                            "give a judge trained on amcli's default features or judge=null")
        splits = make_splits(cfg.data)
        train_items = splits["train"] + splits["val"]
        if not train_items:
            raise UserError(f"the {dataset_name(cfg.data)} split left no training clips; give "
                            "more speakers or set data.split.*_groups")
        length = max(int(cfg.data.clip_seconds * cfg.data.sample_rate), crop_length(rep, features))

        def tensor(items) -> tuple[torch.Tensor, torch.Tensor]:
            waves = load_waves(items, cfg.data.sample_rate, not cfg.quiet)
            batch = torch.zeros(len(waves), length, dtype=torch.float16)
            for i, w in enumerate(waves):
                batch[i, : min(length, w.shape[-1])] = w[:length].half()
            return batch, torch.tensor([it.target for it in items])

        train_waves, train_labels = tensor(train_items)
        sampler = CropSampler(train_waves, train_labels, crop_length(rep, features))
        extra = {}
        if rep == "mel":
            low, high = mel_range(train_waves, features)
            extra = {"mel_low": low, "mel_high": high}
        chosen = {**hparams(cfg), **extra}
        state_path = find_state(cfg, folder)
        if state_path is not None:  # the architecture comes from the state being resumed
            from safetensors import safe_open

            with safe_open(str(state_path), "pt") as handle:
                saved = json.loads((handle.metadata() or {}).get("prior", "{}"))
            if saved and (saved.get("representation"), saved.get("conditional")) != \
                    (rep, conditional):
                raise UserError(f"{state_path} is a {saved.get('representation')} "
                                f"{'cgan' if saved.get('conditional') else 'gan'} state; "
                                "resume it with the same prior= and representation=")
            chosen = saved.get("hparams", chosen)
        torch.manual_seed(cfg.seed)
        gen, disc = build_gan(rep, list(cfg.data.classes), conditional, features=features,
                              sample_rate=cfg.data.sample_rate, **chosen)
        settings = cfg.gan_settings()
        trainer = GanTrainer(gen, disc, sampler, settings, device)
        prior_meta = json_text({"representation": rep, "conditional": conditional,
                                "hparams": gen.hparams}, None)
        if state_path is not None:
            trainer.load_state(state_path)
            record["resumed_from"] = {"state": str(state_path), "iteration": trainer.iteration}
            log.info("resumed from %s at iteration %d", state_path, trainer.iteration)
        name = cfg.name or f"{cfg.prior.kind.value}_{rep}"
        vocoder = GriffinLimVocoder(features, n_iter=32) if rep == "mel" else None
        training = {
            "data": {"name": dataset_name(cfg.data), "root": cfg.data.root,
                     "classes": list(cfg.data.classes), "clip_seconds": cfg.data.clip_seconds},
            "split": {"train": describe_split(train_items),
                      "heldout": describe_split(splits["test"])},
            "seed": cfg.seed, "command": record["run"]["command_line"],
            "device": str(device), "settings": dict(vars(settings)),
        }
        log.info("training %s: G %d, D %d parameters, %d clips, device %s", name,
                 sum(p.numel() for p in gen.parameters()),
                 sum(p.numel() for p in disc.parameters()), len(train_items), device)

        def save(iteration: int) -> None:
            write_samples(trainer, folder, iteration, vocoder)
            trainer.save_state(folder / STATE_FILE, {"prior": prior_meta})
            save_generator(gen_copy(trainer.gen), folder / name,
                           {**training, "iterations": iteration}, half=cfg.half)

        bar = tqdm(total=cfg.iterations, initial=trainer.iteration, desc=f"train-prior {name}",
                   unit="it", disable=cfg.quiet)

        def on_step(row: dict) -> None:
            bar.update(1)
            if row["iteration"] % 10 == 0:
                bar.set_postfix(loss_d=f"{row['loss_d']:.3f}", loss_g=f"{row['loss_g']:.3f}")

        try:
            trainer.run(cfg.iterations, cfg.every, on_step, save)
        except KeyboardInterrupt:
            trainer.save_state(folder / STATE_FILE, {"prior": prior_meta})
            log.warning("interrupted at iteration %d; continue with resume=%s",
                        trainer.iteration, folder)
            raise
        finally:
            bar.close()
        final = gen_copy(trainer.gen)
        metrics: dict = {"iterations": trainer.iteration}
        if judge is not None:
            heldout = None
            if splits["test"]:
                test_waves, test_labels = tensor(splits["test"])
                heldout = CropSampler(test_waves, test_labels, crop_length(rep, features))
            from amcli.metrics.prior_quality import prior_quality

            metrics.update(prior_quality(final, judge, sampler, heldout, cfg.quality_n,
                                         cfg.seed))
            metrics["judge"] = {"name": judge.checkpoint["name"],
                                "sha256": judge.checkpoint["sha256"]}
            log.info("quality: FD generated %.2f, noise %.2f, held-out real %s",
                     metrics["fd_generated"], metrics["fd_noise"],
                     f"{metrics['fd_heldout_real']:.2f}" if "fd_heldout_real" in metrics
                     else "n/a")
        sidecar = save_generator(final, folder / name,
                                 {**training, "iterations": trainer.iteration}, metrics,
                                 half=cfg.half)
        record["train"] = {"history": trainer.history[-200:], "iterations": trainer.iteration}
        record["metrics"] = metrics
        record["checkpoint"] = str(sidecar)
        log.info("wrote %s (+ .safetensors)", sidecar)
    return record


def gen_copy(gen: Generator) -> Generator:
    """A CPU copy with standing BatchNorm statistics (the training copy keeps its own)."""
    import copy

    clone = copy.deepcopy(gen).cpu()
    clone.standing_stats()
    return clone.eval()


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="train_prior")
def main(cfg: DictConfig) -> None:
    run(to_schema(cfg))
