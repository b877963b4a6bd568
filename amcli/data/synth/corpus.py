"""Plan, render and write the synthetic corpus.

Layout of a corpus folder::

    <out>/metadata.csv              one row per clip (written last: its presence = complete)
    <out>/<label>/<label>_<speaker>_s<NN>_<KKKK>.wav   16 kHz mono PCM_16

Every clip's cues and noise are drawn from a seed derived from (seed, class, index), and the
plan is made before any rendering, so a corpus is bit-for-bit the same whatever the number of
worker processes.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from amcli.data.synth import espeak, source_filter
from amcli.data.synth.cues import (
    FAMILY_CUES,
    OTHERS,
    SYNTH_CLASSES,
    CueParams,
    apply_voice_quality,
    isolated_classes,
    sample_cues,
)
from amcli.data.synth.speakers import Speaker, select_speakers
from amcli.errors import UserError
from amcli.files import METADATA, atomic_write, folder_kind, write_marker
from amcli.workers import process_context, resolve_workers

#: A dozen short sentences (about 1.5 to 2.5 s at a neutral rate).
SENTENCES = (
    "The train leaves at seven tonight.",
    "I put the letter on the table.",
    "We walked home along the river.",
    "She opened the door and looked outside.",
    "They moved the meeting to Monday.",
    "My brother bought a new car.",
    "The coffee is on the kitchen counter.",
    "He read the whole book in one day.",
    "The children are playing in the garden.",
    "Our flight was delayed by an hour.",
    "You left your keys by the window.",
    "It is going to rain this afternoon.",
)

ENGINES = ("espeak", "numpy")
#: the kind of folder amcli synth makes (amcli.files.MARKER)
CORPUS_KIND = "synth-corpus"
CUE_COLUMNS = ("pitch_pct", "range_pct", "rate_pct", "gain_db", "level_db", "drive", "lowpass_hz")
COLUMNS = (
    "path", "label", "speaker", "sentence", "sentence_id", "engine", "seed",
    *CUE_COLUMNS, "duration_s", "write_gain", "isolate", "others",
)


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to render one clip, fixed before rendering starts."""

    path: str
    label: str
    speaker: Speaker
    sentence_id: int
    cues: CueParams
    seed: int
    #: cue-isolated corpora keep each clip's level through the voice-quality processing, so
    #: that a harsh or dark voice is not also a louder or quieter one
    keep_level: bool = False


def plan_corpus(
    engine: str,
    classes: Sequence[str],
    n_per_class: int,
    speakers: Sequence[Speaker],
    seed: int,
    jitter: float = 1.0,
    sentence_ids: Sequence[int] | None = None,
    isolate: Sequence[str] | None = None,
    others: str = "varied",
) -> list[ClipPlan]:
    """Balanced plan: each class cycles through a seeded shuffle of (speaker, sentence) pairs;
    ``isolate`` and ``others`` as for :func:`amcli.data.synth.cues.sample_cues`."""
    plans = []
    sentence_ids = range(len(SENTENCES)) if sentence_ids is None else sentence_ids
    pairs = [(s, k) for s in speakers for k in sentence_ids]
    for label in classes:
        class_index = SYNTH_CLASSES.index(label)
        order = np.random.default_rng([seed, class_index, 0]).permutation(len(pairs))
        for k in range(n_per_class):
            speaker, sentence_id = pairs[order[k % len(pairs)]]
            state = np.random.SeedSequence([seed, class_index, k + 1])
            item_seed = int(state.generate_state(1)[0])
            cues = sample_cues(label, np.random.default_rng(item_seed), jitter,
                               tuple(isolate) if isolate else None, others)
            name = f"{label}_{speaker.id}_s{sentence_id:02d}_{k:04d}.wav"
            plans.append(ClipPlan(f"{label}/{name}", label, speaker, sentence_id, cues, item_seed,
                                  keep_level=bool(isolate)))
    return plans


def render_clip(plan: ClipPlan, engine: str, sample_rate: int) -> np.ndarray:
    """Render one planned clip: engine prosody, then voice quality, gain and level."""
    text = SENTENCES[plan.sentence_id]
    if engine == "espeak":
        import torch

        from amcli.audio import resample  # torch is imported only where it is needed

        wave, rate = espeak.render(text, plan.speaker, plan.cues)
        if rate != sample_rate:
            wave = resample(torch.from_numpy(wave), rate, sample_rate).numpy()
    else:
        wave = source_filter.render(text, plan.speaker, plan.cues, sample_rate, plan.seed)
    return apply_voice_quality(wave, sample_rate, plan.cues, keep_level=plan.keep_level)


def _render_and_write(job: tuple[ClipPlan, str, int, str]) -> dict[str, object]:
    from amcli.audio import write_wav

    plan, engine, sample_rate, out = job
    wave = render_clip(plan, engine, sample_rate)
    gain = write_wav(Path(out) / plan.path, wave, sample_rate)
    return {
        "path": plan.path,
        "label": plan.label,
        "speaker": plan.speaker.id,
        "sentence": SENTENCES[plan.sentence_id],
        "sentence_id": plan.sentence_id,
        "engine": engine,
        "seed": plan.seed,
        **plan.cues.as_row(),
        "duration_s": round(len(wave) / sample_rate, 4),
        "write_gain": round(gain, 6),
    }


def _worker_init() -> None:
    # Like DataLoader workers: one intra-op thread per process, so N workers use N cores.
    import torch

    torch.set_num_threads(1)


def check_output(out: Path, overwrite: bool) -> None:
    """Refuse to mix corpora or to touch a folder amcli did not make.

    A non-empty folder is written into only when it is an amcli corpus (its ``.amcli`` marker,
    or, for corpora written before the marker, its metadata.csv) and ``overwrite`` is given;
    class-named subfolders alone prove nothing (they may hold the user's own recordings)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"out={out} is a file; give a folder path")
    if out.is_dir() and any(out.iterdir()):
        if folder_kind(out) != CORPUS_KIND and not (out / METADATA).is_file():
            raise UserError(f"out={out} is not empty and amcli did not write a corpus there; "
                            "choose a new or empty folder with out=DIR")
        if not overwrite:
            raise UserError(f"out={out} is not empty (an amcli corpus); choose a new folder "
                            "or pass overwrite=true to replace that corpus")


def prepare_output(out: Path, classes: Sequence[str], overwrite: bool) -> None:
    """Make the corpus folder; with ``overwrite`` remove the previous corpus' own files only:
    the clips its metadata.csv lists and the metadata itself (anything else stays, and a class
    folder that still holds something stays with it)."""
    check_output(out, overwrite)
    if out.is_dir() and overwrite and (out / METADATA).is_file():
        with open(out / METADATA, newline="") as handle:
            listed = [row.get("path") or "" for row in csv.DictReader(handle)]
        root = out.resolve()
        for rel in listed:
            path = (out / rel).resolve()
            if rel and root in path.parents and path.suffix.lower() == ".wav":
                path.unlink(missing_ok=True)
        (out / METADATA).unlink()
        for label in SYNTH_CLASSES:
            folder = out / label
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    out.mkdir(parents=True, exist_ok=True)
    write_marker(out, CORPUS_KIND)
    for label in classes:
        (out / label).mkdir(exist_ok=True)


def validate_request(
    engine: str,
    classes: Sequence[str],
    n_per_class: int,
    speakers: object,
    jitter: float,
    sample_rate: int,
    sentences: object = "all",
    isolate: Sequence[str] | None = None,
    others: str = "varied",
) -> tuple[list[str], list[Speaker], list[int]]:
    """Check a corpus request before anything is written: (unique classes, speakers, sentence
    ids) or UserError naming the problem and the fix."""
    if engine not in ENGINES:
        raise UserError(f"unknown engine '{engine}'; use one of {', '.join(ENGINES)}")
    unknown = [c for c in classes if c not in SYNTH_CLASSES]
    if unknown or not classes:
        raise UserError(
            f"the synthetic corpus has no class {unknown}; use a subset of "
            f"{', '.join(SYNTH_CLASSES)}"
        )
    if n_per_class < 1:
        raise UserError(f"n_per_class={n_per_class}; it must be at least 1")
    if isolate:
        check_isolation(list(isolate), list(classes))
    if others not in OTHERS:
        raise UserError(f"others={others}; use one of {', '.join(OTHERS)}")
    if jitter < 0:
        raise UserError(f"jitter={jitter}; it must be >= 0 (0 renders class prototypes)")
    if not 8000 <= sample_rate <= 48000:
        raise UserError(f"sample_rate={sample_rate}; use a rate between 8000 and 48000 Hz")
    chosen = select_speakers(engine, speakers)
    if engine == "espeak":
        espeak.require()
        for speaker in chosen:
            espeak.check_voice(speaker.voice)

    return list(dict.fromkeys(classes)), chosen, select_sentences(sentences)


def check_isolation(families: list[str], classes: list[str]) -> None:
    """A cue-isolated corpus needs known families and classes that they alone separate."""
    unknown = [f for f in families if f not in FAMILY_CUES]
    if unknown:
        raise UserError(f"isolate={families}: no cue family {unknown}; use any of "
                        f"{', '.join(FAMILY_CUES)}")
    allowed = isolated_classes(families)
    outside = [c for c in classes if c not in allowed]
    if outside:
        spelled = ",".join(families)
        raise UserError(f"isolate=[{spelled}] separates only {', '.join(allowed)}; "
                        f"give classes=[{','.join(allowed)}] (or a subset)")


def select_sentences(selection: object) -> list[int]:
    """Resolve ``sentences=all|[ids]`` to sentence ids, or raise UserError."""
    if selection in (None, "all"):
        return list(range(len(SENTENCES)))
    ids = [selection] if isinstance(selection, int | str) else list(selection)
    valid = range(len(SENTENCES))
    if not ids or any(not isinstance(i, int) or i not in valid for i in ids):
        raise UserError(
            f"sentences={selection}; use all or a list of ids from 0 to {len(SENTENCES) - 1}"
        )
    return list(dict.fromkeys(ids))


def write_corpus(
    out: str | os.PathLike,
    engine: str = "espeak",
    classes: Sequence[str] = SYNTH_CLASSES,
    n_per_class: int = 100,
    speakers: object = "train",
    sentences: object = "all",
    seed: int = 0,
    jitter: float = 1.0,
    sample_rate: int = 16000,
    workers: int = 0,
    overwrite: bool = False,
    progress: Callable[[int], object] | None = None,
    isolate: Sequence[str] | None = None,
    others: str = "varied",
) -> list[dict[str, object]]:
    """Write a corpus folder and its metadata.csv; returns the metadata rows. ``isolate``: the
    only cue families that differ between classes; ``others`` ("varied" or "neutral"): how the
    other families are drawn (:func:`amcli.data.synth.cues.sample_cues`).

    ``progress`` is called with the number of clips finished since the last call (tqdm's
    ``update``). Raises UserError for bad arguments before anything is written.
    """
    classes, chosen, sentence_ids = validate_request(
        engine, classes, n_per_class, speakers, jitter, sample_rate, sentences, isolate, others
    )
    if workers < 0:
        raise UserError(f"workers={workers}; give a number of processes, or 0 for all cores")
    out = Path(out)
    prepare_output(out, classes, overwrite)
    plans = plan_corpus(engine, classes, n_per_class, chosen, seed, jitter, sentence_ids,
                        isolate, others)
    jobs = [(plan, engine, sample_rate, str(out)) for plan in plans]
    workers = resolve_workers(workers, len(jobs))
    rows: list[dict[str, object]] = []
    if workers == 1:
        for job in jobs:
            rows.append(_render_and_write(job))
            if progress:
                progress(1)
    else:
        with ProcessPoolExecutor(workers, mp_context=process_context(),
                                 initializer=_worker_init) as pool:
            for row in pool.map(_render_and_write, jobs, chunksize=4):
                rows.append(row)
                if progress:
                    progress(1)
    for row in rows:  # which cue families alone differ between classes ("" = all of them)
        row["isolate"] = "+".join(isolate or ())
        row["others"] = others if isolate else ""
    _write_metadata(out / METADATA, rows)
    return rows


def _write_metadata(path: Path, rows: list[dict[str, object]]) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write)


def read_metadata(root: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a corpus' metadata.csv; UserError if the corpus is missing or incomplete."""
    path = Path(root) / METADATA
    if not path.is_file():
        raise UserError(
            f"{root} has no {METADATA}: not a complete amcli synth corpus; "
            "write one with `amcli synth out=DIR`"
        )
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
