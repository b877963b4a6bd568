"""method=mask: which stretches of a clip does the classifier need to hear the target?

The extremal perturbation of Fong, Patrick & Vedaldi (2019) by default: a smooth mask over the
clip (low-resolution parameters, upsampled and Hann-smoothed) keeps exactly ``area`` of the
clip's active frames, enforced by the sorted-area loss ||sort(m) - r_a||^2 whose weight grows
during the run; or Fong & Vedaldi's (2017) penalty formulation, lambda * mean(m). Time masks
scale the waveform's envelope; time-frequency masks scale STFT magnitudes and resynthesize with
the clip's phase. Each item's record gets the mask's statistics and its controls
(amcli.metrics.masks).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from typing_extensions import NotRequired, TypedDict

from amcli.am.methods.base import (
    STRICT,
    AMMethod,
    Built,
    ItemBatch,
    PlotData,
    described,
    probability,
)
from amcli.am.params import AREA_TOLERANCE, Mask
from amcli.am.regularizers import TV, MaskArea, SortedArea
from amcli.bounds import bounded
from amcli.errors import UserError
from amcli.metrics.faithfulness import faithfulness
from amcli.metrics.masks import mask_controls

#: a mask whose rank correlation with the fully randomized classifier's mask is above this is
#: refuted (sanity=true): it ranks the clip's frames as a model that learned nothing does (masks
#: of randomized copies of the default classifier correlate about 0.5 with the trained ones:
#: part of every mask follows where the speech is; above 0.8 little is left of the model)
SANITY_AGREEMENT = 0.8


class MaskKind(Enum):
    time = "time"  # scales the waveform's envelope
    tf = "tf"  # scales STFT magnitudes (bands x time), resynthesized with the clip's phase


class MaskBaseline(Enum):
    silence = "silence"  # what the mask removes is silenced
    blur = "blur"  # ... is replaced by the clip's time-blurred spectrum (Fong & Vedaldi 2017)


class MaskFormulation(Enum):
    extremal = "extremal"  # keep exactly `area` of the active frames (Fong et al. 2019)
    penalty = "penalty"  # lambda * mean(m) (Fong & Vedaldi 2017)


@dataclass
class MaskOptions:
    """Options of method=mask (the config key ``mask``)."""

    #: time (scales the waveform's envelope) or tf (scales STFT magnitudes in bands x time,
    #: resynthesized with the clip's phase)
    kind: MaskKind = MaskKind.time
    #: extremal (keep exactly `area` of the active frames; Fong et al. 2019) or penalty (lambda *
    #: mean mask; Fong & Vedaldi 2017)
    formulation: MaskFormulation = MaskFormulation.extremal
    area: float = bounded(0.5, gt=0, le=1, hint="the share of active frames to keep")
    #: weight of the sorted-area loss (grows 100x over the run)
    area_weight: float = bounded(1.0, ge=0)
    #: formulation=penalty: the weight of the mean mask
    penalty: float = bounded(2.0, ge=0)
    #: weight of the mask's total variation (smoothness)
    tv: float = bounded(0.01, ge=0)
    #: the mask's largest value; above 1 it may emphasize as well as keep or remove
    max_gain: float = bounded(1.0, gt=0)
    #: the mask's starting value
    init: float = bounded(0.5, gt=0)
    #: spread of the random start around init (restarts differ by it)
    init_noise: float = bounded(0.5, ge=0)
    resolution_s: float = bounded(0.05, gt=0, hint="seconds per mask parameter")
    #: width of the Hann smoothing of the upsampled mask, in mask steps (0 or 1: none)
    smooth: int = bounded(2, ge=0)
    #: kind=tf: frequency bands of the mask
    freq_bands: int = bounded(16, ge=1)
    #: what the mask removes becomes: silence, or blur (the clip's spectrum blurred over
    #: ``blur_s``: its level and timbre stay, their timing goes). Blur for models that may hear
    #: silence itself as a cue (quiet or sad classes)
    baseline: MaskBaseline = MaskBaseline.silence
    blur_s: float = bounded(0.5, gt=0, hint="seconds: the Gaussian blur's standard deviation "
                            "over time (baseline=blur)")


class MaskControls(TypedDict):
    """The mask's statistics and its controls (amcli.metrics.masks)."""

    __pydantic_config__ = STRICT
    mean: float
    area: described(float, "share of active frames kept")
    tv: float
    mean_active: NotRequired[float | None]
    mean_silent: NotRequired[float | None]
    binarized_prob: probability("target p with the mask's top `area` of active frames set to "
                                "1, the rest 0")
    uniform_gain_prob: probability("target p of the clip scaled uniformly to the masked clip's "
                                   "energy (baseline=blur: the clip mixed with its baseline at "
                                   "the mask's area everywhere)")
    shifted_prob: probability("target p with the mask moved 0.25 s against the clip")
    original_prob: probability("target p of the unmasked clip")
    masked_out_prob: probability("target p of (1 - m) x + m b: what the mask removed")
    empty_prob: NotRequired[probability("target p of the baseline alone, nothing kept")]
    same_top1: bool
    baseline: NotRequired[described(str, "what the mask removed became: silence, or blur (the "
                                    "clip's time-blurred spectrum)")]
    area_target: NotRequired[described(float | None,
                                       "the extremal area (null: penalty formulation)")]
    area_error: NotRequired[described(
        float, "sorted-area loss: how far the mask is from keeping exactly area_target of the "
        "active frames as 1s and the rest as 0s", ge=0)]
    area_held: NotRequired[described(
        bool, f"area_error <= {AREA_TOLERANCE:g}: the mask keeps its area as a selection")]


class MaskItem(TypedDict):
    """What method=mask adds to an item's record."""

    __pydantic_config__ = STRICT
    mask: described(MaskControls, "method=mask: the mask and its controls")


class Faithfulness(TypedDict):
    """L-MAC's faithfulness figures (amcli.metrics.faithfulness)."""

    __pydantic_config__ = STRICT
    AI: float | None
    AD: float | None
    AG: float | None
    FF: float | None
    Fid_In: float | None
    n: int
    left_out: NotRequired[described(int, "mask items left out: they did not reach their "
                                    "target", ge=0)]


class MaskSummary(TypedDict):
    """What method=mask adds to a run's summary."""

    __pydantic_config__ = STRICT
    faithfulness: NotRequired[described(
        Faithfulness | None, "masks: L-MAC's figures (Paissan et al. 2024) over the items that "
        "reached their target; null when none did (faithfulness_note says so)")]
    faithfulness_note: NotRequired[str]


class MaskMethod(AMMethod):
    name = "mask"
    options_type = MaskOptions
    config_key = "mask"
    param_type = Mask
    record_type = MaskItem
    summary_type = MaskSummary
    record_key = "mask"
    library_name = "controls"
    table_columns = ("mask_area", "binarized_prob", "uniform_gain_prob", "shifted_prob",
                     "masked_out_prob")
    summary = ("a smooth mask keeps a fixed share of a clip's active frames so the target "
               "stays recognized: which stretches does the model need?")

    def needs_clip(self, options: MaskOptions) -> bool:
        return True

    def validate(self, options: MaskOptions, model) -> None:
        if options.init > options.max_gain:
            raise UserError(f"mask.max_gain={options.max_gain:g}, mask.init={options.init:g}; "
                            "need 0 < init <= max_gain")

    def _area_target(self, options: MaskOptions) -> float | None:
        return options.area if options.formulation == MaskFormulation.extremal else None

    def build(self, options: MaskOptions, batch: ItemBatch, resources: None) -> Built:
        param = Mask(batch.clips, kind=options.kind.value, max_gain=options.max_gain,
                     init=options.init, resolution_s=options.resolution_s,
                     smooth=options.smooth, freq_bands=options.freq_bands,
                     sample_rate=batch.model.sample_rate, features=batch.features,
                     init_noise=options.init_noise, seeds=batch.seeds,
                     area_target=self._area_target(options),
                     baseline=options.baseline.value, blur_s=options.blur_s).to(batch.device)
        regs = [SortedArea(weight=options.area_weight)  # the mask's own area_target
                if options.formulation == MaskFormulation.extremal
                else MaskArea(options.penalty)]
        if options.tv:
            regs.append(TV(options.tv))
        return Built(param, regs)

    def item_records(self, options: MaskOptions, batch: ItemBatch, built: Built,
                     resources: None) -> list[dict]:
        controls = mask_controls(batch.model, built.param, batch.targets,
                                 self._area_target(options))
        return [{"mask": row, "baseline_prob": row["original_prob"]} for row in controls]

    def verdict_reasons(self, record: dict, reached: float,
                        sanity: dict[str, dict] | None = None) -> tuple[list[str], list[str]]:
        """A mask has not reached its answer when it does not keep its area as a selection;
        it is refuted when the binarized mask loses the target, when a uniform gain of the whole
        clip (same energy) reaches it too (a gain did it, not a selection), when the baseline
        alone reaches it (nothing kept: removing is what did it), or when the fully
        randomized classifier's mask ranks the clip's frames alike (rank correlation above
        SANITY_AGREEMENT: the mask follows the clip, not the model)."""
        m = record.get("mask") or {}
        unmet, refuted = [], []
        if m.get("area_held") is False:
            unmet.append(f"the mask does not keep {m.get('area_target', 0):g} of the clip as a "
                         f"selection (sorted-area loss {m.get('area_error', 0):.3f} > "
                         f"{AREA_TOLERANCE:g})")
        if m.get("binarized_prob") is not None and m["binarized_prob"] < reached:
            refuted.append(f"the binarized mask loses the target (p {m['binarized_prob']:.3f})")
        if m.get("uniform_gain_prob") is not None and m["uniform_gain_prob"] >= reached:
            uniform = ("a uniform gain of the whole clip" if m.get("baseline", "silence") ==
                       "silence" else "the clip mixed uniformly with its baseline")
            refuted.append(f"{uniform} reaches it as well (p {m['uniform_gain_prob']:.3f}): a "
                           "gain, not a selection")
        if m.get("empty_prob") is not None and m["empty_prob"] >= reached:
            refuted.append(f"the baseline alone, nothing kept, reaches it as well (p "
                           f"{m['empty_prob']:.3f}): what the mask removes is not the evidence")
        row = (sanity or {}).get("all") or {}
        rho = row.get("profile_spearman")
        if rho is not None and rho > SANITY_AGREEMENT:
            refuted.append(f"the randomized classifier's mask agrees with it (rank correlation "
                           f"{rho:.2f} > {SANITY_AGREEMENT:g})")
        return unmet, refuted

    def headline(self, record: dict) -> str:
        m = record.get("mask") or {}
        if not m:
            return ""
        return (f"area {m['area']:.2f}, binarized p {m['binarized_prob']:.3f}, "
                f"{_uniform(m)} p {m['uniform_gain_prob']:.3f}")

    def profile(self, built: Built):
        param: Mask = built.param
        return param.time_profile().detach(), param.active

    def plot_data(self, built: Built, index: int, batch: ItemBatch) -> PlotData:
        param: Mask = built.param
        profile = param.frame_mask() if param.kind == "tf" else param.time_profile()
        return PlotData("time_curve", tag=self.name, curve="mask", arrays={
            "clip": param.clips[index].detach().cpu().numpy(),
            "mask": profile[index].detach().cpu().numpy(),
            "active": param.active[index].cpu().numpy(),
            "sample_rate": batch.model.sample_rate,
            "hop": param.features.hop_length,
        })

    def summarize(self, answers: list[dict], reached: float) -> dict:
        """L-MAC faithfulness over the masks that reached ``reached`` (it means nothing for
        the others: null with a note when none did)."""
        masks = [r for r in answers if r.get("mask")]
        kept = [r for r in masks if r["target_prob"] >= reached]
        if kept:
            return {"faithfulness": {**faithfulness(
                [r["mask"]["original_prob"] for r in kept], [r["target_prob"] for r in kept],
                [r["mask"]["masked_out_prob"] for r in kept],
                [r["mask"]["same_top1"] for r in kept]), "left_out": len(masks) - len(kept)}}
        if masks:
            return {"faithfulness": None,
                    "faithfulness_note": f"no mask reached its target (p >= {reached:g}); "
                                         "faithfulness scores mean nothing for those"}
        return {}

    def table_row(self, record: dict) -> dict:
        m = record.get("mask") or {}
        return {"mask_area": m.get("area"),
                **{k: m.get(k) for k in self.table_columns if k != "mask_area"}}

    def report_rows(self, record: dict) -> list[tuple[str, Any]]:
        m = record.get("mask")
        if not m:
            return []
        return [("mask area / mean", f"{m['area']:.3f} / {m['mean']:.3f}"),
                ("binarized p", m.get("binarized_prob")),
                (f"{_uniform(m)} p", m.get("uniform_gain_prob")),
                ("shifted-mask p", m.get("shifted_prob")),
                ("masked-out p", m.get("masked_out_prob")),
                ("nothing-kept p", m.get("empty_prob"))]

    def attribution_map(self, arrays: dict[str, Any]) -> np.ndarray | None:
        """The mask's gain over each sample's frame (a time-frequency mask: its mean over
        frequency), the length of the input clip."""
        if "mask" not in arrays:
            return None
        mask = np.asarray(arrays["mask"], dtype=np.float32)
        if mask.ndim == 2:
            mask = mask.mean(axis=0)
        length = arrays["clip"].shape[-1]
        per_sample = np.repeat(mask, int(arrays["hop"]))[:length]
        if per_sample.shape[0] < length:
            per_sample = np.pad(per_sample, (0, length - per_sample.shape[0]), mode="edge")
        return per_sample


def _uniform(record: dict) -> str:
    """The uniform control's name: a gain (silence baseline) or a mix with the baseline."""
    return "uniform-gain" if record.get("baseline", "silence") == "silence" else "uniform-mix"


METHOD = MaskMethod()
