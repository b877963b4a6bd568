"""``amcli evaluate``: accuracy, macro-F1 and confusion matrix of a classifier on a dataset."""

from __future__ import annotations

import logging
import sys

import hydra
import torch
from omegaconf import DictConfig

from amcli.bounds import check_bounds
from amcli.commands.aliases import rewrite_aliases
from amcli.commands.common import (
    done_before,
    load_model,
    overrides,
    run_context,
    to_schema,
)
from amcli.config.evaluate import EvaluateConfig
from amcli.data.base import ClipDataset, load_waves
from amcli.data.spec import classes_without_clips, dataset_name, list_items, make_splits
from amcli.device import resolve_device
from amcli.errors import UserError
from amcli.metrics.classification import classification_report, format_report, predict
from amcli.models import Classifier
from amcli.report.plots import confusion_png
from amcli.report.run import run_info, run_record
from amcli.resources import CONF_PATH

log = logging.getLogger(__name__)


def select_items(cfg: EvaluateConfig, model: Classifier) -> tuple[list, str]:
    """The clips to evaluate and a description of where they come from.

    ``split=test|val|train`` uses the groups the checkpoint recorded for that split when it was
    trained on the same dataset (so the held-out figure is reproduced exactly), else the seeded
    split of ``data.split``; ``split=all`` uses every clip.
    """
    split = cfg.split.value
    data = cfg.data
    items = list_items(data)
    if split == "all":
        return items, "all clips"
    meta = getattr(model, "checkpoint", {}).get("meta", {})
    recorded = meta.get("training", {}).get("split", {}).get(split)
    trained_on = meta.get("training", {}).get("data", {}).get("name")
    if recorded and trained_on == dataset_name(data):
        groups = set(recorded["groups"])
        chosen = [i for i in items if i.group in groups]
        return chosen, f"the checkpoint's {split} groups {sorted(groups)}"
    return make_splits(data, items)[split], f"the seeded {split} split of data.split"


def align_data(cfg: EvaluateConfig, model: Classifier) -> list[str]:
    """The dataset config made to match the checkpoint: its classes (refused when the user set
    other ones) and its sample rate; each change said in one line and returned for the record."""
    given = {o.split("=", 1)[0].lstrip("+~") for o in overrides()}
    changed = []
    if list(cfg.data.classes) != list(model.classes):
        if "data.classes" in given:
            raise UserError(f"data.classes={list(cfg.data.classes)} differ from the classes of "
                            f"{model.checkpoint['name']} ({', '.join(model.classes)}); drop "
                            "data.classes, or map the dataset's labels with data.label_map")
        changed.append(f"data.classes: {list(cfg.data.classes)} -> the checkpoint's "
                       f"{list(model.classes)}")
        cfg.data.classes = list(model.classes)
    if cfg.data.sample_rate != model.sample_rate:
        changed.append(f"data.sample_rate: {cfg.data.sample_rate} -> the checkpoint's "
                       f"{model.sample_rate} Hz (audio is resampled to it)")
        cfg.data.sample_rate = model.sample_rate
    for line in changed:
        print(f"amcli evaluate: note: {line}", file=sys.stderr)
    return changed


def prepare_args(args: list[str]) -> list[str]:
    """``checkpoint=`` is now ``classifier=``, the key optimize uses for the same thing."""
    return rewrite_aliases(args, {"checkpoint": "classifier"}, "evaluate")


def run(cfg: EvaluateConfig) -> dict:
    if done_before(cfg.overwrite):
        return {}
    context = run_context()
    folder = context.folder
    with run_record(context, "evaluate", run_info(None, cfg.device, context),
                    overwrite=cfg.overwrite) as record:
        check_bounds(cfg)
        device = resolve_device(cfg.device)
        record["run"]["device"] = str(device)
        model: Classifier = load_model(cfg.classifier, cfg.custom, cfg.hf, device)
        record["changed"] = align_data(cfg, model)
        items, source = select_items(cfg, model)
        if not items:
            raise UserError(f"no clips to evaluate in {source}; try split=all")
        absent = classes_without_clips(items, list(model.classes))
        if absent:  # a subset of the model's classes: fine, but the figures must say so
            record["absent_classes"] = absent
            log.info("%s holds clips of %d of the model's %d classes (none of %s): accuracy and "
                     "macro-F1 are over the %d present", source, len(model.classes) - len(absent),
                     len(model.classes), absent, len(model.classes) - len(absent))
        length = int(cfg.data.clip_seconds * model.sample_rate)
        dataset = ClipDataset(items, load_waves(items, model.sample_rate, not cfg.quiet), length)
        name = model.checkpoint["name"]
        loader = torch.utils.data.DataLoader(dataset, batch_size=cfg.batch_size)
        truth, pred, _ = predict(model, loader, device)
        report = classification_report(truth, pred, model.classes)
        record.update(checkpoint=model.checkpoint["path"], data=dataset_name(cfg.data),
                      split=cfg.split.value, source=source, report=report)
        confusion_png(report["confusion"], model.classes, folder / "confusion.png",
                      f"{name} on {dataset_name(cfg.data)} ({cfg.split.value})")
    print(f"{name} on {dataset_name(cfg.data)}, {source}:")
    if absent:
        print(f"(no clip of {', '.join(absent)}: the figures are over the other classes)")
    print(format_report(report))
    return record


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="evaluate")
def main(cfg: DictConfig) -> None:
    run(to_schema(cfg))
