"""Objectives to maximize, per item, composable with + and * (as in Lucid/Lucent).

An objective maps a :class:`Context` (the logits, the per-item targets and any hooked layer
activations of one forward pass) to a score per item [B]; the loop maximizes it.

- ``ClassLogit``: S_t(x), the class-model objective of Simonyan et al. (2013). The default:
  maximizing the probability instead can also succeed by pushing the other classes down.
- ``ClassLogSoftmax``, ``ClassProbability``: log p_t(x) and p_t(x). For a multi-label model
  (``Context.multi_label``) p_t is the target label's sigmoid: raising it leaves the other labels
  free, where a softmax's p_t can only rise as the other classes fall.
- ``OtherClassesMean``: mean_{c != t} S_c(x); the seed's variant is
  ``ClassLogit() - lambda_o * OtherClassesMean()``, which also pushes a multi-label model's
  other labels down (``objective.suppress``).
- ``LayerActivation``: the mean activation of a layer, a channel of it, or one unit, read with a
  forward hook (``layer`` is the module's name in ``model.named_modules()``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from amcli.models.base import class_log_probabilities, class_probabilities


@dataclass
class Context:
    logits: torch.Tensor
    targets: torch.Tensor
    activations: dict[str, torch.Tensor] = field(default_factory=dict)
    #: the model's labels are independent sigmoids: p_t is sigmoid(S_t), not a softmax's
    multi_label: bool = False


class Objective:
    """A per-item score [B] to maximize. Combine with +, -, * (by a number or an objective)."""

    #: names of modules whose outputs this objective reads
    layers: tuple[str, ...] = ()

    def __init__(self, fn: Callable[[Context], torch.Tensor] | None = None, name: str = "",
                 layers: tuple[str, ...] = ()) -> None:
        self._fn = fn
        self.name = name or type(self).__name__
        self.layers = tuple(layers) or type(self).layers

    def __call__(self, ctx: Context) -> torch.Tensor:
        if self._fn is None:
            raise NotImplementedError
        return self._fn(ctx)

    def __add__(self, other: Objective | float) -> Objective:
        if isinstance(other, Objective):
            return Objective(lambda c: self(c) + other(c), f"({self.name} + {other.name})",
                             self.layers + other.layers)
        return Objective(lambda c: self(c) + other, f"({self.name} + {other})", self.layers)

    __radd__ = __add__

    def __mul__(self, other: Objective | float) -> Objective:
        if isinstance(other, Objective):
            return Objective(lambda c: self(c) * other(c), f"{self.name} * {other.name}",
                             self.layers + other.layers)
        return Objective(lambda c: other * self(c), f"{other} * {self.name}", self.layers)

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return -1.0 * self

    def __sub__(self, other: Objective | float) -> Objective:
        return self + (-other if isinstance(other, Objective) else -other)


def _pick(values: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return values.gather(1, targets.view(-1, 1)).squeeze(1)


class ClassLogit(Objective):
    def __call__(self, ctx: Context) -> torch.Tensor:
        return _pick(ctx.logits, ctx.targets)


class ClassLogSoftmax(Objective):
    def __call__(self, ctx: Context) -> torch.Tensor:
        return _pick(class_log_probabilities(ctx.logits, ctx.multi_label), ctx.targets)


class ClassProbability(Objective):
    def __call__(self, ctx: Context) -> torch.Tensor:
        return _pick(class_probabilities(ctx.logits, ctx.multi_label), ctx.targets)


class CappedLogProbability(Objective):
    """log p_t(x), but no more than log ``cap``: once the target is that probable, the
    classification term stops pulling and the penalties alone act, so the optimization settles
    on the smallest parameters (e.g. edits) that keep the model at about ``cap``: the least
    change that makes the model say the target, rather than the largest it will pay for."""

    def __init__(self, cap: float) -> None:
        super().__init__(name=f"min(log p, log {cap:g})")
        if not 0 < cap < 1:
            raise ValueError("cap must be in (0, 1)")
        self.cap = float(cap)

    def __call__(self, ctx: Context) -> torch.Tensor:
        log_p = _pick(class_log_probabilities(ctx.logits, ctx.multi_label), ctx.targets)
        return log_p.clamp(max=math.log(self.cap))


class OtherClassesMean(Objective):
    """mean over c != t of S_c: subtract it (times lambda_o) to suppress the other classes."""

    def __call__(self, ctx: Context) -> torch.Tensor:
        n = ctx.logits.shape[1]
        others = torch.ones_like(ctx.logits).scatter(1, ctx.targets.view(-1, 1), 0.0)
        return (ctx.logits * others).sum(1) / max(n - 1, 1)


class LayerActivation(Objective):
    """Mean activation of ``layer``: all of it, one ``channel`` (dim 1), or one ``unit`` (a
    flat index into the per-item activation)."""

    def __init__(self, layer: str, channel: int | None = None, unit: int | None = None) -> None:
        super().__init__(name=f"{layer}[{channel if unit is None else unit}]", layers=(layer,))
        self.layer, self.channel, self.unit = layer, channel, unit

    def __call__(self, ctx: Context) -> torch.Tensor:
        act = ctx.activations[self.layer]
        if isinstance(act, tuple):  # e.g. a GRU returns (output, hidden)
            act = act[0]
        if self.unit is not None:
            return act.reshape(act.shape[0], -1)[:, self.unit]
        if self.channel is not None:
            act = act[:, self.channel]
        return act.reshape(act.shape[0], -1).mean(1)


def class_objective(kind: str = "logit", suppress: float = 0.0,
                    cap: float | None = None) -> Objective:
    """The class objectives by name (logit | log_softmax | prob), optionally minus
    ``suppress`` times the mean of the other classes' logits (the seed's variant); ``cap``
    (a probability) turns log_softmax into :class:`CappedLogProbability`."""
    base = {"logit": ClassLogit, "log_softmax": ClassLogSoftmax, "prob": ClassProbability}
    if kind not in base:
        raise ValueError(f"unknown objective '{kind}'; use one of {', '.join(base)}")
    if cap is not None and kind != "log_softmax":
        raise ValueError("a cap works with the log_softmax objective")
    objective = CappedLogProbability(cap) if cap is not None else base[kind]()
    return objective - suppress * OtherClassesMean() if suppress else objective


class Hooks:
    """Forward hooks that capture the outputs of named modules during one forward pass."""

    def __init__(self, model: nn.Module, layers: tuple[str, ...]) -> None:
        modules = dict(model.named_modules())
        missing = [name for name in layers if name not in modules]
        if missing:
            known = ", ".join(n for n in modules if n)[:400]
            raise KeyError(f"unknown layer(s) {missing}; layers include: {known}")
        self.activations: dict[str, torch.Tensor] = {}
        self._handles = [modules[name].register_forward_hook(self._keep(name))
                         for name in dict.fromkeys(layers)]

    def _keep(self, name: str):
        def hook(_module, _inputs, output):
            self.activations[name] = output
        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
