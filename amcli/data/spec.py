"""What a dataset config says (the ``data`` group's schema) and how it becomes splits.

Plain dataclasses without Hydra, so that training code can use them anywhere; amcli.config
registers them in Hydra's ConfigStore.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum

from amcli.bounds import bounded
from amcli.data.base import (
    AUDIO_SUFFIXES,
    Item,
    drop_unreadable,
    map_labels,
    require_root,
    split_by_group,
)
from amcli.data.datasets import DATASETS
from amcli.errors import UserError

log = logging.getLogger(__name__)

DEFAULT_CLASSES = ["neutral", "happy", "sad", "angry"]


class DatasetName(Enum):
    ravdess = "ravdess"
    tess = "tess"
    cremad = "cremad"
    folder = "folder"
    synth = "synth"


@dataclass
class SplitConfig:
    """Speaker-independent split: seeded fractions, or explicit groups per split."""

    #: seed of the split of groups (speakers) into train, val and test
    seed: int = 0
    #: share of the groups held out for validation
    val: float = bounded(0.15, ge=0, lt=1)
    #: share of the groups held out for testing
    test: float = bounded(0.15, ge=0, lt=1)
    #: explicit training groups (groups named nowhere stay unused); null: the seeded split
    train_groups: list[str] | None = None
    #: explicit validation groups
    val_groups: list[str] | None = None
    #: explicit test groups
    test_groups: list[str] | None = None


@dataclass
class DataConfig:
    #: the dataset layout (set by data=)
    name: DatasetName = DatasetName.synth
    #: the dataset's folder
    root: str | None = None
    #: the classes, in the order of the model's outputs
    classes: list[str] = field(default_factory=lambda: list(DEFAULT_CLASSES))
    #: dataset label -> class (or null to drop); labels equal to a class map to it by default.
    label_map: dict[str, str | None] = field(default_factory=dict)
    clip_seconds: float = bounded(3.0, ge=0.5, hint="at least the 0.5 s the classifiers need")
    #: clips are resampled to this rate
    sample_rate: int = bounded(16000, ge=4000, le=192000)
    split: SplitConfig = field(default_factory=SplitConfig)
    #: RAVDESS: also use the sung files (vocal channel 02).
    include_song: bool = False
    #: folder: regex whose first group, searched in a file name, is the speaker.
    speaker_pattern: str | None = None
    #: keep at most this many files per class (quick runs); null = all.
    max_per_class: int | None = bounded(None, ge=1)


def dataset_name(cfg: DataConfig) -> str:
    return cfg.name.value if isinstance(cfg.name, Enum) else str(cfg.name)


def list_items(cfg: DataConfig) -> list[Item]:
    """Every readable file of the dataset, mapped onto ``cfg.classes``."""
    name = dataset_name(cfg)
    root = require_root(cfg.root, name)
    lister = DATASETS[name]
    if name == "ravdess":
        raw = lister(root, include_song=cfg.include_song)
    elif name == "folder":
        raw = lister(root, speaker_pattern=cfg.speaker_pattern)
    else:
        raw = lister(root)
    if not raw:
        others = sum(1 for p in root.rglob("*") if p.is_file())
        raise UserError(f"{name}: data.root={root} holds no audio file in the {name} layout "
                        f"({', '.join(AUDIO_SUFFIXES)}; {others} other file(s) found); check "
                        "data.root and data=")
    items = map_labels(raw, list(cfg.classes), cfg.label_map, name)
    if cfg.max_per_class:
        kept, counts = [], dict.fromkeys(cfg.classes, 0)
        for item in items:
            if counts[item.label] < cfg.max_per_class:
                kept.append(item)
                counts[item.label] += 1
        items = kept
    return drop_unreadable(items, name)


def make_splits(cfg: DataConfig, items: list[Item] | None = None) -> dict[str, list[Item]]:
    items = list_items(cfg) if items is None else items
    s = cfg.split
    splits = split_by_group(items, seed=s.seed, val_fraction=s.val, test_fraction=s.test,
                            groups={"train": s.train_groups, "val": s.val_groups,
                                    "test": s.test_groups})
    for split, members in splits.items():
        log.info("%s split: %d clips, %d groups", split, len(members),
                 len({i.group for i in members}))
    return splits


def classes_without_clips(items: list[Item], classes: list[str]) -> list[str]:
    """The classes of ``classes`` that no item of ``items`` has, in class order."""
    present = {i.label for i in items}
    return [c for c in classes if c not in present]


def require_every_class(splits: dict[str, list[Item]], classes: list[str], dataset: str) -> None:
    """Training needs clips of every declared class in its train split: a class without any
    would become a head the model never learns, written into the checkpoint without a word.
    Refuse, naming the classes and the two ways out."""
    everywhere = [i for members in splits.values() for i in members]
    absent = classes_without_clips(everywhere, classes)
    if absent:
        present = [c for c in classes if c not in absent]
        raise UserError(
            f"{dataset} holds no clip of {absent} (of data.classes={classes}); train on the "
            f"classes it has with data.classes={present}, or map its labels onto the missing "
            "ones with data.label_map.<label>=<class>")
    absent = classes_without_clips(splits["train"], classes)
    if absent:
        raise UserError(
            f"the train split of {dataset} holds no clip of {absent} (their clips all fell "
            "into val or test); set data.split.train_groups, or give more speakers")


def describe_split(items: list[Item]) -> dict[str, object]:
    return {"clips": len(items), "speakers": sorted({i.speaker for i in items}),
            "groups": sorted({i.group for i in items})}
