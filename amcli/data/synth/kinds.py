"""Which kind of corpus a request asks for (plain or cue-isolated, stretched, combined), checked
before anything is written, and the writer that makes it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from amcli.data.synth.combine import check_combination, chosen_classes, write_combined_corpus
from amcli.data.synth.corpus import validate_request, write_corpus
from amcli.data.synth.stretch import check_stretch, write_stretched_corpus
from amcli.errors import UserError


@dataclass(frozen=True)
class CorpusRequest:
    """A checked request: the writer, the classes it writes and its own options (beside the
    ones every writer takes: engine, n_per_class, speakers, sentences, seed, jitter,
    sample_rate, workers, overwrite, progress, others)."""

    write: Callable[..., list[dict[str, object]]]
    classes: list[str]
    options: dict[str, Any] = field(default_factory=dict)


def resolve_request(engine: str, classes: Sequence[str] | None, n_per_class: int,
                    speakers: object, jitter: float, sample_rate: int, sentences: object,
                    others: str, isolate: Sequence[str] = (), combine: Sequence[str] = (),
                    stretch: float | None = None, stretch_at: float | None = None
                    ) -> CorpusRequest:
    """The corpus a request describes, or UserError naming what is wrong and the fix.
    ``classes`` None: the kind's own (every emotion, or a combination's four)."""
    isolate, combine = list(isolate), list(combine)
    if combine:
        if isolate or stretch is not None or stretch_at is not None:
            raise UserError("combine makes its own classes from two families; leave out "
                            "isolate and stretch (they describe another kind of corpus)")
        check_combination(combine)
        chosen = chosen_classes(combine, classes)
        validate_request(engine, ["neutral"], n_per_class, speakers, jitter, sample_rate,
                         sentences, None, others)
        return CorpusRequest(write_combined_corpus, chosen, {"combine": combine})
    from amcli.data.synth.cues import SYNTH_CLASSES

    chosen, _, _ = validate_request(engine, list(classes or SYNTH_CLASSES), n_per_class,
                                    speakers, jitter, sample_rate, sentences, isolate, others)
    if stretch is not None:
        check_stretch(isolate, engine, stretch, stretch_at)
        return CorpusRequest(write_stretched_corpus, chosen,
                             {"isolate": isolate, "stretch": stretch, "stretch_at": stretch_at})
    if stretch_at is not None:
        raise UserError("stretch_at is where a stretch starts; give stretch=S as well (the "
                        "share of each clip's speech that carries the class cue)")
    return CorpusRequest(write_corpus, chosen, {"isolate": isolate})
