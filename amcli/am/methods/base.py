"""The interface every AM method implements.

A method is one module in :mod:`amcli.am.methods` that defines ``METHOD``, an instance of a
subclass of :class:`AMMethod`, and one file ``conf/method/<name>.yaml`` holding its options'
defaults. It knows nothing of Hydra or files: it declares its options (a dataclass, typed so the
CLI validates them while it composes the config), how to check them against a classifier, what
it needs loaded once per run (``prepare``), how to build the parameterization and its penalties
for a batch of items (``build``), and what it adds to each item's record (``item_records``).
It also presents itself: the types of the fields it adds to metrics.json (``record_type``,
``summary_type``, ``run_type``: pydantic models whose JSON Schema joins the shipped one), which of
its items are answers and which are evidence (``is_answer``), its summary figures
(``summarize``), its columns of a run's summary.csv (``table_columns``, ``table_row``) and its
rows of report.html (``report_rows``). The command, the report and the summaries look a method
up by name and never branch on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import torch
from pydantic import ConfigDict, Field
from torch import nn

from amcli.am.params import Parameterization
from amcli.am.regularizers import Regularizer
from amcli.features import FeatureParams

#: the config of every record type: a field not declared is an error when the record is written
#: (the shipped schema still lets readers of later versions' files meet keys they don't know)
STRICT = ConfigDict(extra="forbid")


def probability(description: str = "") -> Any:
    """A probability field of a record type (a float in [0, 1]), with what it is."""
    return Annotated[float, Field(ge=0, le=1, description=description or None)]


def described(kind: Any, description: str, **limits: Any) -> Any:
    """A field of a record type with what it means (it enters the shipped JSON Schema)."""
    return Annotated[kind, Field(description=description, **limits)]


@dataclass
class ItemBatch:
    """One row per item (clip x target x restart) of a batch to optimize."""

    model: nn.Module
    targets: torch.Tensor  # [B] class indices
    target_names: list[str]
    seeds: list[int]  # each item's own seed (amcli.am.random.item_seed)
    device: torch.device
    #: [B, T] the input clip of each item at the model's rate, or None for methods without one
    clips: torch.Tensor | None = None
    clip_names: list[str] | None = None
    precision: str = "fp32"
    #: every clip of the run by name (the same for every chunk of it)
    clip_bank: dict[str, torch.Tensor] | None = None
    #: each item's variant of the method (e.g. the control family it may use), "" for none
    variants: list[str] | None = None

    def __len__(self) -> int:
        return len(self.target_names)

    @property
    def features(self) -> FeatureParams:
        """The classifier's log-mel parameters (defaults at its rate for raw models)."""
        return getattr(self.model, "feature_params", None) or \
            FeatureParams(sample_rate=self.model.sample_rate)


@dataclass
class Built:
    """What a method optimizes and the penalties on it."""

    param: Parameterization
    regularizers: list[Regularizer]


@dataclass
class PlotData:
    """Arrays a method wants drawn for one item; ``kind`` names the renderer in amcli.report
    (what is drawn: a curve over the clip's time, contours before and after), ``tag`` the
    plot's file, ``plots/<item>_<tag>.<format>``."""

    kind: str
    arrays: dict[str, Any]
    tag: str = "method"
    #: kind "time_curve": the array drawn over the clip
    curve: str | None = None


class AMMethod:
    """Base of the AM methods. Subclasses set the class attributes and implement ``build``."""

    #: the name users type: method=<name>
    name: ClassVar[str]
    #: the options' schema (a dataclass with defaults); its values live under ``config_key``
    options_type: ClassVar[type]
    #: the config key of the options (mask.*, signal.*, latent.*, ...)
    config_key: ClassVar[str]
    #: the parameterization class (its ``default_lr`` is the method's)
    param_type: ClassVar[type[Parameterization]]
    #: one line for ``--help``
    summary: ClassVar[str] = ""
    #: said in metrics.json and the report of every run of this method (e.g. "adversarial")
    note: ClassVar[str | None] = None
    #: config groups that exist only with this method, by name -> schema (latent's prior)
    groups: ClassVar[dict[str, type]] = {}
    #: the fields this method adds to each item's record (a pydantic model; None: none)
    record_type: ClassVar[type | None] = None
    #: the fields it adds to the run's summary (a pydantic model; None: none)
    summary_type: ClassVar[type | None] = None
    #: the fields it adds to the run's ``run`` record, from ``run_info`` (None: none)
    run_type: ClassVar[type | None] = None
    #: the item field holding the method's own sub-record (its controls, its edit), if any
    record_key: ClassVar[str | None] = None
    #: what ``amcli.explain``'s results call that sub-record (``Explanation.<library_name>``)
    library_name: ClassVar[str | None] = None
    #: columns this method adds to a run's summary.csv (filled by ``table_row``)
    table_columns: ClassVar[tuple[str, ...]] = ()

    @property
    def default_lr(self) -> float:
        return self.param_type.default_lr

    def options_from(self, config: Any) -> Any:
        """This method's options out of a whole command config: ``config.<config_key>``
        (methods with config groups of their own, such as latent's prior, gather those too)."""
        return getattr(config, self.config_key)

    def needs_clip(self, options: Any) -> bool:
        """Whether items start from an input clip (the command then loads clips)."""
        return False

    def variants(self, options: Any) -> list[str]:
        """Variants of every (clip, target, restart) to run in the same batch ([""]: one)."""
        return [""]

    def is_answer(self, variant: str) -> bool:
        """Whether items of this variant are the run's answer (else evidence for one: a
        control or a restricted variant, which summaries and verdict counts leave out)."""
        return not variant

    def validate(self, options: Any, model: nn.Module) -> None:
        """Refuse options that cannot work with this classifier (raise UserError)."""

    def prepare(self, options: Any, model: nn.Module, targets: list[str],
                device: torch.device) -> Any:
        """Load and check what the method needs once per run (e.g. a prior); returned as
        ``resources`` to the other hooks."""
        return None

    def run_info(self, options: Any, resources: Any) -> dict[str, Any]:
        """Facts for metrics.json's ``run`` record (e.g. the prior's name and hash)."""
        return {}

    def build(self, options: Any, batch: ItemBatch, resources: Any) -> Built:
        raise NotImplementedError

    def item_records(self, options: Any, batch: ItemBatch, built: Built,
                     resources: Any) -> list[dict[str, Any]]:
        """Per item: the fields this method adds to the item's record (after optimizing)."""
        return [{} for _ in range(len(batch))]

    def prune(self, options: Any, batch: ItemBatch, built: Built,
              reached: float) -> list[dict[str, Any]] | None:
        """After the best state is found: undo what the answer does not need (the target must
        stay at ``reached`` or above), in place on ``built.param``; per item the fields this
        adds to its record. None: this method has nothing to undo."""
        return None

    def verdict_reasons(self, record: dict[str, Any], reached: float,
                        sanity: dict[str, dict[str, Any]] | None = None
                        ) -> tuple[list[str], list[str]]:
        """Why an item's record falls short of an answer, in words: (goals of the method not
        met besides the target probability, controls that refute the item). ``sanity``: this
        item's row per randomization level, when the sanity check ran. Default: nothing."""
        return [], []

    def profile(self, built: Built) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Per item: a vector that says what the explanation is (e.g. a mask's values) and
        where it is defined, for the randomization sanity check's rank correlation; None for
        methods whose outputs are compared by their cue shifts only."""
        return None

    def cue_reference(self, resources: Any, clip: str) -> tuple[torch.Tensor, str] | None:
        """The waveform an item's acoustic cues are compared with, and what it is, when it is
        not the input clip itself (None: the input clip)."""
        return None

    def headline(self, record: dict[str, Any]) -> str:
        """A line of plain words about one item's record, for the terminal and the report."""
        return ""

    def plot_data(self, built: Built, index: int, batch: ItemBatch) -> PlotData | None:
        """An extra plot for one item (the spectrogram is drawn for every method)."""
        return None

    def summarize(self, answers: list[dict[str, Any]], reached: float) -> dict[str, Any]:
        """The run summary's fields of this method (``summary_type``), from the answer
        items' records (e.g. a mask's faithfulness scores)."""
        return {}

    def table_row(self, record: dict[str, Any]) -> dict[str, Any]:
        """One item's values of ``table_columns`` (missing ones are left empty)."""
        return {}

    def report_rows(self, record: dict[str, Any]) -> list[tuple[str, Any]]:
        """(label, value) rows of one item's card in report.html, after the common ones;
        floats are printed to 3 digits."""
        return []

    def attribution_map(self, arrays: dict[str, Any]) -> Any:
        """The item's explanation as a map over the input clip's samples (a NumPy vector),
        from the arrays written for it; None: this method makes no such map."""
        return None
