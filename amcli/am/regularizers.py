"""Penalties (per item [B], to minimize).

L1, L2 and TV act on what each parameterization declares (``regularized()``): a mask's time
profile, an input's signal, a generator's z. ``SortedArea`` is the area constraint of extremal
perturbations (Fong, Patrick & Vedaldi 2019): ||sort(m) - r_a||^2 over active frames, r_a being
(1-a)n zeros then an ones, with a weight that grows during the optimization. ``MaskArea`` is the
lambda-weighted mean of Fong & Vedaldi (2017).
"""

from __future__ import annotations

import torch

from amcli.am.params import Input, Mask, Parameterization, sorted_area_loss

__all__ = ["L1", "L2", "TV", "MaskArea", "Regularizer", "SortedArea", "sorted_area_loss"]


class Regularizer:
    """weight * penalty(param); ``weight_at(step, steps)`` may schedule the weight."""

    def __init__(self, weight: float) -> None:
        self.weight = float(weight)

    def weight_at(self, step: int, steps: int) -> float:
        return self.weight

    def penalty(self, param: Parameterization) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, param: Parameterization, step: int = 0, steps: int = 1) -> torch.Tensor:
        return self.weight_at(step, steps) * self.penalty(param)


def _flat_mean(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).mean(1)


class L1(Regularizer):
    def penalty(self, param: Parameterization) -> torch.Tensor:
        return _flat_mean(param.regularized().abs())


class L2(Regularizer):
    """Mean square: Simonyan et al.'s lambda * ||x||^2 (per element, so the weight does not
    depend on the clip length)."""

    def penalty(self, param: Parameterization) -> torch.Tensor:
        return _flat_mean(param.regularized().pow(2))


class TV(Regularizer):
    """Total variation along time (and mel bands for a log-mel input)."""

    def penalty(self, param: Parameterization) -> torch.Tensor:
        x = param.regularized()
        tv = _flat_mean((x[..., 1:] - x[..., :-1]).abs())
        if isinstance(param, Input) and param.domain == "mel":
            tv = tv + _flat_mean((x[:, 1:] - x[:, :-1]).abs())
        return tv


class MaskArea(Regularizer):
    """Fong & Vedaldi (2017): lambda * mean(m), over the clip's active frames."""

    def penalty(self, param: Parameterization) -> torch.Tensor:
        if not isinstance(param, Mask):
            raise TypeError("MaskArea regularizes masks")
        return param.area()


class SortedArea(Regularizer):
    """Extremal-perturbation area constraint: keep exactly ``area`` of the active frames
    (default: the mask's own ``area_target``, the area its constraint checks).

    The weight grows geometrically from ``weight`` to ``weight * growth`` over the run.
    """

    def __init__(self, area: float | None = None, weight: float = 1.0,
                 growth: float = 100.0) -> None:
        super().__init__(weight)
        if area is not None and not 0 < area <= 1:
            raise ValueError("area must be in (0, 1]")
        self.area = None if area is None else float(area)
        self.growth = float(growth)

    def weight_at(self, step: int, steps: int) -> float:
        return self.weight * self.growth ** (step / max(steps - 1, 1))

    def area_of(self, param: Parameterization) -> float:
        """The area to keep: this penalty's, else the mask's; the two must agree (a mask
        penalized towards one area and checked against another never meets its constraint)."""
        if not isinstance(param, Mask):
            raise TypeError("SortedArea regularizes masks")
        own = param.area_target
        if self.area is None:
            if own is None:
                raise ValueError("SortedArea() takes the mask's area_target, and this mask has "
                                 "none: give Mask(..., area_target=) or SortedArea(area)")
            return float(own)
        if own is not None and abs(float(own) - self.area) > 1e-9:
            raise ValueError(f"SortedArea({self.area:g}) on a mask with area_target {own:g}: "
                             "give the area once (SortedArea() takes the mask's)")
        return self.area

    def penalty(self, param: Parameterization) -> torch.Tensor:
        area = self.area_of(param)
        return sorted_area_loss(param.keep_values(), param.active, area)
