"""What every dataset shares: items, label mapping, readability checks, speaker-independent
splits, and a fixed-length waveform dataset.

A dataset module only has to list ``RawItem``s (path, its own label, speaker, split group);
mapping onto the configured classes, dropping unreadable files, splitting and cropping happen
here, the same way for all of them.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from amcli.errors import UserError

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif"}
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class RawItem:
    """A file as the dataset describes it: its own label vocabulary, speaker and split group.

    ``group`` is the unit that splits keep together: the speaker for most datasets, the word
    for TESS (two speakers only), the voice variant for the synthetic corpus.
    """

    path: Path
    label: str
    speaker: str
    group: str


@dataclass(frozen=True)
class Item:
    """A file mapped onto the configured classes."""

    path: Path
    label: str
    target: int
    speaker: str
    group: str


def require_root(root: str | os.PathLike | None, dataset: str) -> Path:
    if not root:
        raise UserError(f"data.root is not set; give the {dataset} folder: data.root=/path/to/it")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise UserError(f"data.root={path} is not a folder; give the {dataset} folder")
    return path


def map_labels(
    raw: Sequence[RawItem],
    classes: Sequence[str],
    label_map: Mapping[str, str | None] | None,
    dataset: str,
) -> list[Item]:
    """Map dataset labels onto ``classes``: via ``label_map`` (label -> class, or null to drop),
    else by name; labels that are not classes are dropped (counted in the log)."""
    label_map = dict(label_map or {})
    bad = {k: v for k, v in label_map.items() if v is not None and v not in classes}
    if bad:
        raise UserError(
            f"data.label_map maps onto unknown class(es) {bad}; map onto one of {list(classes)} "
            "or null to drop"
        )
    items, dropped = [], Counter()
    for item in raw:
        label = label_map[item.label] if item.label in label_map else item.label
        if label is None or label not in classes:
            dropped[item.label] += 1
            continue
        items.append(Item(item.path, label, classes.index(label), item.speaker, item.group))
    if dropped:
        log.info("%s: dropped labels not in the class list: %s", dataset, dict(dropped))
    if not items:
        found = sorted({r.label for r in raw})
        raise UserError(
            f"{dataset}: no file has one of the classes {list(classes)} (labels found: "
            f"{found or 'none'}); check data.root, data.classes or data.label_map"
        )
    return items


def drop_unreadable(items: Sequence[Item], dataset: str) -> list[Item]:
    """Skip files soundfile cannot read or that hold no samples, with a counted warning."""
    import soundfile as sf

    kept, skipped = [], []
    for item in items:
        try:
            ok = sf.info(str(item.path)).frames > 0
        except Exception:  # noqa: BLE001 - any unreadable file is skipped the same way
            ok = False
        (kept if ok else skipped).append(item)
    if skipped:
        examples = ", ".join(p.path.name for p in skipped[:3])
        log.warning("%s: skipped %d unreadable or empty file(s) (e.g. %s)", dataset,
                    len(skipped), examples)
    if not kept:
        raise UserError(f"{dataset}: none of the {len(items)} files could be read")
    return kept


def split_by_group(
    items: Sequence[Item],
    seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    groups: Mapping[str, Sequence[str] | None] | None = None,
) -> dict[str, list[Item]]:
    """Seeded split that never puts one group (speaker) in two splits.

    ``groups`` may name the groups of any split explicitly ({"test": [...], ...}); a split
    named ``train`` with no list takes every remaining group. Otherwise the groups are shuffled
    with ``seed`` and cut by the fractions (at least one group each for val and test when
    there are three or more groups). With an explicit train list, groups named nowhere are
    left out (e.g. the judge's speakers when training the demo classifiers).
    """
    all_groups = sorted({i.group for i in items})
    explicit = {k: list(v) for k, v in (groups or {}).items() if v}
    unknown = sorted({g for v in explicit.values() for g in v} - set(all_groups))
    if unknown:
        raise UserError(f"data.split names unknown group(s) {unknown}; known: {all_groups}")
    assignment: dict[str, str] = {}
    for split, names in explicit.items():
        for name in names:
            if name in assignment:
                raise UserError(f"data.split puts group '{name}' in both {assignment[name]} "
                                f"and {split}")
            assignment[name] = split
    rest = [g for g in all_groups if g not in assignment]
    rng = np.random.default_rng(seed)
    rest = [rest[i] for i in rng.permutation(len(rest))]
    wanted = {"test": test_fraction, "val": val_fraction}
    for split in ("test", "val"):
        if split in explicit or not wanted[split]:
            continue
        k = int(round(wanted[split] * len(all_groups)))
        k = max(k, 1 if len(all_groups) >= 3 else 0)
        for name in rest[:k]:
            assignment[name] = split
        rest = rest[k:]
    if "train" not in explicit:  # an explicit train list leaves the other groups unused
        for name in rest:
            assignment[name] = "train"
    return {s: [i for i in items if assignment.get(i.group) == s] for s in SPLITS}


def load_waves(
    items: Sequence[Item], sample_rate: int, progress: bool = False, workers: int = 0
) -> list[torch.Tensor]:
    """Decode every item once (mono, resampled); datasets crop from memory each epoch.

    Threads, ``workers`` of them (0: the CPUs this process may use): decoding (libsndfile) and
    resampling (soxr) release the GIL, so they run in parallel without new processes."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    from amcli.audio import read_audio
    from amcli.workers import resolve_workers

    def load(item: Item) -> torch.Tensor:
        return read_audio(item.path, sample_rate)[0]

    threads = resolve_workers(workers, len(items) or 1)
    bar = tqdm(total=len(items), desc="loading audio", unit="clip", disable=not progress,
               leave=False)
    with bar, ThreadPoolExecutor(threads) as pool:
        waves = []
        for wave in pool.map(load, items):
            waves.append(wave)
            bar.update(1)
    return waves


def crop_or_pad(wave: torch.Tensor, length: int, offset: int | None = None) -> torch.Tensor:
    """A fixed-length window of ``wave``: cropped at ``offset`` (centre if None) or zero-padded
    around it, so short clips sit at the offset and long ones are cut."""
    n = wave.shape[-1]
    if n >= length:
        start = (n - length) // 2 if offset is None else min(max(offset, 0), n - length)
        return wave[..., start:start + length]
    pad = length - n
    left = pad // 2 if offset is None else min(max(offset, 0), pad)
    return torch.nn.functional.pad(wave, (left, pad - left))


class ClipDataset(torch.utils.data.Dataset):
    """Fixed-length clips from decoded waveforms; ``random_offset`` draws a new window each time
    (the time-shift augmentation), otherwise the window is centred."""

    def __init__(self, items: Sequence[Item], waves: Sequence[torch.Tensor], length: int,
                 random_offset: bool = False) -> None:
        self.items = list(items)
        self.waves = list(waves)
        self.length = int(length)
        self.random_offset = random_offset

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        wave = self.waves[index]
        offset = None
        if self.random_offset:
            span = abs(wave.shape[-1] - self.length)
            offset = int(torch.randint(0, span + 1, ()).item())
        return crop_or_pad(wave, self.length, offset), self.items[index].target

    def targets(self) -> list[int]:
        return [i.target for i in self.items]
