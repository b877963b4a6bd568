"""The types of ``metrics.json``: one record per run, its items, its summary, its sanity check.

Every field is declared here once, as a typed dict validated by pydantic, with what it means;
what a method adds comes from the method itself (``AMMethod.record_type``, ``summary_type``,
``run_type``), so a new method's fields enter the record, its checks and its schema without a
change here. Two uses:

- :func:`check_record` is the writer's check: a record that breaks its types (a field not
  declared, a probability outside [0, 1], a missing required field) is a bug, refused before it
  is written as a finished run.
- :func:`metrics_json_schema` renders the JSON Schema shipped as
  ``amcli/report/metrics.schema.json`` (``python -m amcli.report.record`` writes it; a test fails
  when the shipped file is stale). Unlike the writer, the shipped schema lets readers meet keys
  it does not list, so files of later versions still validate.
"""

import json
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import NotRequired, Required, TypedDict, get_type_hints

from amcli.am.methods import METHODS
from amcli.am.methods.base import STRICT, described, probability

#: the kinds of run that write metrics.json, by command
KINDS = ("optimize", "evaluate", "train-classifier", "train-prior")
STATUSES = ("running", "done", "interrupted", "failed")
STOP_REASONS = ("threshold", "max_steps", "nonfinite", "interrupted", "plateau")
VERDICTS = ("reached", "not reached", "not an explanation")

Probabilities = described(dict[str, Annotated[float, Field(ge=0, le=1)]],
                          "class -> probability, in the classifier's class order")
Cue = float | None


class Cues(TypedDict, total=False):
    """Acoustic cues of amcli.metrics.cues (null: undefined, e.g. no voiced frame)."""

    __pydantic_config__ = ConfigDict(extra="allow")
    rms_db: described(Cue, "RMS level over active frames, dB")
    f0_mean_hz: described(Cue, "mean F0 over voiced frames (pyin, 60-500 Hz), Hz")
    f0_spread_st: described(Cue, "F0 standard deviation, semitones")
    voiced_fraction: described(Cue, "share of active frames that are voiced")
    centroid_hz: described(Cue, "mean spectral centroid, Hz")
    onset_rate: described(Cue, "onsets per second of active speech")
    active_s: described(Cue, "seconds of active (non-silent) audio")


CueShift = described(dict[str, Cue], "output - reference per cue; F0 mean as f0_mean_st in "
                                     "semitones")


class CueComparison(TypedDict):
    """An output's cues beside its reference's."""

    __pydantic_config__ = STRICT
    output: Cues
    reference: Cues
    reference_is: described(str, "what the output is compared with")
    shift: CueShift


class History(TypedDict):
    """Every record_every steps, as columns of equal length."""

    __pydantic_config__ = STRICT
    step: list[int]
    objective: described(list[float | None], "the objective for the target")
    target_prob: described(list[float | None], "target probability")
    penalty: NotRequired[described(list[float | None], "the regularizers' total")]


class LastStep(TypedDict, total=False):
    """The last evaluated step's figures, beside the best state's."""

    __pydantic_config__ = STRICT
    step: int
    target_prob: float | None
    objective: float | None


class ItemCore(TypedDict):
    """What every item of an optimize run holds, whatever its method."""

    target: described(str, "the class the item asks for")
    restart: described(int, "which restart of its (clip, target)", ge=0)
    variant: NotRequired[described(str, "a variant of the method (e.g. prosody attribution's "
                                        "family optimized alone, or 'all')")]
    answer: described(bool, "the item is an answer of the run; false: evidence for one (a "
                            "control or restricted variant), left out of summaries and counts")
    input: described(str | None, "the clip (relative to the run folder); null for outputs from "
                                 "noise or a latent")
    output: described(str, "the output WAV, relative to the run folder")
    output_gain: described(float, "the peak limiter's gain on the WAV (1: untouched)", gt=0,
                           le=1)
    seed: described(int, "the item's own seed, from the run's seed and the item's identity")
    probs: Probabilities
    target_prob: probability()
    margin: described(float, "target logit minus the largest other logit")
    steps: described(int, "steps the item ran", ge=0)
    stop_reason: described(
        Literal[STOP_REASONS],  # type: ignore[valid-type]
        "threshold: reached the stop threshold; max_steps: ran every step; nonfinite: its loss "
        "or gradient turned NaN/inf; interrupted: Ctrl-C or a scheduler's signal; plateau: its "
        "best state had not improved for `patience` steps")
    best_step: NotRequired[described(int, "the step whose state the item holds: the best state "
                                          "by the method's criterion, not the last", ge=0)]
    last: NotRequired[LastStep | None]
    baseline_prob: NotRequired[described(
        float | None, "target p of the item's input without any edit, as the method renders "
        "it (the clip; prosody: its unedited resynthesis)", ge=0, le=1)]
    judge_probs: NotRequired[described(dict[str, Annotated[float, Field(ge=0, le=1)]],
                                       "class -> probability, in the judge's class order")]
    judge_prob: NotRequired[described(float | None, "the judge's probability of the target",
                                      ge=0, le=1)]
    judge_top1: NotRequired[str]
    cues: NotRequired[described(CueComparison | None, "acoustic cues of the output and its "
                                                      "reference; null with cues=false")]
    history: NotRequired[described(History, "every record_every steps, as columns of equal "
                                             "length")]
    verdict: NotRequired[described(
        Literal[VERDICTS],  # type: ignore[valid-type]
        "reached: p >= `reached` and the method's own goal holds; not an explanation: reached, "
        "but a control refutes it")]
    verdict_reasons: NotRequired[described(list[str], "why the verdict is not 'reached', in "
                                                      "words")]


class TargetSummary(TypedDict):
    """One target's answers."""

    __pydantic_config__ = STRICT
    items: Annotated[int, Field(ge=1)]
    median_target_prob: probability()
    min_target_prob: probability()
    median_judge_prob: NotRequired[float | None]


class VerdictCounts(TypedDict):
    """How many answer items have each verdict."""

    __pydantic_config__ = STRICT
    reached: Annotated[int, Field(ge=0)]
    not_reached: Annotated[int, Field(ge=0, alias="not reached")]
    not_an_explanation: Annotated[int, Field(ge=0, alias="not an explanation")]


class VariantStats(TypedDict):
    """One variant's restarts."""

    __pydantic_config__ = STRICT
    best: probability("the best restart's p: the variant's figure")
    second: described(float | None, "the second-best restart's p (null with one restart); best "
                      "- second is the uncertainty the reading uses", ge=0, le=1)
    median: probability()
    min: probability()
    max: probability()
    n: Annotated[int, Field(ge=1)]


class AttributionRow(TypedDict):
    """One target's attribution: the baseline, each variant's figures, and the reading."""

    __pydantic_config__ = STRICT
    baseline: described(float | None, "target p without any edit (e.g. the unedited "
                                      "resynthesis)")
    variants: dict[str, VariantStats]
    leader: described(str | None, "the family whose best restart leads the runner-up's by more "
                      "than the larger gap between either's two best restarts (and 5% of its "
                      "best); null: none or a tie")
    tie: list[str]
    counted: described(list[str], "families whose best exceeds the no-edit baseline by more "
                       "than their spread (and 0.02), and by 1 in log-odds")
    reading: str


class Frechet(TypedDict, total=False):
    """A Fréchet distance and a kernel inception distance in the judge's embedding space."""

    __pydantic_config__ = ConfigDict(extra="allow")
    frechet: Required[float]
    kid: Required[float]
    kid_std: float | None


class Distance(TypedDict, total=False):
    """frechet_reference=DIR: distances in the judge's embedding space."""

    __pydantic_config__ = ConfigDict(extra="allow")
    n_outputs: int
    n_reference: int
    embedding_dim: int
    outputs: Frechet
    real_at_same_n: described(Frechet, "real clips at the outputs' N (20 draws)")
    noise_at_same_n: described(Frechet, "white noise at the real level, same N")
    note: described(str, "why no distance was computed")


class SummaryCore(TypedDict):
    """A run's summary, whatever its method."""

    targets: dict[str, TargetSummary]
    verdicts: NotRequired[described(VerdictCounts, "how many answer items have each verdict")]
    transfer_rate: NotRequired[described(float, "share of items the judge hears as their "
                                                "target", ge=0, le=1)]
    judge_off: NotRequired[described(str, "why there is no transfer rate")]
    attribution: NotRequired[described(
        dict[str, AttributionRow], "with variants (prosody.attribution=true): per target the "
        "no-edit baseline, each variant's reached p over restarts (its figure: the best "
        "restart), and which one leads")]
    distance_to_real: NotRequired[Distance]


class SanityItem(TypedDict):
    """One item of the sanity check, on a randomized classifier."""

    __pydantic_config__ = STRICT
    target: str
    restart: int
    target_prob: probability()
    profile_spearman: NotRequired[described(float | None, "rank correlation of the explanation "
                                                          "with the trained model's")]
    cues: NotRequired[Cues]
    cue_shift: NotRequired[CueShift]


class SanityLevel(TypedDict):
    """The same items on a classifier randomized from one layer down (Adebayo et al. 2018)."""

    __pydantic_config__ = STRICT
    layers: list[str]
    parameters_changed: str
    items: list[SanityItem]
    median_profile_spearman: float | None


class RunCore(TypedDict):
    """Facts of every run: versions, device, seed, the command, and when."""

    __pydantic_config__ = ConfigDict(extra="allow")
    amcli_version: described(str, "the amcli that wrote the record")
    torch_version: described(str, "the torch it ran with")
    device: described(str, "the device the run used (cpu, cuda:0, mps)")
    seed: described(int | None, "the run's seed; null for commands that draw nothing at random "
                                "(evaluate)")
    command_line: described(str, "the command as typed, shell-quoted")
    overrides: described(list[str], "Hydra overrides of the run")
    started: described(str, "ISO 8601 time")
    finished: NotRequired[described(str, "ISO 8601 time")]


class ClassifierInfo(TypedDict):
    """The classifier a run explained."""

    __pydantic_config__ = STRICT
    name: str
    sha256: described(str | None, "sha256 of the weights file; null for a custom model built "
                                  "without one")
    multi_label: NotRequired[described(
        bool, "the classifier's labels are independent sigmoids (a multi-label tagger): every "
        "probability in this record is the label's sigmoid, not a softmax's share")]


class JudgeInfo(TypedDict):
    """The independent classifier that scored the outputs."""

    __pydantic_config__ = STRICT
    name: str
    sha256: NotRequired[str]
    off: NotRequired[described(str, "why the judge could not score this classifier's outputs "
                                    "(other classes, another rate)")]


class ClipSeconds(TypedDict):
    """What the classifier heard per clip."""

    __pydantic_config__ = STRICT
    option: float | None
    heard: str


class OptimizeRunCore(RunCore, total=False):
    """An optimize run's facts (a run that failed before its setup was complete may lack some
    of these)."""

    method: described(str, "the AM method (method=)")
    lr: described(float, "the learning rate used (the method's default unless lr= was given)",
                  gt=0)
    classifier: ClassifierInfo
    judge: described(JudgeInfo | None, "the independent classifier that scored the outputs; "
                                       "null with judge=null")
    batch: described(int, "items per optimization batch", ge=1)
    clip_seconds: described(ClipSeconds, "what the classifier heard per clip: the clip_seconds "
                                         "option and its meaning")


def _fields(typed: type) -> dict[str, tuple[Any, bool]]:
    """A typed dict's fields: name -> (type, required), with its annotations resolved in the
    module that wrote them."""
    fields = {}
    for key, kind in get_type_hints(typed, include_extras=True).items():
        wrapper = get_origin(kind)
        if wrapper in (NotRequired, Required):
            fields[key] = (get_args(kind)[0], wrapper is Required)
        else:
            fields[key] = (kind, key in typed.__required_keys__)
    return fields


def _merged(name: str, core: type, part: str, doc: str, strict: bool = True) -> type:
    """``core``'s fields and every method's ``part`` type's, as one typed dict (a method's
    fields are optional: other methods' items lack them). A method that redeclares a common
    field, or two that declare one field with different types, are an error."""
    fields = _fields(core)
    owners: dict[str, str] = {}
    for method in METHODS.values():
        own = getattr(method, part)
        for key, (kind, _) in (_fields(own) if own is not None else {}).items():
            if key in fields and key not in owners:
                raise TypeError(f"method {method.name}'s {part} redeclares the common field "
                                f"'{key}'")
            if key in owners and fields[key][0] != kind:
                raise TypeError(f"methods {owners[key]} and {method.name} declare '{key}' "
                                "with different types")
            fields[key], owners[key] = (kind, False), method.name
    merged = TypedDict(name, {k: Required[t] if required else NotRequired[t]  # type: ignore
                              for k, (t, required) in fields.items()})
    merged.__doc__ = doc
    merged.__pydantic_config__ = STRICT if strict else ConfigDict(extra="allow")
    return merged


@cache
def record_types() -> dict[str, type]:
    """The record's types, with every method's parts merged in (built once)."""
    item_type = _merged("Item", ItemCore, "record_type",
                   "One (clip, target, restart) of an optimize run and what its method found.")
    summary_type = _merged("Summary", SummaryCore, "summary_type",
                           "A run's summary of its answers.")
    run_type = _merged("OptimizeRun", OptimizeRunCore, "run_type", OptimizeRunCore.__doc__,
                  strict=False)

    class Common(TypedDict):
        kind: described(Literal[KINDS], "the command that wrote it")  # type: ignore[valid-type]
        status: described(Literal[STATUSES],  # type: ignore[valid-type]
                          "running while the run goes on (rewritten after every chunk), then "
                          "how it ended")
        interrupted_by: NotRequired[described(str, "the signal that ended an interrupted run "
                                                   "(SIGINT, SIGTERM, SIGUSR2)")]
        error: NotRequired[described(str, "a failed run's error, in one line")]
        error_kind: NotRequired[described(
            Literal["usage", "bug"], "what a failed run's error was: usage (a mistake amcli "
            "named: exit 2) or bug (anything else: exit 1)")]

    class Optimize(Common):
        """What ``amcli optimize`` writes."""

        __pydantic_config__ = STRICT
        kind: Literal["optimize"]
        run: described(run_type, "what the run used")  # type: ignore[valid-type]
        items: NotRequired[described(list[item_type],  # type: ignore[valid-type]
                                     "one record per (clip, target, restart), in order")]
        summary: NotRequired[described(summary_type,  # type: ignore[valid-type]
                                       "the run's figures over its answers")]
        sanity: NotRequired[described(dict[str, SanityLevel], "sanity=true: the same items on "
                                      "randomized copies of the classifier (Adebayo et al. "
                                      "2018)")]
        note: NotRequired[described(str, "what the method's outputs are not (method=input: "
                                         "adversarial)")]

    class Other(Common):
        """What evaluate, train-classifier and train-prior write (their own keys besides)."""

        __pydantic_config__ = ConfigDict(extra="allow")
        kind: Literal["evaluate", "train-classifier", "train-prior"]
        run: RunCore

    return {"item": item_type, "summary": summary_type, "run": run_type, "optimize": Optimize,
            "other": Other}


@cache
def _adapter() -> TypeAdapter:
    types = record_types()
    kinds = types["optimize"] | types["other"]
    return TypeAdapter(Annotated[kinds, Field(discriminator="kind")])


class RecordError(ValueError):
    """A record that breaks its types: a bug in whatever built it."""


def check_record(record: dict[str, Any]) -> None:
    """Raise :class:`RecordError` naming every field of ``record`` that breaks its types; a
    finished optimize run must hold its items and summary."""
    try:
        _adapter().validate_python(record, strict=False)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in err.errors()[:5])
        raise RecordError(f"metrics.json breaks its schema ({err.error_count()} problem(s)): "
                          f"{problems}") from None
    if record.get("kind") == "optimize" and record.get("status") == "done":
        missing = [k for k in ("items", "summary") if k not in record]
        if missing:
            raise RecordError(f"a finished optimize record lacks {', '.join(missing)}")


def _readable(node: Any) -> Any:
    """The schema as published: no pydantic titles, keys it does not list allowed (readers of
    later versions' files ignore them), aliases in place of field names."""
    if isinstance(node, dict):
        out = {k: _readable(v) for k, v in node.items() if k != "title"
               and not (k == "additionalProperties" and v is False)}
        if "properties" in node:
            out["properties"] = {k: _readable(v) for k, v in node["properties"].items()}
        return out
    if isinstance(node, list):
        return [_readable(v) for v in node]
    return node


def metrics_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of metrics.json, from the types."""
    schema = _adapter().json_schema(by_alias=True, ref_template="#/$defs/{model}")
    schema = _readable(schema)
    schema.setdefault("$defs", {})["OptimizeDone"] = {
        "if": {"properties": {"status": {"const": "done"}}},
        "then": {"required": ["items", "summary"]}}
    optimize = schema["$defs"]["Optimize"]
    optimize["allOf"] = [{"$ref": "#/$defs/OptimizeDone"}]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://amcli.invalid/metrics.schema.json",
            "title": "amcli metrics.json",
            "description": "What every amcli run writes to metrics.json. Keys not listed may "
                           "be added by later versions; readers should ignore them.",
            **schema}


def schema_text() -> str:
    """The shipped file's text."""
    return json.dumps(metrics_json_schema(), indent=2, allow_nan=False) + "\n"


if __name__ == "__main__":
    from importlib import resources

    path = resources.files("amcli.report").joinpath("metrics.schema.json")
    with open(str(path), "w") as handle:
        handle.write(schema_text())
    print(f"wrote {path}")
