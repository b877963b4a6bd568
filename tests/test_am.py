"""amcli.am as a library: parameterizations, objectives, regularizers, the batched loop."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from torch import nn

from amcli import am
from amcli.am.objectives import Context, Hooks
from amcli.features import FeatureParams

T = 16000


def clips(batch: int = 3) -> torch.Tensor:
    torch.manual_seed(0)
    wave = 0.3 * torch.randn(batch, T)
    wave[:, : T // 4] = 0.0  # a silent lead, as real clips have
    return wave


@pytest.mark.parametrize("kind", ["time", "tf"])
def test_mask_shapes_range_and_gradients(kind):
    mask = am.Mask(clips(), kind=kind, max_gain=2.0, init=0.7, init_noise=1.0, seeds=[1, 2, 3])
    frames = mask.frame_mask()
    assert frames.shape == ((3, 63) if kind == "time" else (3, 513, 63))
    assert 0 <= frames.min() and frames.max() <= 2.0
    signal = mask.signal()
    assert signal.shape == (3, T)
    signal.pow(2).sum().backward()
    assert mask.logits.grad is not None and mask.logits.grad.abs().sum() > 0


@pytest.mark.parametrize("baseline", ["silence", "blur"])
@pytest.mark.parametrize("kind", ["time", "tf"])
def test_a_mask_of_ones_returns_the_clip(kind, baseline):
    mask = am.Mask(clips(), kind=kind, baseline=baseline)
    ones = torch.ones_like(mask.frame_mask())
    assert torch.allclose(mask.apply(ones), mask.clips, atol=1e-5)
    assert torch.allclose(mask.signal(), mask.apply(mask.frame_mask()), atol=1e-5)


def stretched_clip() -> tuple[torch.Tensor, slice]:
    """Noise with a quiet stretch (-16 dB) in its middle 30%: its frames, as a slice."""
    torch.manual_seed(1)
    wave = 0.3 * torch.randn(1, 3 * T)
    wave[:, int(1.05 * T):int(1.95 * T)] *= 0.15
    return wave, slice(1.05 * T / 256 + 4, 1.95 * T / 256 - 4)


def level_db(wave: torch.Tensor) -> torch.Tensor:
    from amcli.activity import frame_energy_db

    return frame_energy_db(wave, 256, 1024)[0]


def test_a_blurred_baseline_keeps_the_clips_energy_but_not_where_it_is():
    """Fong & Vedaldi's blur, on audio: what a mask removes keeps the clip's energy and
    spectrum, spread over time, so silence (a cue of its own) is not what removal means."""
    wave, quiet = stretched_clip()
    mask = am.Mask(wave, baseline="blur", blur_s=0.5)
    base = mask.baseline_signal()
    assert base.pow(2).sum().item() == pytest.approx(wave.pow(2).sum().item(), rel=1e-4)
    inside = slice(int(quiet.start), int(quiet.stop))
    clip_dip = level_db(wave)[20:-20].median() - level_db(wave)[inside].median()
    base_dip = level_db(base)[20:-20].median() - level_db(base)[inside].median()
    assert clip_dip > 14 and base_dip < clip_dip / 3
    # with a silence baseline, removing anything makes the clip quieter; with the blurred one,
    # keeping the quiet stretch (and removing the rest) is what makes it quieter
    keep_quiet, keep_loud = torch.zeros_like(mask.frame_mask()), torch.zeros_like(
        mask.frame_mask())
    keep_quiet[:, inside] = 1.0
    keep_loud[:, inside.stop + 10:inside.stop + 10 + (inside.stop - inside.start)] = 1.0
    assert mask.apply(keep_quiet).pow(2).sum() < 0.9 * base.pow(2).sum()
    assert mask.apply(keep_loud).pow(2).sum() > 1.02 * base.pow(2).sum()
    silence = am.Mask(wave)
    assert silence.apply(keep_quiet).pow(2).sum() < 0.05 * wave.pow(2).sum()


def test_an_extremal_mask_on_a_blurred_baseline_keeps_a_quiet_stretch_for_quiet():
    """A model that scores quiet by the clip's level. With silence as the baseline, removing
    everything is the quietest clip, and the mask drops its area to get there; with the blurred
    baseline the only way to be quieter than the baseline is to keep the quiet stretch."""

    class Level(nn.Module):
        def forward(self, wave):
            loud = 10 * torch.log10(wave.pow(2).mean(-1) + 1e-8)
            return torch.stack([-loud, loud], dim=-1)

    wave, quiet = stretched_clip()
    kept = {}
    for baseline in ("silence", "blur"):
        mask = am.Mask(wave, baseline=baseline, init=0.5, area_target=0.2, init_noise=0.1,
                       seeds=[0])
        am.optimize(Level(), mask, [0], regularizers=[am.SortedArea(weight=1.0), am.TV(0.01)],
                    steps=150, lr=0.1, threshold=None)
        keep = mask.time_profile().detach()[0]
        kept[baseline] = (keep[int(quiet.start):int(quiet.stop)].mean(),
                          keep[mask.active[0]].mean())
    assert kept["silence"][0] < 0.1 and kept["silence"][1] < 0.1  # nothing kept at all
    assert kept["blur"][0] > 0.6 and kept["blur"][1] < 0.35


def test_a_mask_refuses_a_baseline_it_does_not_know():
    with pytest.raises(ValueError, match="baseline"):
        am.Mask(clips(), baseline="noise")
    with pytest.raises(ValueError, match="blur_s"):
        am.Mask(clips(), baseline="blur", blur_s=0)


def test_mask_statistics_count_active_frames_only():
    mask = am.Mask(clips(1), init=0.5)
    assert mask.active[0, :10].sum() == 0 and mask.active[0, 30:].all()
    assert mask.area().item() == pytest.approx(0.5, abs=1e-4)
    binary = mask.binarized(torch.tensor([0.25]))
    assert binary[0][~mask.active[0]].sum() == 0
    assert binary[0].sum() == round(0.25 * mask.active[0].sum().item())


def test_input_parameterizations():
    wave = am.Input(2, 8000, seeds=[0, 1])
    assert wave.signal().shape == (2, 8000) and wave.signal().abs().max() < 1
    spectral = am.Input(2, 8000, spectral=True)
    spectral.signal().sum().backward()
    assert spectral.values.grad.abs().sum() > 0
    start = 0.5 * torch.sin(torch.linspace(0, 100, 8000)).expand(2, -1)
    assert torch.allclose(am.Input(2, 8000, init=start).signal(), start, atol=1e-5)
    assert torch.allclose(am.Input(2, 8000, init=start, spectral=True).signal(), start,
                          atol=1e-4)
    mel = am.Input(2, 40, domain="mel", n_mels=64)
    assert mel.signal().shape == (2, 64, 40) and mel.domain == "mel"


def test_class_objectives_have_known_values():
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    ctx = Context(logits, torch.tensor([2, 0]))
    assert am.ClassLogit()(ctx).tolist() == [3.0, 0.0]
    assert torch.allclose(am.ClassProbability()(ctx), torch.softmax(logits, -1)[[0, 1], [2, 0]])
    assert torch.allclose(am.ClassLogSoftmax()(ctx).exp(), am.ClassProbability()(ctx))
    assert am.OtherClassesMean()(ctx).tolist() == [1.5, 0.0]
    seed_variant = am.class_objective("logit", suppress=2.0)  # S_t - 2 * mean(others)
    assert seed_variant(ctx).tolist() == [0.0, 0.0]
    combined = 2 * am.ClassLogit() + am.ClassProbability() * 0 - 1.0
    assert combined(ctx).tolist() == [5.0, -1.0]


def test_layer_objectives_read_forward_hooks():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    hooks = Hooks(model, ("0",))
    x = torch.randn(5, 4)
    model(x)
    ctx = Context(torch.zeros(5, 2), torch.zeros(5, dtype=torch.long), hooks.activations)
    expected = model[0](x)
    assert torch.allclose(am.LayerActivation("0", channel=1)(ctx), expected[:, 1])
    assert torch.allclose(am.LayerActivation("0", unit=2)(ctx), expected[:, 2])
    assert torch.allclose(am.LayerActivation("0")(ctx), expected.mean(1))
    hooks.remove()
    with pytest.raises(KeyError, match="unknown layer"):
        Hooks(model, ("body.nope",))


def test_regularizers_on_known_inputs():
    mask = am.Mask(clips(1), init=0.5)
    assert am.TV(1.0)(mask).item() == pytest.approx(0.0, abs=1e-6)  # constant mask
    assert am.L1(2.0)(mask).item() == pytest.approx(1.0, abs=1e-3)
    assert am.L2(1.0)(mask).item() == pytest.approx(0.25, abs=1e-3)
    assert am.MaskArea(1.0)(mask).item() == pytest.approx(0.5, abs=1e-3)
    # sorted area: (1 - a) n zeros then a n ones
    keep = torch.tensor([[0.0, 0.0, 1.0, 1.0, 0.3]])
    active = torch.tensor([[True, True, True, True, False]])
    assert am.sorted_area_loss(keep, active, 0.5).item() == 0.0
    assert am.sorted_area_loss(keep, active, 0.25).item() == pytest.approx(0.25)
    schedule = am.SortedArea(0.5, weight=1.0, growth=100.0)
    assert schedule.weight_at(0, 11) == 1.0 and schedule.weight_at(10, 11) == pytest.approx(100)


def test_robust_transforms_keep_shapes_and_vary_by_step_not_by_batch():
    transforms = am.default_transforms(shift_s=0.01, gain_db=2.0, snr_db=(20, 30),
                                       sample_rate=16000, hop_length=256)
    wave = clips(2)
    seeds = torch.tensor([7, 8])
    a = transforms(wave, "wave", am.Draws(seeds, 1))
    b = transforms(wave, "wave", am.Draws(seeds, 2))
    assert a.shape == wave.shape and not torch.equal(a, b)
    again = transforms(wave, "wave", am.Draws(seeds, 1))
    assert torch.equal(a, again)  # a pure function of (seed, step)
    alone = transforms(wave[1:], "wave", am.Draws(seeds[1:], 1))
    assert torch.equal(alone, a[1:])  # an item's draws do not depend on its batch
    mel = torch.randn(2, 64, 50)
    assert transforms(mel, "mel", am.Draws(seeds, 1)).shape == mel.shape


def test_the_shift_follows_the_model_it_runs_on_unless_told():
    class At8k(nn.Module):
        sample_rate = 8000
        feature_params = FeatureParams(sample_rate=8000, hop_length=80)

    bound = am.default_transforms(shift_s=0.01).for_model(At8k())
    shift = bound.transforms[0]
    assert (shift.sample_rate, shift.hop_length) == (8000, 80)
    told = am.default_transforms(sample_rate=16000, hop_length=256).for_model(At8k())
    assert (told.transforms[0].sample_rate, told.transforms[0].hop_length) == (16000, 256)
    # 10 ms at 8 kHz: no sample moves by more than 80
    wave = torch.arange(4000.0).expand(3, -1)
    moved = shift(wave, "wave", am.Draws(torch.tensor([1, 2, 3]), 1))
    offsets = (moved[:, 0] - wave[:, 0]).abs()
    offsets = torch.minimum(offsets, 4000 - offsets)  # circular: -66 reads as 3934
    assert offsets.max() <= 80 and offsets.max() > 0
    with pytest.raises(ValueError, match="Module has no sample_rate"):
        am.default_transforms().for_model(nn.Module())
    with pytest.raises(ValueError, match="no sample rate"):
        am.RandomShift(0.01)(wave, "wave", am.Draws(torch.tensor([1, 2, 3]), 1))


def test_a_mask_area_is_given_once():
    mask = am.Mask(clips(2), init=0.5, seeds=range(2), area_target=0.3)
    own = am.SortedArea()
    assert own.area_of(mask) == 0.3
    assert torch.equal(own.penalty(mask), am.SortedArea(0.3).penalty(mask))
    with pytest.raises(ValueError, match="give the area once"):
        am.SortedArea(0.5).penalty(mask)
    with pytest.raises(ValueError, match="has none"):
        am.SortedArea().penalty(am.Mask(clips(2), init=0.5, seeds=range(2)))


class Toy(nn.Module):
    """A linear 'classifier' on waveform energy in two halves, enough to test the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(2, 3)
        with torch.no_grad():
            self.body.weight.copy_(torch.tensor([[4.0, -4.0], [-4.0, 4.0], [0.0, 0.0]]))
            self.body.bias.zero_()

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        half = wave.shape[-1] // 2
        energy = torch.stack([wave[:, :half].pow(2).mean(-1), wave[:, half:].pow(2).mean(-1)], 1)
        return self.body(10 * energy)


def test_the_loop_reaches_every_target_in_one_batch():
    model = Toy()
    param = am.Input(4, 400, seeds=range(4), noise_std=0.1)
    result = am.optimize(model, param, [0, 1, 0, 1], steps=300, lr=0.05, threshold=0.99,
                         record_every=5)
    assert (result.target_prob >= 0.99).all()
    assert result.stop_reason == ["threshold"] * 4
    assert all(0 < s < 300 for s in result.steps)
    assert len(result.history["target_prob"]) == len(result.history["step"])


def test_a_nonfinite_item_is_stopped_and_reported_while_the_others_finish():
    class Poisoned(Toy):
        def forward(self, wave):
            logits = super().forward(wave)
            poison = torch.zeros_like(logits)
            if len(logits) == 3:  # item 1 of the whole batch turns NaN (once it has stopped,
                poison[1] = math.nan  # the loop runs only the other two)
            return logits + poison

    param = am.Input(3, 400, seeds=range(3), noise_std=0.1)
    before = param.values.detach().clone()
    result = am.optimize(Poisoned(), param, [0, 1, 1], steps=300, lr=0.05, threshold=0.99)
    assert result.stop_reason[1] == "nonfinite"
    assert result.stop_reason[0] == "threshold" and result.target_prob[0] >= 0.99
    assert torch.equal(param.values.detach()[1], before[1])  # restored, never updated
    assert torch.isfinite(param.values).all()


def test_every_item_turning_nonfinite_at_once_ends_the_run_with_its_last_good_state():
    """When no item is left running, the last check asks the parameterization for no signal
    (the prosody resynthesis cannot make one of no items) and keeps the states it has."""
    class AllPoisoned(Toy):
        def forward(self, wave):
            logits = super().forward(wave)
            return logits + (math.nan if torch.is_grad_enabled() else 0.0)

    class AskedForRows(am.Input):
        def signal_rows(self, rows):
            assert rows.numel() > 0, "asked for the signal of no items"
            return super().signal_rows(rows)

    param = AskedForRows(3, 400, seeds=range(3), noise_std=0.1)
    before = param.values.detach().clone()
    result = am.optimize(AllPoisoned(), param, [0, 1, 1], steps=50, lr=0.05, threshold=0.99)
    assert result.stop_reason == ["nonfinite"] * 3
    assert torch.equal(param.values.detach(), before)
    assert torch.isfinite(result.probs).all()


def test_stopped_items_are_frozen():
    model = Toy()
    param = am.Input(2, 400, seeds=range(2), noise_std=0.1)
    result = am.optimize(model, param, [0, 1], steps=400, lr=0.05, threshold=0.9,
                         record_every=1)
    first = min(result.steps)
    assert result.stop_reason == ["threshold", "threshold"] and first < 400
    # the item that stopped first kept its probability where it stopped
    assert result.target_prob.min() >= 0.9


def test_interrupt_returns_what_exists():
    model = Toy()
    param = am.Input(2, 400, noise_std=0.1)
    calls = {"n": 0}

    def progress(step, p):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    result = am.optimize(model, param, [0, 1], steps=200, lr=0.01, threshold=None,
                         record_every=5, progress=progress)
    assert result.interrupted and set(result.stop_reason) == {"interrupted"}
    assert result.signal.shape == (2, 400)


def test_extremal_mask_keeps_the_half_that_carries_the_class():
    """Toy: class 0 = more energy in the first half, class 1 = in the second. With half the
    active frames to keep, the mask must keep the right half for each target."""
    torch.manual_seed(0)
    wave = 0.5 * torch.randn(1, 16000).expand(2, -1).contiguous()
    mask = am.Mask(wave, init=0.5, area_target=0.5, init_noise=0.1, seeds=[0, 1])
    result = am.optimize(Toy(), mask, [0, 1], regularizers=[am.SortedArea(0.5), am.TV(0.01)],
                         steps=150, lr=0.1, threshold=None)
    keep = mask.time_profile().detach()
    half = keep.shape[-1] // 2
    assert keep[0, :half].mean() > 0.8 and keep[0, half:].mean() < 0.2
    assert keep[1, half:].mean() > 0.8 and keep[1, :half].mean() < 0.2
    assert (mask.area() - 0.5).abs().max() < 0.05
    assert (result.target_prob > 0.9).all()


def test_compiled_classifier_gives_the_same_optimization():
    model = Toy()

    def run(compile: bool) -> am.Result:
        param = am.Input(2, 400, seeds=range(2), noise_std=0.1)
        return am.optimize(model, param, [0, 1], steps=8, lr=0.05, threshold=None,
                           compile=compile)

    eager, compiled = run(False), run(True)
    assert torch.allclose(eager.signal, compiled.signal, atol=1e-5)
    assert torch.allclose(eager.probs, compiled.probs, atol=1e-5)


def test_the_compiled_forward_only_runs_with_gradients(monkeypatch):
    """The no-grad checks run the eager model: a compiled forward called in both grad modes
    compiles twice per batch size, and dynamo's recompile limit (8) then sends it back to
    eager for good (seen on an H200 timing four batch sizes in two precisions)."""
    seen: list[bool] = []

    def recorder(model, domain, device):
        def forward(signal):
            seen.append(torch.is_grad_enabled())
            return model(signal)
        return forward

    loop = sys.modules["amcli.am.optimize"]  # the module (the package exports its function)
    monkeypatch.setattr(loop, "compiled_forward", recorder)
    # transforms make the loop check each state with a separate no-grad forward
    transforms = am.Compose([am.RandomGain(3.0)])
    am.optimize(Toy(), am.Input(2, 400, seeds=range(2), noise_std=0.1), [0, 1], steps=6,
                lr=0.05, threshold=None, record_every=2, transforms=transforms, compile=True)
    assert len(seen) == 6 and all(seen)


def test_chunk_size_fits_the_free_memory():
    from amcli.am import chunk_size

    assert chunk_size(2048, per_item_bytes=2**20, free_bytes=1000 * 2**20) == 800
    assert chunk_size(100, per_item_bytes=2**20, free_bytes=1000 * 2**20) == 100
    assert chunk_size(10, per_item_bytes=2**30, free_bytes=2**20) == 1  # never zero
