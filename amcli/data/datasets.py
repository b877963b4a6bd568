"""The dataset layouts amcli reads: RAVDESS, TESS, CREMA-D, a plain folder, the synth corpus.

Each ``list_*`` function walks one layout and returns ``RawItem``s in the dataset's own label
vocabulary (normalized to lower-case emotion names); :mod:`amcli.data.base` does the rest.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

from amcli.data.base import AUDIO_SUFFIXES, RawItem
from amcli.errors import UserError
from amcli.files import METADATA

log = logging.getLogger(__name__)

RAVDESS_EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
    "07": "disgust", "08": "surprised",
}
RAVDESS_NAME = re.compile(
    r"^(?P<modality>\d\d)-(?P<channel>\d\d)-(?P<emotion>\d\d)-(?P<intensity>\d\d)-"
    r"(?P<statement>\d\d)-(?P<repetition>\d\d)-(?P<actor>\d\d)$"
)
TESS_EMOTIONS = {
    "angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy",
    "neutral": "neutral", "ps": "surprised", "sad": "sad",
}
CREMAD_EMOTIONS = {
    "ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral",
    "SAD": "sad",
}


def _audio_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES
                  and p.is_file())


def list_ravdess(root: Path, include_song: bool = False) -> list[RawItem]:
    """``Actor_NN/MM-VV-EE-II-SS-RR-NN.wav``: modality 03 = audio-only, vocal channel 01 speech
    / 02 song, emotion EE (01 neutral ... 08 surprised), actor NN (the speaker)."""
    items = []
    for path in _audio_files(root):
        match = RAVDESS_NAME.match(path.stem)
        if not match or match["modality"] != "03":
            continue
        if match["channel"] == "02" and not include_song:
            continue
        emotion = RAVDESS_EMOTIONS.get(match["emotion"])
        if emotion is None:
            continue
        actor = f"actor{match['actor']}"
        items.append(RawItem(path, emotion, actor, actor))
    return items


def list_tess(root: Path) -> list[RawItem]:
    """``<SPK>_<emotion>/<SPK>_<word>_<emotion>.wav`` with inconsistent folder casing: the
    label is the file name's last token (``ps`` = pleasant surprise). TESS has two speakers,
    so splits hold out words instead (the group is the word)."""
    items = []
    for path in _audio_files(root):
        tokens = path.stem.split("_")
        if len(tokens) < 3:
            continue
        emotion = TESS_EMOTIONS.get(tokens[-1].lower())
        if emotion is None:
            continue
        speaker, word = tokens[0].upper(), "_".join(tokens[1:-1]).lower()
        items.append(RawItem(path, emotion, speaker, f"word:{word}"))
    if items:
        log.warning("TESS has only two speakers: splitting by word, not by speaker")
    return items


def list_cremad(root: Path) -> list[RawItem]:
    """``AudioWAV/<actor>_<sentence>_<EMO>_<level>.wav`` (or the files directly in root)."""
    folder = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
    items = []
    for path in _audio_files(folder):
        tokens = path.stem.split("_")
        if len(tokens) != 4 or tokens[2] not in CREMAD_EMOTIONS:
            continue
        items.append(RawItem(path, CREMAD_EMOTIONS[tokens[2]], tokens[0], tokens[0]))
    return items


def list_folder(root: Path, speaker_pattern: str | None = None) -> list[RawItem]:
    """``<class>/<file>``: the sub-folder is the label. Speakers come from
    ``speaker_pattern`` (a regex whose first group, searched in the file name, is the speaker);
    without it every file is its own group and the split is not speaker-independent."""
    try:
        pattern = re.compile(speaker_pattern) if speaker_pattern else None
    except re.error as err:
        raise UserError(f"data.speaker_pattern='{speaker_pattern}' is not a valid regex "
                        f"({err}); e.g. data.speaker_pattern='^(s\\d+)-'") from None
    items = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in _audio_files(sub):
            speaker = path.stem
            if pattern:
                match = pattern.search(path.name)
                if not match:
                    raise UserError(f"data.speaker_pattern does not match {path.name}")
                speaker = match.group(1) if match.groups() else match.group(0)
            items.append(RawItem(path, sub.name.lower(), speaker, speaker))
    if items and not pattern:
        log.warning("folder dataset without data.speaker_pattern: split by file, not by speaker")
    return items


def list_synth(root: Path) -> list[RawItem]:
    """The corpus of ``amcli synth`` via its metadata.csv. The split group is the voice
    variant (``m3`` for en-m3 and en-us-m3, which share a voice), so held-out speakers are
    really unheard voices."""
    path = root / METADATA
    if not path.is_file():
        raise UserError(
            f"{root} has no {METADATA}: not a complete amcli synth corpus; write one with "
            "`amcli synth out=DIR`"
        )
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [RawItem(root / r["path"], r["label"], r["speaker"], r["speaker"].rsplit("-", 1)[-1])
            for r in rows]


DATASETS = {
    "ravdess": list_ravdess,
    "tess": list_tess,
    "cremad": list_cremad,
    "folder": list_folder,
    "synth": list_synth,
}
