"""method=prosody: which pitch, loudness, tempo and voice quality make the model say the target?

Each input clip is analysed once (WORLD: F0, envelope, aperiodicity) and fitted with a
harmonic-plus-noise model (amcli.am.prosody); the optimization edits the clip's prosody through
a differentiable resynthesis: an F0 shift contour and the F0 range (pitch), a gain contour
(loudness), the speaking rate (tempo), the spectral tilt and the breathiness (voice), each
bounded and penalized by its size, so the answer is the least edit that makes the model say the
target. The output is the clip itself, edited: natural speech, with a table of edits.

``attribution=true`` runs, in the same batch, every (clip, target, restart) once per control
family alone and once with all of them: the reached target probability per family says which
cues the model can be moved by.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from typing_extensions import NotRequired, TypedDict

from amcli.am.frozen import frozen
from amcli.am.methods.base import (
    STRICT,
    AMMethod,
    Built,
    ItemBatch,
    PlotData,
    described,
    probability,
)
from amcli.am.optimize import classify
from amcli.am.prosody.controls import Bounds, Prosody
from amcli.am.regularizers import L2
from amcli.bounds import bounded
from amcli.device import module_device
from amcli.errors import UserError
from amcli.families import FAMILIES, Family
from amcli.models.base import class_log_probabilities, class_probabilities, is_multi_label

log = logging.getLogger(__name__)

#: The longest clip the prosody method analyses: analysis and fit take about 180 MB per second
#: of audio (bench/prosody_memory.py: 1.4 GB at 5 s, 5.9 GB at 30 s, 21 GB at 2 min), so longer
#: clips are refused up front rather than left to exhaust the machine.
MAX_CLIP_S = 30.0

#: An unedited resynthesis whose target probability moves more than this from the clip's own is
#: reported: the clip does not resynthesize well (noise, music, several speakers).
FAITHFUL_WITHIN = 0.05


@dataclass
class ProsodyOptions:
    """Options of method=prosody (the config key ``prosody``)."""

    #: control families that may move: pitch (F0 shift and range), loudness (gain), tempo
    #: (speaking rate), voice (spectral tilt and breathiness)
    families: list[Family] = field(default_factory=lambda: list(Family))
    #: run each family alone and all together, in the same batch: which cues move the model?
    attribution: bool = False
    #: weight of the size penalty: the mean over families of each family's mean squared edit,
    #: as a share of its bound
    penalty: float = bounded(1.0, ge=0)
    #: points of the pitch and gain contours over the clip (1: one value for the whole clip)
    knots: int = bounded(6, ge=1)
    #: points of the speaking-rate contour (1: one rate for the whole clip)
    tempo_knots: int = bounded(1, ge=1)
    pitch_st: float = bounded(12.0, gt=0, hint="the largest F0 shift in semitones")
    range_scale: float = bounded(2.0, gt=1, hint="the F0 range within [1/x, x]")
    gain_db: float = bounded(12.0, gt=0, hint="the largest gain in dB")
    rate: float = bounded(1.4, gt=1, hint="the speaking rate within [1/x, x]")
    tilt_db_per_octave: float = bounded(6.0, gt=0, hint="the largest tilt in dB per octave")
    breathiness: float = bounded(1.0, gt=0, le=1, hint="the largest breathiness change")
    #: restarts start from slightly different edits (the spread of the raw controls)
    init_noise: float = bounded(0.1, ge=0)
    #: each item starts from the best of this many edits (each moving one family, spread over
    #: its bounds), by target log-probability minus the size penalty (1: start from no edit);
    #: pitch and tempo gradients are local, so a coarse look first finds where the target lies
    init_candidates: int = bounded(64, ge=1)
    #: after the best state, undo every family whose edit the target does not need (the least
    #: sufficient edit; the unpruned one stays in the record); false: report the edit as
    #: optimized, drift in families the model ignores included
    prune: bool = True

    def bounds(self) -> Bounds:
        return Bounds(self.pitch_st, self.range_scale, self.gain_db, self.rate,
                      self.tilt_db_per_octave, self.breathiness)


@dataclass
class Clip:
    """A clip analysed and fitted once per run, with its unedited resynthesis' probabilities."""

    source: Any  # amcli.am.prosody.source.Source (one row)
    original: torch.Tensor  # [C] the classifier's probabilities of the clip
    resynthesis: torch.Tensor  # [C] ... of its unedited resynthesis
    unedited: torch.Tensor  # [T] the unedited resynthesis


@dataclass
class ClipCache:
    clips: dict[str, Clip] = field(default_factory=dict)
    length: int | None = None  # output samples, the same for every chunk of the run


#: a family's name, as records write it
FamilyName = Literal[FAMILIES]  # type: ignore[valid-type]


class Spread(TypedDict):
    """A contour's mean, least and largest value over the frames where it matters."""

    __pydantic_config__ = STRICT
    mean: float
    min: float
    max: float


class ProsodyEdit(TypedDict):
    """An item's edit in units (amcli.am.prosody.Prosody.summary) and its no-edit figures."""

    __pydantic_config__ = STRICT
    families: described(list[FamilyName], "the families that could move")
    pitch_shift_st: NotRequired[described(
        Spread, "F0 shift over the output's voiced frames, semitones")]
    range_scale: NotRequired[float]
    gain_db: NotRequired[described(Spread, "gain over frames with sound, dB")]
    rate: NotRequired[described(float, "speaking rate (> 1 faster)")]
    tilt_db_per_oct: NotRequired[float]
    breathiness: NotRequired[float]
    original_prob: probability("target p of the clip")
    resynthesis_prob: probability("target p of its unedited resynthesis")


class Pruned(TypedDict):
    """The families undone because the target stayed reached without them."""

    __pydantic_config__ = STRICT
    families: list[FamilyName]
    target_prob_before: probability()
    edits_before: dict[str, Any]


class ProsodyItem(TypedDict):
    """What method=prosody adds to an item's record."""

    __pydantic_config__ = STRICT
    prosody: described(ProsodyEdit, "method=prosody: the edits")
    attribution_prob: NotRequired[probability(
        "target p of the best state before pruning (what attribution counts)")]
    pruned: NotRequired[described(
        Pruned | None, "the families undone because the target stayed reached without them, "
        "and the edit before (null: the item was not pruned)")]


class ProsodyMethod(AMMethod):
    name = "prosody"
    options_type = ProsodyOptions
    config_key = "prosody"
    param_type = Prosody
    record_type = ProsodyItem
    record_key = "prosody"
    library_name = "edits"
    summary = ("edits a real clip's pitch, loudness, tempo and voice quality through a "
               "differentiable resynthesis: the least edit that makes the model say <target>, "
               "as natural speech and a table of edits (attribution=true: which family alone)")

    def needs_clip(self, options: ProsodyOptions) -> bool:
        return True

    def variants(self, options: ProsodyOptions) -> list[str]:
        if not options.attribution:
            return [""]
        return ["all", *(f.value for f in options.families)]

    def is_answer(self, variant: str) -> bool:
        """Attribution's one-family items are its evidence; "all" is its answer."""
        return variant in ("", "all")

    def validate(self, options: ProsodyOptions, model) -> None:
        if not options.families:
            raise UserError("prosody.families is empty; give at least one of "
                            f"{', '.join(f.value for f in Family)}")

    def prepare(self, options: ProsodyOptions, model, targets: list[str],
                device: torch.device) -> ClipCache:
        return ClipCache()

    def _clip(self, name: str, wave: torch.Tensor, batch: ItemBatch) -> Clip:
        from amcli.am.prosody.fit import fit_clip
        from amcli.am.prosody.source import Edits
        from amcli.am.prosody.synthesis import synthesis_grid, synthesize, white_noise_stft

        rate = batch.model.sample_rate
        n_fft, hop = synthesis_grid(rate)
        wave = wave.detach().cpu()
        if wave.shape[-1] > MAX_CLIP_S * rate:
            raise UserError(f"clip '{name}' is {wave.shape[-1] / rate:.0f} s long; method=prosody "
                            f"analyses clips of up to {MAX_CLIP_S:g} s (about 6 GB of memory "
                            f"at {MAX_CLIP_S:g} s): give a shorter clip, or clip_seconds="
                            f"{MAX_CLIP_S:g} to hear its middle {MAX_CLIP_S:g} s")
        source = fit_clip(wave, rate)
        white = white_noise_stft([0], wave.shape[-1], n_fft, hop)
        resynthesis = synthesize(source, Edits.none(1, white.shape[1]), white, wave.shape[-1])
        model = batch.model
        device = module_device(model, batch.clips.device)
        with torch.no_grad(), frozen(model):
            probs = class_probabilities(
                model(torch.stack([wave, resynthesis[0]]).to(device)).float(),
                is_multi_label(model)).cpu()
        return Clip(source, probs[0], probs[1], resynthesis[0].detach())

    def _length(self, batch: ItemBatch) -> int:
        """Output samples: the clips' own length. The output sits in the window the input sat
        in (the classifier's training length, clips centred), and the tempo warp holds the
        speech's centre in place, so slower speech spreads into the silence around it. A longer
        output would add silence that some models hear (a tempo model called the neutral example
        clip angrier with every 0.25 s of silence added)."""
        return max(w.shape[-1] for w in (batch.clip_bank or {}).values())

    def build(self, options: ProsodyOptions, batch: ItemBatch, cache: ClipCache) -> Built:
        from amcli.am.prosody.source import Source
        from amcli.am.prosody.synthesis import synthesis_grid, white_noise_stft

        if cache.length is None:
            cache.length = self._length(batch)
        names = batch.clip_names or []
        for i, name in enumerate(names):
            if name not in cache.clips:
                cache.clips[name] = self._clip(name, batch.clips[i], batch)
        n_fft, hop = synthesis_grid(batch.model.sample_rate)
        rows = [cache.clips[n].source for n in names]
        source = Source.stack(rows).to(batch.device)
        white = white_noise_stft(batch.seeds, cache.length, n_fft, hop, batch.device)
        source = source.padded(white.shape[1])
        allowed = {f.value for f in options.families}
        masks = [[(v in ("", "all") and f in allowed) or f == v for f in FAMILIES]
                 for v in (batch.variants or [""] * len(batch))]
        param = Prosody(source, white, cache.length, torch.tensor(masks, device=batch.device),
                        options.bounds(), options.knots, options.tempo_knots,
                        options.init_noise, batch.seeds)
        penalties = [L2(options.penalty)] if options.penalty else []
        targets = batch.targets.to(batch.device).view(-1, 1)
        multi_label = is_multi_label(batch.model)

        def score(candidate: Prosody) -> torch.Tensor:
            logits = classify(batch.model, candidate.signal(), "wave", batch.precision)
            reached = class_log_probabilities(logits, multi_label).gather(1, targets)[:, 0]
            return reached - sum((reg(candidate) for reg in penalties),
                                 torch.zeros_like(reached))

        scores = param.pick_start(score, options.init_candidates)
        if scores is not None and options.attribution:
            share_starts(param, scores, batch)
        return Built(param, penalties)

    def prune(self, options: ProsodyOptions, batch: ItemBatch, built: Built,
              reached: float) -> list[dict]:
        """The least sufficient edit: each family of an answer item (not an attribution
        variant that may use one family only) whose edit can be undone while the target stays
        at ``reached`` or above is undone, the families that matter least first (by how much
        the target probability falls when that family alone is undone). All items in one batch
        per round, four rounds at most. Families a model ignores drift under a log-softmax
        objective (moving away from the other classes pays a little); this removes that drift
        from the answer. The unpruned edit stays in the record."""
        param: Prosody = built.param
        targets = batch.targets.to(param.raw.device).view(-1, 1)
        variants = batch.variants or [""] * len(batch)
        start = param.raw.detach().clone()
        before = param.summary()

        def target_prob(raw: torch.Tensor) -> torch.Tensor:
            with torch.no_grad(), frozen(batch.model):
                param.raw.copy_(raw)
                logits = classify(batch.model, param.signal(), "wave", batch.precision)
            return class_probabilities(logits, is_multi_label(batch.model)).gather(1, targets)[:, 0]

        p_best = target_prob(start)
        sizes = param.regularized().detach()
        eligible = [options.prune and self.is_answer(v) and bool(p_best[i] >= reached)
                    for i, v in enumerate(variants)]
        current, undone = start.clone(), [[] for _ in range(len(batch))]
        loss = torch.stack([p_best - target_prob(param.without(start, [f] * len(batch)))
                            for f in range(len(FAMILIES))], 1) if any(eligible) else None
        order = [[f for f in loss[i].argsort().tolist() if sizes[i, f] > 1e-4]
                 if eligible[i] else [] for i in range(len(batch))]
        for turn in range(len(FAMILIES)):
            picks = [o[turn] if turn < len(o) else None for o in order]
            if all(f is None for f in picks):
                break
            trial = param.without(current, picks)
            accept = (target_prob(trial) >= reached).tolist()
            for i, f in enumerate(picks):
                if f is not None and accept[i]:
                    current[i] = trial[i]
                    undone[i].append(FAMILIES[f])
        with torch.no_grad():
            param.raw.copy_(current)
        return [{"attribution_prob": float(p_best[i]),
                 "pruned": {"families": undone[i], "target_prob_before": float(p_best[i]),
                            "edits_before": before[i]} if eligible[i] else None}
                for i in range(len(batch))]

    def item_records(self, options: ProsodyOptions, batch: ItemBatch, built: Built,
                     cache: ClipCache) -> list[dict]:
        param: Prosody = built.param
        rows = []
        for i, summary in enumerate(param.summary()):
            clip = cache.clips[batch.clip_names[i]]
            target = int(batch.targets[i])
            original, resynthesis = float(clip.original[target]), float(clip.resynthesis[target])
            rows.append({"prosody": {**summary, "original_prob": original,
                                     "resynthesis_prob": resynthesis},
                         "baseline_prob": resynthesis})
            if abs(resynthesis - original) > FAITHFUL_WITHIN:
                log.warning("clip %s does not resynthesize faithfully: the classifier gives "
                            "%s %.3f to the clip and %.3f to its unedited resynthesis (noise, "
                            "music or several voices?); read its edits with care",
                            batch.clip_names[i], batch.target_names[i], original, resynthesis)
        return rows

    def cue_reference(self, cache: ClipCache, clip: str) -> tuple[torch.Tensor, str] | None:
        """The clip resynthesized without edits: cue shifts then measure the edits alone, not
        the resynthesis (whose spectral centroid, for one, reads a few tens of Hz low)."""
        if clip not in cache.clips:
            return None
        return cache.clips[clip].unedited, "input, resynthesized without edits"

    def headline(self, record: dict) -> str:
        edits = record.get("prosody")
        if not edits:
            return ""
        undone = (record.get("pruned") or {}).get("families") or []
        words = edit_words(edits, undone)
        if undone:
            words += f" (undone, not needed: {', '.join(undone)})"
        return words

    def profile(self, built: Built):
        values = built.param.profile().detach()
        return values, torch.ones_like(values, dtype=torch.bool)

    def plot_data(self, built: Built, index: int, batch: ItemBatch) -> PlotData:
        from amcli.am.prosody.synthesis import edited_frames

        param: Prosody = built.param
        with torch.no_grad():
            edits = param.edits()
            after = edited_frames(param.source, edits)
            signal = param.signal()[index]
        source = param.source
        hop, rate = source.hop, source.sample_rate
        before_voiced = source.voicing[index] > 0.5
        after_voiced = after["voicing"][index] > 0.5
        return PlotData("contours", tag=self.name, arrays={
            "sample_rate": rate,
            "hop": hop,
            "output": signal.cpu().numpy(),
            "input": batch.clips[index].detach().cpu().numpy(),
            "f0_before": torch.where(before_voiced, source.log_f0[index].exp(),
                                     torch.nan).cpu().numpy(),
            "f0_after": torch.where(after_voiced, after["log_f0"][index].exp(),
                                    torch.nan).cpu().numpy(),
            "warp": after["position"][index].cpu().numpy(),
        })

    def report_rows(self, record: dict) -> list[tuple[str, Any]]:
        edit = record.get("prosody")
        if not edit:
            return []
        return [("unedited resynthesis p / clip p",
                 f"{edit['resynthesis_prob']:.3f} / {edit['original_prob']:.3f}")]


def share_starts(param: Prosody, scores: torch.Tensor, batch: ItemBatch) -> None:
    """An "all" item starts from the best start among itself and its one-family siblings (the
    same clip, target and seed, so the same noise: a sibling's start scores the same for it).
    With every family free, its candidates are spread over four families, so it sees a quarter
    as many starts per family as a one-family item and could start worse than one of them (on
    a pitch model, every family free reached 0.49 where pitch alone reached 0.72)."""
    variants = batch.variants or []
    names = batch.clip_names or [""] * len(batch)
    for i, variant in enumerate(variants):
        if variant != "all":
            continue
        key = (names[i], batch.target_names[i], batch.seeds[i])
        siblings = [j for j, v in enumerate(variants) if v not in ("", "all")
                    and (names[j], batch.target_names[j], batch.seeds[j]) == key]
        best = max(siblings, key=lambda j: float(scores[j]), default=None)
        if best is not None and float(scores[best]) > float(scores[i]):
            param.adopt_start(i, best)


def edit_words(edits: dict, skip: tuple[str, ...] | list[str] = ()) -> str:
    """An edit record in words: ``+3.8 st, range x0.85, -2.2 dB, rate x1.13, ...`` (the
    families in ``skip`` left out: undone, or not allowed; so are families whose edit would
    read as no change at the precision printed, e.g. ``+0.0 dB``)."""
    on = set(edits.get("families") or FAMILIES) - set(skip)

    def changed(*pairs: tuple[float, int]) -> bool:  # (offset from "no edit", digits shown)
        return any(round(value, digits) != 0 for value, digits in pairs)

    words = []
    shift, scale = edits["pitch_shift_st"]["mean"], edits["range_scale"]
    if "pitch" in on and changed((shift, 1), (scale - 1, 2)):
        words += [f"{shift:+.1f} st", f"range x{scale:.2f}"]
    gain = edits["gain_db"]["mean"]
    if "loudness" in on and changed((gain, 1)):
        words.append(f"{gain:+.1f} dB")
    if "tempo" in on and changed((edits["rate"] - 1, 2)):
        words.append(f"rate x{edits['rate']:.2f}")
    tilt, breath = edits["tilt_db_per_oct"], edits["breathiness"]
    if "voice" in on and changed((tilt, 1), (breath, 2)):
        words += [f"tilt {tilt:+.1f} dB/oct", f"breathiness {breath:+.2f}"]
    return ", ".join(words) if words else "no edit"


METHOD = ProsodyMethod()
