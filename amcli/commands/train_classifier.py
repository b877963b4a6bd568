"""``amcli train-classifier``: train a demo-style classifier, or fine-tune a transformers model
(model=hf), and write its checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig

from amcli.bounds import check_bounds
from amcli.commands.common import done_before, run_context, to_schema
from amcli.config.train_classifier import TrainClassifierConfig
from amcli.data.base import ClipDataset, load_waves
from amcli.data.spec import dataset_name, describe_split, make_splits, require_every_class
from amcli.device import resolve_device
from amcli.errors import UserError
from amcli.metrics.classification import classification_report, format_report, predict
from amcli.models import ARCHITECTURES, Classifier, build_classifier, save_classifier
from amcli.models.hf_training import build_hf_for_training, save_hf_classifier
from amcli.report.plots import confusion_png
from amcli.report.run import run_info, run_record
from amcli.resources import CONF_PATH
from amcli.train import train_classifier

log = logging.getLogger(__name__)


def check(cfg: TrainClassifierConfig) -> None:
    check_bounds(cfg)
    if cfg.model.arch not in ARCHITECTURES and cfg.model.arch != "hf":
        raise UserError(f"model.arch='{cfg.model.arch}' is unknown; use model=" +
                        "|".join([*ARCHITECTURES, "hf"]))
    if len(cfg.noise_snr_db) != 2 or cfg.noise_snr_db[0] > cfg.noise_snr_db[1]:
        raise UserError(f"noise_snr_db={cfg.noise_snr_db}; give [low, high] in dB")


def build_model(cfg: TrainClassifierConfig) -> Classifier:
    """An untrained amcli architecture, or (model=hf) the pretrained folder with a new head."""
    torch.manual_seed(cfg.seed)
    if cfg.model.arch == "hf":
        return build_hf_for_training(cfg.hf.path, list(cfg.data.classes),
                                     cfg.hf.freeze_feature_encoder, cfg.hf.sample_rate)
    return build_classifier(cfg.model.arch, list(cfg.data.classes), cfg.data.sample_rate,
                            **cfg.model.hparams())


def run(cfg: TrainClassifierConfig) -> dict:
    if done_before(cfg.overwrite):
        return {}
    context = run_context()
    folder = context.folder
    with run_record(context, "train-classifier", run_info(cfg.seed, cfg.device, context),
                    overwrite=cfg.overwrite) as record:
        check(cfg)
        device = resolve_device(cfg.device)
        record["run"]["device"] = str(device)
        model = build_model(cfg)
        if cfg.data.sample_rate != model.sample_rate:
            log.info("data.sample_rate: %d -> %d Hz, the rate of %s (clips are resampled)",
                     cfg.data.sample_rate, model.sample_rate, cfg.hf.path)
            cfg.data.sample_rate = model.sample_rate
        splits = make_splits(cfg.data)
        if not splits["train"] or not splits["val"]:
            raise UserError(
                f"the {dataset_name(cfg.data)} split left train={len(splits['train'])} and "
                f"val={len(splits['val'])} clips; give more speakers or set "
                "data.split.*_groups"
            )
        require_every_class(splits, list(cfg.data.classes), dataset_name(cfg.data))
        length = int(cfg.data.clip_seconds * cfg.data.sample_rate)
        progress = not cfg.quiet
        sets = {name: ClipDataset(items, load_waves(items, cfg.data.sample_rate, progress),
                                  length, random_offset=name == "train")
                for name, items in splits.items() if items}
        name = cfg.name or (Path(cfg.hf.path).name if cfg.model.arch == "hf" else cfg.model.arch)
        settings = cfg.train_settings()
        log.info("training %s (%d parameters, %d trained) on %d clips, validating on %d, "
                 "device %s", name, sum(p.numel() for p in model.parameters()),
                 sum(p.numel() for p in model.parameters() if p.requires_grad),
                 len(sets["train"]),
                 len(sets["val"]), device)
        result = train_classifier(
            model, sets["train"], sets["val"], settings, device, progress=progress,
            on_epoch=lambda row: log.info(
                "epoch %d: train loss %.4f, val accuracy %.4f, val loss %.4f", row["epoch"],
                row["train_loss"], row["val_accuracy"], row["val_loss"]),
        )
        record["train"] = {"best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                           "stopped_early": result.stopped_early,
                           "best_val_accuracy": result.best_val_accuracy,
                           "history": result.history}
        metrics = {"val_accuracy": result.best_val_accuracy}
        if "test" in sets:
            loader = torch.utils.data.DataLoader(sets["test"], batch_size=2 * cfg.batch_size)
            truth, pred, _ = predict(model, loader, device)
            report = classification_report(truth, pred, model.classes)
            record["test"] = report
            metrics.update(test_accuracy=report["accuracy"], macro_f1=report["macro_f1"],
                           test_clips=report["n"])
            confusion_png(report["confusion"], model.classes, folder / "confusion.png",
                          f"{name}: held-out test, accuracy {report['accuracy']:.3f}")
            print(format_report(report))
        else:
            log.warning("the test split is empty: no held-out accuracy")
        training = {
            "data": {"name": dataset_name(cfg.data), "root": cfg.data.root,
                     "classes": list(cfg.data.classes), "label_map": dict(cfg.data.label_map),
                     "clip_seconds": cfg.data.clip_seconds},
            "split": {s: describe_split(items) for s, items in splits.items()},
            "seed": cfg.seed,
            "command": record["run"]["command_line"],
            "best_epoch": result.best_epoch,
        }
        if cfg.model.arch == "hf":
            sidecar = save_hf_classifier(model.cpu(), folder / name, cfg.data.clip_seconds,
                                         training=training, metrics=metrics)
        else:
            sidecar = save_classifier(model.cpu(), folder / name, cfg.data.clip_seconds,
                                      training=training, metrics=metrics)
        record["checkpoint"] = str(sidecar)
        record["metrics"] = metrics
        log.info("wrote %s", sidecar if cfg.model.arch == "hf" else
                 f"{sidecar} (+ .safetensors)")
    return record


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="train_classifier")
def main(cfg: DictConfig) -> None:
    run(to_schema(cfg))
