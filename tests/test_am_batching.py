"""Results that do not depend on batching, and a library that hands the user's objects back."""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

from amcli import am
from amcli.am.methods.input import InputOptions
from amcli.am.methods.latent import LatentOptions, LatentSetup, PriorConfig, PriorResources
from amcli.am.methods.mask import MaskBaseline, MaskOptions

CLASSES = ["neutral", "happy", "sad", "angry"]


class ConvOnly(nn.Module):
    """A small classifier on waveforms (one strided convolution, then elementwise sums)."""

    classes = CLASSES
    sample_rate = 16000
    representation = "raw"
    feature_params = None
    checkpoint = {"name": "conv-only"}

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv1d(1, 8, 64, stride=32)
        self.out = nn.Parameter(torch.randn(len(CLASSES), 8))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        pooled = torch.tanh(self.conv(wave.unsqueeze(1))).mean(-1)  # [B, 8]
        return (pooled.unsqueeze(1) * self.out).sum(-1)


def clip() -> torch.Tensor:
    torch.manual_seed(0)
    wave = 0.3 * torch.randn(8000)
    wave[:1000] = 0.0
    return wave


def settings(**kw) -> am.RunSettings:
    base = dict(steps=12, min_steps=4, record_every=2, threshold=0.6,
                transforms=am.default_transforms())
    return am.RunSettings(**{**base, **kw})


def run_mask(items, model, options: MaskOptions | None = None):
    method = am.get_method("mask")
    return am.run_items(method, options or MaskOptions(), model, items, {"c": clip()},
                        settings())


# Everything amcli draws is per item, so an item starts and is perturbed identically alone or in
# any batch (asserted bit for bit). What remains is PyTorch's arithmetic: its CPU kernels
# vectorize by tensor size (a row's last elements may take the scalar path, small batches other
# BLAS kernels), so values may differ in the last bit (~1e-7) and drift slightly over steps.
TOLERANCE = 1e-5


@pytest.mark.parametrize("baseline", list(MaskBaseline))
def test_a_batch_of_n_items_equals_n_runs_of_one(baseline):
    model = ConvOnly()
    options = MaskOptions(baseline=baseline)
    items = am.build_items(["angry", "sad"], ["c"], restarts=2, seed=5)
    together = run_mask(items, model, options)
    start = am.get_method("mask").build(
        options, am.run.item_batch(model, items, {"c": clip()}, "cpu"), None)
    for i, item in enumerate(items):
        alone = run_mask([item], model, options)
        first = am.get_method("mask").build(
            options, am.run.item_batch(model, [item], {"c": clip()}, "cpu"), None)
        if baseline == MaskBaseline.blur:  # the baseline is the item's own, whatever the batch
            assert torch.equal(first.param.base_stft[0], start.param.base_stft[i])
        assert torch.equal(first.param.logits[0], start.param.logits[i])  # same start, exactly
        assert torch.allclose(alone.result.signal[0], together.result.signal[i],
                              atol=TOLERANCE)
        assert torch.allclose(alone.result.probs[0], together.result.probs[i], atol=TOLERANCE)
        assert alone.result.steps[0] == together.result.steps[i]
        assert alone.records[0]["mask"]["area"] == pytest.approx(
            together.records[i]["mask"]["area"], abs=TOLERANCE)


def test_chunked_runs_equal_one_batch_and_restarts_differ():
    model = ConvOnly()
    items = am.build_items(["angry"], ["c"], restarts=4, seed=0)
    whole = run_mask(items, model)
    chunks = [run_mask(items[:2], model), run_mask(items[2:], model)]
    chunked = torch.cat([c.result.signal for c in chunks])
    assert torch.allclose(chunked, whole.result.signal, atol=TOLERANCE)
    assert [s for c in chunks for s in c.result.steps] == whole.result.steps
    signals = whole.result.signal
    assert all((signals[a] - signals[b]).abs().max() > 100 * TOLERANCE
               for a in range(4) for b in range(a))


def test_item_seeds_follow_identity_not_position():
    first = am.build_items(["angry"], ["c"], restarts=2, seed=0)
    more = am.build_items(["happy", "angry"], ["c"], restarts=2, seed=0)
    assert [i.seed for i in first] == [i.seed for i in more if i.target == "angry"]
    assert len({i.seed for i in more}) == 4
    assert am.item_seed(1, "c", "angry", 0) != first[0].seed


def test_draws_are_uniform_normal_and_per_item():
    seeds = torch.tensor([1, 2, 3])
    draws = am.Draws(seeds, step=4)
    u, z = draws.uniform(0, 20000), draws.normal(1, 20000)
    assert 0 < u.min() and u.max() < 1 and abs(float(u.mean()) - 0.5) < 0.01
    assert abs(float(z.mean())) < 0.03 and abs(float(z.std()) - 1.0) < 0.03
    assert not torch.equal(u[0], u[1])
    assert torch.equal(am.Draws(seeds[2:], 4).uniform(0, 100), u[2:, :100])
    assert not torch.equal(am.Draws(seeds, 5).uniform(0, 100), u[:, :100])
    ints = am.Draws(seeds, 4).integers(2, -3, 3)
    assert ints.min() >= -3 and ints.max() <= 3


class Recurrent(nn.Module):
    classes = CLASSES
    sample_rate = 16000
    representation = "raw"
    feature_params = None

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(1, 4, batch_first=True)
        self.head = nn.Linear(4, len(CLASSES))

    def forward(self, wave):
        frames = wave[:, : wave.shape[1] // 100 * 100].reshape(wave.shape[0], -1, 100)
        out, _ = self.rnn(frames.pow(2).mean(-1, keepdim=True))
        return self.head(out.mean(1))


def test_optimize_hands_the_model_back_as_it_found_it():
    model = Recurrent().train()
    model.head.weight.requires_grad_(False)  # a user's own mix of frozen and trainable
    flags = [p.requires_grad for p in model.parameters()]
    modes = [m.training for m in model.modules()]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    param = am.Input(2, 800, seeds=[0, 1])
    am.optimize(model, param, [0, 1], steps=3, threshold=None)
    assert [p.requires_grad for p in model.parameters()] == flags
    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_latent_borrows_the_generator_without_changing_it():
    from amcli.models.gan import build_gan

    gen, _ = build_gan("raw", CLASSES, False, width=2, latent_dim=8)
    gen.train()
    flags = [p.requires_grad for p in gen.parameters()]
    stats = {k: v.clone() for k, v in gen.state_dict().items()}
    model = ConvOnly()
    items = am.build_items(["sad", "angry"], [""], restarts=1, seed=0)
    setup = LatentSetup(LatentOptions(init_candidates=3), PriorConfig())
    am.run_items(am.get_method("latent"), setup, model, items, None, settings(steps=3),
                 resources=PriorResources(gen, None))
    assert gen.training and [p.requires_grad for p in gen.parameters()] == flags
    assert all(torch.equal(stats[k], v) for k, v in gen.state_dict().items())  # BN untouched


def test_rnns_get_gradients_in_eval_mode_on_cuda_and_are_restored():
    gru = Recurrent().eval()
    lstm = nn.Sequential(nn.LSTM(1, 4, num_layers=2, dropout=0.3)).eval()
    cuda = torch.device("cuda")
    with am.rnn_backward_allowed(gru, cuda) as handled:
        assert handled == ["rnn"] and gru.rnn.training and not gru.head.training
        assert torch.backends.cudnn.enabled
    assert not gru.rnn.training
    with am.rnn_backward_allowed(lstm, cuda):
        assert not lstm[0].training  # dropout between layers: same function only in eval mode
        assert not torch.backends.cudnn.enabled  # so cuDNN is off instead
    assert torch.backends.cudnn.enabled
    with am.rnn_backward_allowed(gru, torch.device("cpu")) as handled:
        assert handled == [] and not gru.rnn.training


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_user_lstm_gets_input_gradients_on_cuda_in_eval_mode():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(1, 8, num_layers=2, dropout=0.2, batch_first=True)
            self.head = nn.Linear(8, 4)

        def forward(self, wave):
            frames = wave.reshape(wave.shape[0], -1, 100).pow(2).mean(-1, keepdim=True)
            return self.head(self.rnn(frames)[0].mean(1))

    model = Net().cuda().eval()
    param = am.Input(2, 1600, seeds=[0, 1]).cuda()
    result = am.optimize(model, param, [0, 1], steps=3, threshold=None)
    assert torch.isfinite(result.logits).all() and not model.training


def test_every_parameterization_says_what_its_penalties_act_on():
    class Bare(am.Parameterization):
        def __init__(self):
            super().__init__()
            self.x = nn.Parameter(torch.zeros(2, 3))

        def signal(self):
            return self.x

    with pytest.raises(NotImplementedError, match="regularized"):
        am.L2(1.0)(Bare())
    latent_like = am.Input(2, 10, seeds=[0, 1])
    assert torch.equal(latent_like.regularized(), latent_like.signal())


def test_default_learning_rates_live_with_the_method():
    assert am.get_method("mask").default_lr == am.Mask.default_lr == 0.1
    assert am.get_method("input").default_lr == am.Input.default_lr == 0.003
    assert am.get_method("latent").default_lr == am.Latent.default_lr == 0.05
    assert set(am.METHODS) >= {"mask", "input", "latent"}


def test_input_method_from_noise_is_seeded_per_item():
    model = ConvOnly()
    items = am.build_items(["happy", "sad"], [""], restarts=1, seed=2)
    a = am.run_items(am.get_method("input"), InputOptions(seconds=0.25), model, items, None,
                     settings(steps=2))
    b = am.run_items(am.get_method("input"), InputOptions(seconds=0.25), model, items[1:], None,
                     settings(steps=2))
    # The starting noise is bit-identical; after steps, a batch of two and a batch of one may
    # run different float kernels, so the runs agree to rounding, while a different seed's
    # noise differs by the signal's own size.
    start_pair = am.Input(2, 4000, seeds=[items[0].seed, items[1].seed]).signal()
    start_one = am.Input(1, 4000, seeds=[items[1].seed]).signal()
    assert torch.equal(start_pair[1], start_one[0])
    assert torch.allclose(a.result.signal[1], b.result.signal[0], atol=1e-5)
    assert not torch.allclose(a.result.signal[0], b.result.signal[0], atol=1e-3)


def device_reads(monkeypatch, batch: int, steps: int) -> int:
    """How often one run of amcli's loop reads a tensor's value on the host: on a GPU each
    read waits for the device to finish what was queued, so the loop must not read per item.
    (Reads inside PyTorch are not counted: Adam's step counter lives on the host.)"""
    reads = 0
    for name in ("__bool__", "__float__", "__int__", "item", "tolist", "nonzero"):
        original = getattr(torch.Tensor, name)

        def counted(*args, _original=original, **kw):
            nonlocal reads
            reads += "amcli" in sys._getframe(1).f_code.co_filename
            return _original(*args, **kw)

        monkeypatch.setattr(torch.Tensor, name, counted)
    model = ConvOnly()
    clips = clip().expand(batch, -1).contiguous()
    mask = am.Mask(clips, init=0.5, init_noise=0.5, seeds=range(batch), area_target=0.5)
    am.optimize(model, mask, torch.arange(batch) % len(CLASSES),
                regularizers=[am.SortedArea(0.5), am.TV(0.05)], steps=steps, threshold=None,
                record_every=10)
    monkeypatch.undo()
    return reads


def test_the_loop_reads_from_the_device_once_per_step_whatever_the_batch(monkeypatch):
    few, many = device_reads(monkeypatch, 2, 20), device_reads(monkeypatch, 64, 20)
    longer = device_reads(monkeypatch, 2, 40)
    assert few == many  # no read per item (it was 2 per item at each record step)
    # 20 more steps (2 more record steps): one read per step (did any item's gradient turn
    # non-finite?) and eight per record step (the histories, the best-state ranking)
    assert longer - few == 20 + 2 * 8


def test_the_loop_runs_one_forward_per_step_and_reports_the_logits_of_its_states():
    calls = []

    class Counted(ConvOnly):
        def forward(self, wave):
            calls.append(wave.shape[0])
            return super().forward(wave)

    model = Counted()
    clips = clip().expand(3, -1).contiguous()
    mask = am.Mask(clips, init=0.5, init_noise=0.5, seeds=range(3), area_target=0.5)
    result = am.optimize(model, mask, [0, 1, 2], regularizers=[am.SortedArea(0.5)], steps=20,
                         threshold=None, record_every=10)
    # one forward per step, one for the last state: the best states' logits are kept, not
    # computed again
    assert len(calls) == 21
    with torch.no_grad():
        assert torch.allclose(model(result.signal), result.logits, atol=1e-5)
    assert torch.equal(result.signal, mask.signal().detach())
