"""Corpora whose class cue lies in one stretch of each clip: where in time a model must listen.

A cue-isolated corpus (``isolate=[family]``) tells its classes apart by one family of cues over
the whole clip. With ``stretch=S`` the isolated families carry the class only inside one stretch
of each clip, a share ``S`` of its speech; outside it they take neutral values, drawn alike for
every class. So only that stretch tells the classes apart, and an explanation of a model trained
on the corpus is right to put its evidence there and nowhere else: the time ground truth of
``bench/ground_truth_where.py``. Each clip's stretch is recorded in metadata.csv, in seconds.

Each clip is rendered twice with the same voice, sentence, seed and other cues: once with its
class values for the isolated families (inside), once with neutral ones (outside). The two are
spliced with short raised-cosine ramps at the stretch's edges, so outside the stretch the clip is
sample for sample the neutral rendering. That needs two renders with the same timing: true of
loudness and voice quality (applied after the engine), and of pitch with the NumPy engine; not of
tempo (a faster stretch moves the rest of the sentence), nor of pitch with espeak-ng (its timing
moves with the pitch by a few per cent), which are refused.

The stretch lies within the clip's speech (first to last active frame, amcli.activity), at a
random place per clip drawn from the clip's seed, or at ``stretch_at`` (a share of the speech).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from amcli.data.synth.corpus import (
    COLUMNS,
    CUE_COLUMNS,
    SENTENCES,
    ClipPlan,
    plan_corpus,
    prepare_output,
    render_clip,
    validate_request,
)
from amcli.data.synth.cues import FAMILY_CUES, CueParams, sample_cues
from amcli.data.synth.writing import run_jobs, write_metadata
from amcli.errors import UserError
from amcli.files import METADATA

#: the metadata columns a stretched corpus adds: where the stretch lies (seconds), its share of
#: the clip's speech, and the isolated cues outside it
STRETCH_COLUMNS = ("stretch_start_s", "stretch_end_s", "stretch_share",
                   *(f"outside_{cue}" for cue in CUE_COLUMNS))

#: each edge of the stretch fades over this long (half inside, half outside)
RAMP_S = 0.02

#: the families whose cues can be confined to a stretch, and the engines that allow it
SPLICEABLE = {"loudness": ("espeak", "numpy"), "voice": ("espeak", "numpy"), "pitch": ("numpy",)}


@dataclass(frozen=True)
class StretchPlan:
    """One clip of a stretched corpus: the clip's plan (its cues hold the class values), the
    cues outside the stretch, and the stretch's length and place as shares of the speech."""

    clip: ClipPlan
    outside: CueParams
    share: float
    at: float


def check_stretch(isolate: Sequence[str] | None, engine: str, share: float,
                  at: float | None) -> None:
    """UserError unless a stretch of ``share`` at ``at`` can be rendered for ``isolate``."""
    if not isolate:
        raise UserError("stretch needs isolate=[family]: the families whose cue lies in the "
                        "stretch (loudness, voice, or pitch with engine=numpy)")
    for family in isolate:
        engines = SPLICEABLE.get(family, ())
        if engine not in engines:
            why = ("a tempo change in one stretch moves the rest of the sentence"
                   if family == "tempo" else
                   "espeak-ng's timing moves with the pitch, so its renders cannot be spliced; "
                   "use engine=numpy")
            raise UserError(f"stretch with isolate=[{family}] and engine={engine}: {why}")
    if not 0 < share < 1:
        raise UserError(f"stretch={share}; give the share of each clip's speech that carries "
                        "the cue, between 0 and 1 (exclusive)")
    if at is not None and not 0 <= at <= 1 - share:
        raise UserError(f"stretch_at={at}; give where the stretch starts as a share of the "
                        f"speech, from 0 to {1 - share:g} (1 - stretch), or null for a random "
                        "place per clip")


def plan_stretches(plans: Sequence[ClipPlan], isolate: Sequence[str], share: float,
                   at: float | None, jitter: float = 1.0) -> list[StretchPlan]:
    """Each clip's outside cues (the neutral values of the isolated families, drawn from the
    clip's seed) and the stretch's place (``at``, or drawn from the clip's seed)."""
    fields = [cue for family in isolate for cue in FAMILY_CUES[family]]
    out = []
    for plan in plans:
        rng = np.random.default_rng([plan.seed, 1])
        neutral = sample_cues("neutral", rng, jitter, tuple(isolate), "neutral")
        outside = replace(plan.cues, **{cue: getattr(neutral, cue) for cue in fields})
        place = float(rng.uniform(0.0, 1.0 - share)) if at is None else float(at)
        out.append(StretchPlan(plan, outside, share, place))
    return out


def speech_span(wave: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """First and last sample of the clip's speech: its active frames (amcli.activity, 16 ms
    hops at any rate)."""
    import torch

    from amcli.activity import active_frames

    hop = max(1, round(0.016 * sample_rate))
    active = active_frames(torch.from_numpy(np.ascontiguousarray(wave, np.float32))[None],
                           hop=hop, frame=4 * hop)[0].numpy()
    frames = np.flatnonzero(active)
    if frames.size == 0:
        return 0, len(wave)
    return int(frames[0] * hop), int(min((frames[-1] + 1) * hop, len(wave)))


def splice_weight(n: int, start: int, end: int, ramp: int) -> np.ndarray:
    """[n] weights of the inside render: 1 in [start, end), 0 outside, raised-cosine ramps of
    ``ramp`` samples centred on the two edges."""
    t = np.arange(n, dtype=np.float64)
    half = max(ramp, 1) / 2.0

    def rise(edge: float) -> np.ndarray:
        x = np.clip((t - (edge - half)) / (2 * half), 0.0, 1.0)
        return 0.5 - 0.5 * np.cos(np.pi * x)

    return rise(start) * (1.0 - rise(end))


def render_stretched(plan: StretchPlan, engine: str, sample_rate: int
                     ) -> tuple[np.ndarray, float, float]:
    """The spliced clip and its stretch (start, end) in seconds."""
    outside = render_clip(replace(plan.clip, cues=plan.outside), engine, sample_rate)
    inside = render_clip(plan.clip, engine, sample_rate)
    if len(inside) != len(outside):
        raise RuntimeError(f"{plan.clip.path}: the inside and outside renders differ in length "
                           f"({len(inside)} and {len(outside)} samples); they cannot be spliced")
    first, last = speech_span(outside, sample_rate)
    start = first + round(plan.at * (last - first))
    end = max(start + 1, start + round(plan.share * (last - first)))
    weight = splice_weight(len(inside), start, end, round(RAMP_S * sample_rate))
    wave = outside * (1.0 - weight) + inside * weight
    return wave.astype(np.float32), start / sample_rate, end / sample_rate


def _render_and_write(job: tuple[StretchPlan, str, int, str]) -> dict[str, object]:
    from amcli.audio import write_wav

    plan, engine, sample_rate, out = job
    wave, start_s, end_s = render_stretched(plan, engine, sample_rate)
    gain = write_wav(Path(out) / plan.clip.path, wave, sample_rate)
    clip = plan.clip
    outside = plan.outside.as_row()
    return {
        "path": clip.path, "label": clip.label, "speaker": clip.speaker.id,
        "sentence": SENTENCES[clip.sentence_id], "sentence_id": clip.sentence_id,
        "engine": engine, "seed": clip.seed, **clip.cues.as_row(),
        "duration_s": round(len(wave) / sample_rate, 4), "write_gain": round(gain, 6),
        "stretch_start_s": round(start_s, 4), "stretch_end_s": round(end_s, 4),
        "stretch_share": plan.share,
        **{f"outside_{cue}": outside[cue] for cue in CUE_COLUMNS},
    }


def write_stretched_corpus(
    out: str | os.PathLike,
    isolate: Sequence[str],
    stretch: float,
    stretch_at: float | None = None,
    engine: str = "numpy",
    classes: Sequence[str] = ("neutral", "sad", "angry"),
    n_per_class: int = 100,
    speakers: object = "train",
    sentences: object = "all",
    seed: int = 0,
    jitter: float = 1.0,
    sample_rate: int = 16000,
    workers: int = 0,
    overwrite: bool = False,
    progress: Callable[[int], object] | None = None,
    others: str = "varied",
) -> list[dict[str, object]]:
    """Write a corpus whose ``isolate`` families carry the class only inside one stretch of each
    clip (a share ``stretch`` of its speech, starting at ``stretch_at`` of it, or at a random
    place); the other arguments as for :func:`amcli.data.synth.corpus.write_corpus`, whose
    clips, seeds and cues it shares. Returns the metadata rows; UserError before anything is
    written when the request cannot be rendered."""
    classes, chosen, sentence_ids = validate_request(
        engine, classes, n_per_class, speakers, jitter, sample_rate, sentences, isolate, others
    )
    check_stretch(isolate, engine, stretch, stretch_at)
    if workers < 0:
        raise UserError(f"workers={workers}; give a number of processes, or 0 for all cores")
    out = Path(out)
    prepare_output(out, classes, overwrite)
    plans = plan_stretches(plan_corpus(engine, classes, n_per_class, chosen, seed, jitter,
                                       sentence_ids, isolate, others),
                           isolate, stretch, stretch_at, jitter)
    jobs = [(plan, engine, sample_rate, str(out)) for plan in plans]
    rows = run_jobs(_render_and_write, jobs, workers, progress)
    for row in rows:
        row["isolate"] = "+".join(isolate)
        row["others"] = others
    write_metadata(out / METADATA, rows, (*COLUMNS, *STRETCH_COLUMNS))
    return rows
