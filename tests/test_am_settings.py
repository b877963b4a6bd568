"""The loop's settings do what they say: the optimizer's update rule, bf16 autocast, and the
mask's penalty formulation (Fong & Vedaldi 2017) against its extremal one."""

from __future__ import annotations

import pytest
import torch
from test_am_batching import ConvOnly, clip, settings
from torch import nn

from amcli import am
from amcli.am.methods.mask import MaskFormulation, MaskOptions


class LinearOnMel(nn.Module):
    """Logits linear in the log-mel: the objective's gradient is the target's weight, the same
    at every step, so the optimizers' updates can be written down by hand."""

    classes = ["a", "b"]
    sample_rate = 16000
    representation = "mel"

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.weight = nn.Parameter(torch.randn(2, 4, 5))

    def body(self, mel: torch.Tensor) -> torch.Tensor:
        return (mel.unsqueeze(1) * self.weight).sum((-1, -2))


def two_steps(optimizer: str, lr: float = 0.01) -> tuple[torch.Tensor, torch.Tensor, am.Result]:
    model = LinearOnMel()
    param = am.Input(1, 5, domain="mel", n_mels=4, seeds=[0])
    start = param.values.detach().clone()
    result = am.optimize(model, param, [1], steps=2, lr=lr, optimizer=optimizer,
                         threshold=None, record_every=1)
    return start, model.weight.detach()[1], result


def test_sgd_takes_momentum_steps_along_the_gradient():
    # SGD with momentum 0.9 and a constant gradient g: x1 = x0 + lr g, x2 = x1 + lr (0.9 g + g)
    start, gradient, result = two_steps("sgd")
    assert result.best_step == [2]
    assert torch.allclose(result.signal[0], start[0] + 0.01 * 2.9 * gradient, atol=1e-6)


def test_adam_takes_steps_of_lr_per_coordinate():
    # Adam's bias-corrected first steps with a constant gradient move by lr * sign(g)
    start, gradient, result = two_steps("adam")
    assert torch.allclose(result.signal[0], start[0] + 2 * 0.01 * gradient.sign(), atol=1e-5)


def test_an_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="use adam or sgd"):
        two_steps("lbfgs")


class Spy(ConvOnly):
    """ConvOnly that notes, at every forward, whether bfloat16 autocast was on."""

    def __init__(self) -> None:
        super().__init__()
        self.autocast: list[bool] = []

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        self.autocast.append(torch.is_autocast_enabled("cpu")
                             and torch.get_autocast_dtype("cpu") == torch.bfloat16)
        return super().forward(wave)


def test_bf16_runs_every_forward_of_the_loop_under_autocast_and_reports_float32():
    results = {}
    for precision in ("fp32", "bf16"):
        model = Spy()
        mask = am.Mask(clip().unsqueeze(0), area_target=0.5, init_noise=0.5, seeds=[0])
        results[precision] = am.optimize(model, mask, [3], regularizers=[am.SortedArea(0.5)],
                                         transforms=am.default_transforms(), steps=4,
                                         threshold=None, record_every=1, precision=precision)
        assert len(model.autocast) >= 8, precision  # every step, every check, the final state
        assert set(model.autocast) == {precision == "bf16"}, precision
    fp32, bf16 = results["fp32"], results["bf16"]
    assert bf16.probs.dtype == torch.float32
    # the same start heard in bfloat16: close to float32 (about 3 significant digits), not equal
    first_fp32, first_bf16 = fp32.history["target_prob"][0][0], bf16.history["target_prob"][0][0]
    assert first_bf16 == pytest.approx(first_fp32, abs=0.02)
    assert first_bf16 != first_fp32


def mask_record(options: MaskOptions, steps: int = 40) -> dict:
    items = am.build_items(["angry"], ["c"], restarts=1, seed=0)
    out = am.run_items(am.get_method("mask"), options, ConvOnly(), items, {"c": clip()},
                       settings(steps=steps, threshold=None))
    return out.records[0]["mask"]


def test_the_penalty_formulation_trades_the_masks_area_for_evidence():
    """With formulation=penalty the mask has no area to keep: lambda * mean(m) pulls it down,
    the target pulls it towards what the model needs, and a larger lambda keeps less."""
    free = mask_record(MaskOptions(formulation=MaskFormulation.penalty, penalty=0.0, tv=0.0))
    costly = mask_record(MaskOptions(formulation=MaskFormulation.penalty, penalty=20.0, tv=0.0))
    assert free["area_target"] is None and costly["area_target"] is None
    assert costly["area"] < 0.1
    assert free["area"] > costly["area"] + 0.2


def test_the_extremal_formulation_keeps_its_area():
    record = mask_record(MaskOptions(area=0.3, tv=0.0), steps=60)
    assert record["area_target"] == 0.3
    assert record["area"] == pytest.approx(0.3, abs=0.05)
