"""Corpora whose classes differ by a combination of two cue families: which cues together.

A cue-isolated corpus (``isolate=[family]``) has classes that one family tells apart. Real
classes differ in several cues at once, and a model may need two of them together. With
``combine=[pitch,loudness]`` each class is one level of each family: low or high pitch, soft or
loud, four classes named ``low_soft``, ``low_loud``, ``high_soft`` and ``high_loud``; every
other family is drawn alike for every class (``others``, as for a cue-isolated corpus). A model
trained on it needs both families: the pitch alone cannot tell ``high_soft`` from ``high_loud``.
So an attribution of it must name both, and from a ``low_soft`` clip, neither family alone
reaches ``high_loud``: the case a reading that names one family would get wrong.

Each family's two levels are the values its cue-isolated corpus gives its two non-neutral classes
(amcli.data.synth.cues.ISOLATED): pitch low = sad's, high = happy's; loudness soft = sad's,
loud = angry's; tempo slow = sad's, fast = angry's; voice dark = sad's, harsh = angry's.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from amcli.data.synth.corpus import (
    COLUMNS,
    SENTENCES,
    ClipPlan,
    _render_and_write,
    prepare_output,
    validate_request,
)
from amcli.data.synth.cues import FAMILY_CUES, OTHERS, CueParams, sample_cues
from amcli.data.synth.speakers import Speaker
from amcli.data.synth.writing import run_jobs, write_metadata
from amcli.errors import UserError
from amcli.files import METADATA

#: per family, its two levels and the isolated class whose values each one takes
LEVELS: dict[str, dict[str, str]] = {
    "pitch": {"low": "sad", "high": "happy"},
    "loudness": {"soft": "sad", "loud": "angry"},
    "tempo": {"slow": "sad", "fast": "angry"},
    "voice": {"dark": "sad", "harsh": "angry"},
}


def check_combination(families: Sequence[str]) -> None:
    """UserError unless ``families`` are two different known families."""
    unknown = [f for f in families if f not in LEVELS]
    if unknown:
        raise UserError(f"combine={list(families)}: no cue family {unknown}; use two of "
                        f"{', '.join(LEVELS)}")
    if len(families) != 2 or families[0] == families[1]:
        raise UserError(f"combine={list(families)}; name two different families, e.g. "
                        "combine=[pitch,loudness]")


def combined_classes(families: Sequence[str]) -> list[str]:
    """The four classes of a combination: every level of the first family with every level of
    the second (``low_soft``, ``low_loud``, ``high_soft``, ``high_loud`` for pitch, loudness)."""
    check_combination(families)
    first, second = (LEVELS[f] for f in families)
    return [f"{a}_{b}" for a, b in itertools.product(first, second)]


def chosen_classes(families: Sequence[str], classes: Sequence[str] | None) -> list[str]:
    """``classes`` (None: all four) checked against the combination's; UserError naming them."""
    allowed = combined_classes(families)
    chosen = list(dict.fromkeys(classes or allowed))
    outside = [c for c in chosen if c not in allowed]
    if outside:
        raise UserError(f"combine=[{','.join(families)}] has the classes {', '.join(allowed)}; "
                        f"{', '.join(outside)} is not one of them (give classes=[...] as a "
                        "subset, or leave classes out)")
    return chosen


def class_levels(label: str, families: Sequence[str]) -> dict[str, str]:
    """{family: level} of one combined class."""
    levels = dict(zip(families, label.split("_"), strict=True))
    for family, level in levels.items():
        if level not in LEVELS[family]:
            raise UserError(f"{label} is not a class of combine={list(families)}; use "
                            f"{', '.join(combined_classes(families))}")
    return levels


def combined_cues(label: str, families: Sequence[str], rng: np.random.Generator,
                  jitter: float = 1.0, others: str = "varied") -> CueParams:
    """One clip's cues: each family of the combination at the isolated values of its level, the
    other families drawn alike for every class (``others``)."""
    levels = class_levels(label, families)
    cues = sample_cues("neutral", rng, jitter, tuple(families), others)
    for family, level in levels.items():
        drawn = sample_cues(LEVELS[family][level], rng, jitter, (family,), "neutral")
        cues = replace(cues, **{cue: getattr(drawn, cue) for cue in FAMILY_CUES[family]})
    return cues


def plan_combined(classes: Sequence[str], families: Sequence[str], n_per_class: int,
                  speakers: Sequence[Speaker], seed: int, jitter: float = 1.0,
                  sentence_ids: Sequence[int] | None = None, others: str = "varied"
                  ) -> list[ClipPlan]:
    """Balanced plan, as :func:`amcli.data.synth.corpus.plan_corpus`: each class cycles through
    a seeded shuffle of (speaker, sentence) pairs, each clip's cues drawn from its own seed."""
    all_classes = combined_classes(families)
    sentence_ids = range(len(SENTENCES)) if sentence_ids is None else sentence_ids
    pairs = [(s, k) for s in speakers for k in sentence_ids]
    plans = []
    for label in classes:
        index = 100 + all_classes.index(label)  # apart from the plain corpus' class seeds
        order = np.random.default_rng([seed, index, 0]).permutation(len(pairs))
        for k in range(n_per_class):
            speaker, sentence_id = pairs[order[k % len(pairs)]]
            item_seed = int(np.random.SeedSequence([seed, index, k + 1]).generate_state(1)[0])
            cues = combined_cues(label, families, np.random.default_rng(item_seed), jitter,
                                 others)
            name = f"{label}_{speaker.id}_s{sentence_id:02d}_{k:04d}.wav"
            plans.append(ClipPlan(f"{label}/{name}", label, speaker, sentence_id, cues,
                                  item_seed, keep_level=True))
    return plans


def write_combined_corpus(
    out: str | os.PathLike,
    combine: Sequence[str],
    classes: Sequence[str] | None = None,
    engine: str = "espeak",
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
    """Write a corpus whose classes are the combinations of two families' levels (``classes``:
    a subset of :func:`combined_classes`, default all four); the other arguments as for
    :func:`amcli.data.synth.corpus.write_corpus`. Returns the metadata rows; UserError before
    anything is written when the request is wrong."""
    families = list(combine)
    classes = chosen_classes(families, classes)
    if others not in OTHERS:
        raise UserError(f"others={others}; use one of {', '.join(OTHERS)}")
    _, chosen, sentence_ids = validate_request(engine, ["neutral"], n_per_class, speakers,
                                               jitter, sample_rate, sentences)
    if workers < 0:
        raise UserError(f"workers={workers}; give a number of processes, or 0 for all cores")
    out = Path(out)
    prepare_output(out, classes, overwrite)
    plans = plan_combined(classes, families, n_per_class, chosen, seed, jitter, sentence_ids,
                          others)
    rows = run_jobs(_render_and_write, [(p, engine, sample_rate, str(out)) for p in plans],
                    workers, progress)
    for row in rows:  # the families that alone differ between classes, as for isolate
        row["isolate"] = "+".join(families)
        row["others"] = others
    write_metadata(out / METADATA, rows, COLUMNS)
    return rows
