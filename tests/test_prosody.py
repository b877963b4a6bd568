"""The prosody resynthesis: faithful when unedited, each control moving its own cue, gradients
to every control, bounds that hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from amcli.am.prosody.analysis import analyse
from amcli.am.prosody.controls import FAMILIES, Bounds, Prosody
from amcli.am.prosody.fit import fit
from amcli.am.prosody.source import Edits, Source
from amcli.am.prosody.synthesis import synthesize, white_noise_stft
from amcli.audio import read_audio
from amcli.data.base import crop_or_pad
from amcli.metrics.cues import measure_cues
from amcli.models import load_classifier
from amcli.resources import example_clip

RATE, N_FFT, HOP, LENGTH = 16000, 224, 112, 48000
CLASSES = ["neutral", "happy", "sad", "angry"]

pytestmark = pytest.mark.slow  # whole clips analysed, fitted and resynthesized


@pytest.fixture(scope="module")
def fitted() -> dict[str, tuple[torch.Tensor, Source]]:
    """Each example clip, padded to 3 s, and its fitted model."""
    out = {}
    for label in CLASSES:
        wave = crop_or_pad(read_audio(example_clip(label), RATE)[0], LENGTH)
        out[label] = (wave, fit(analyse(wave, RATE, hop=HOP, n_fft=N_FFT), wave))
    return out


def _plan(**edits: float) -> Edits:
    plan = Edits.none(1, LENGTH // HOP + 1)
    for name, value in edits.items():
        setattr(plan, name, torch.full_like(getattr(plan, name), value))
    return plan


def render(source: Source, **edits: float) -> torch.Tensor:
    return synthesize(source, _plan(**edits), white_noise_stft([3], LENGTH, N_FFT, HOP),
                      LENGTH)[0]


def stft_magnitude(wave: torch.Tensor) -> torch.Tensor:
    return torch.stft(wave, 1024, 256, window=torch.hann_window(1024), return_complex=True).abs()


def test_unedited_resynthesis_is_the_clip_for_every_example_and_classifier(fitted):
    """Harmonics plus the clip's own residual give the clip back: no classifier, the transformer
    included, hears a difference (a fresh draw of noise moved w2v2_tiny by up to 0.06 here and
    by 0.21 on noisy recordings), and the noise seed plays no part without an edit."""
    names = ["crnn_mel", "cnn_mel", "cnn_raw", "crnn_raw", "judge", "w2v2_tiny"]
    models = {n: load_classifier(n).eval() for n in names}
    frames = LENGTH // HOP + 1
    for label, (wave, source) in fitted.items():
        again = render(source)
        assert float((again - wave).norm() / wave.norm()) < 1e-3, label
        other_seed = synthesize(source, Edits.none(1, frames),
                                white_noise_stft([11], LENGTH, N_FFT, HOP), LENGTH)[0]
        assert torch.allclose(other_seed, again, atol=1e-6), label
        with torch.no_grad():
            for name, model in models.items():
                p, q = (torch.softmax(model(x[None]), -1)[0] for x in (wave, again))
                assert (p - q).abs().max() <= 0.005, (label, name, p, q)


def test_the_residual_follows_the_gain_and_keeps_its_power_under_a_warp(fitted):
    """What the harmonics leave (steps, clicks, rumble, the noise between words) is the clip's
    own STFT, scaled by the gain contour; read between frames (tempo) its power is interpolated,
    not lost as a complex mix of two frames would lose it."""
    from amcli.am.prosody.synthesis import _interp_spectra, edited_frames

    source = fitted["angry"][1]
    frames = source.n_frames
    plain = edited_frames(source, Edits.none(1, frames))["residual"]
    assert torch.allclose(plain, source.residual, atol=1e-6)
    louder = Edits.none(1, frames)
    louder.gain_db += 6.0
    scaled = edited_frames(source, louder)["residual"]
    assert torch.allclose(scaled.abs(), plain.abs() * 10 ** 0.3, rtol=1e-4, atol=1e-8)
    torch.manual_seed(0)
    noise = torch.stft(torch.randn(4, 16000), N_FFT, HOP, window=torch.hann_window(N_FFT),
                       return_complex=True).transpose(1, 2)
    halfway = torch.arange(noise.shape[1] - 1).float().expand(4, -1) + 0.5
    kept = _interp_spectra(noise, halfway).abs().pow(2).mean() / noise.abs().pow(2).mean()
    low = torch.arange(noise.shape[1] - 1).expand(4, -1)
    mixed = 0.5 * (noise.gather(1, low.unsqueeze(-1).expand(-1, -1, noise.shape[-1]))
                   + noise.gather(1, (low + 1).unsqueeze(-1).expand(-1, -1, noise.shape[-1])))
    lost = mixed.abs().pow(2).mean() / noise.abs().pow(2).mean()
    assert abs(10 * math.log10(float(kept))) < 0.2 and 10 * math.log10(float(lost)) < -1.2


def test_breathiness_hands_harmonic_power_to_aspiration(fitted):
    """A breathier voice is aspiration noise in the voiced frames (the draw differs by seed) at
    the level and pitch the clip had; a less breathy one draws no noise."""
    source = fitted["neutral"][1]
    base = measure_cues(render(source).numpy(), RATE)
    breathy = render(source, breathiness=0.8)
    other_draw = synthesize(source, _plan(breathiness=0.8),
                            white_noise_stft([11], LENGTH, N_FFT, HOP), LENGTH)[0]
    assert float((breathy - other_draw).norm() / breathy.norm()) > 0.2
    cues = measure_cues(breathy.numpy(), RATE)
    assert abs(cues["rms_db"] - base["rms_db"]) < 1.0
    assert abs(12 * math.log2(cues["f0_mean_hz"] / base["f0_mean_hz"])) < 0.3
    clear = synthesize(source, _plan(breathiness=-0.8),
                       white_noise_stft([11], LENGTH, N_FFT, HOP), LENGTH)[0]
    assert torch.allclose(clear, render(source, breathiness=-0.8), atol=1e-6)


def test_each_control_moves_its_own_cue(fitted):
    source = fitted["neutral"][1]
    base = measure_cues(render(source).numpy(), RATE)

    def shift(**edits: float) -> dict[str, float]:
        cues = measure_cues(render(source, **edits).numpy(), RATE)
        return {"f0_st": 12 * math.log2(cues["f0_mean_hz"] / base["f0_mean_hz"]),
                "rms_db": cues["rms_db"] - base["rms_db"],
                "active": base["active_s"] / cues["active_s"],
                "centroid": cues["centroid_hz"] - base["centroid_hz"],
                "spread": cues["f0_spread_st"] - base["f0_spread_st"]}

    up = shift(pitch_st=2.0)
    assert up["f0_st"] == pytest.approx(2.0, abs=0.3) and abs(up["rms_db"]) < 1.0
    assert shift(pitch_st=-2.0)["f0_st"] == pytest.approx(-2.0, abs=0.3)
    for octave in (-12.0, 12.0):  # the level stays where it was (it moved 4-7 dB before)
        assert abs(shift(pitch_st=octave)["rms_db"]) < 1.0, octave
    assert shift(gain_db=6.0)["rms_db"] == pytest.approx(6.0, abs=0.5)
    assert shift(rate=1.2)["active"] == pytest.approx(1.2, abs=0.06)
    assert shift(rate=0.8)["active"] == pytest.approx(0.8, abs=0.06)
    assert shift(tilt_db_per_octave=3.0)["centroid"] > 200
    assert shift(tilt_db_per_octave=-3.0)["centroid"] < -200
    wider = shift(range_scale=1.5)
    assert wider["spread"] > 0.4 and abs(wider["f0_st"]) < 0.5
    breathy = shift(breathiness=0.8)
    assert abs(breathy["f0_st"]) < 0.2 and abs(breathy["rms_db"]) < 1.5


def prosody(source: Source, batch: int = 2, **kwargs) -> Prosody:
    rows = source.select(torch.zeros(batch, dtype=torch.long))
    return Prosody(rows, white_noise_stft(list(range(batch)), LENGTH, N_FFT, HOP), LENGTH,
                   seeds=list(range(batch)), **kwargs)


def test_the_tempo_warp_keeps_the_speech_centred(fitted):
    """Slower or faster, the speech stays where it sat in the window (the warp holds its centre),
    so a slower clip spreads into the silence on both sides instead of running off the end."""
    source = fitted["sad"][1]  # the longest example clip (2.1 s, centred in 3 s)

    def span(wave: torch.Tensor) -> tuple[float, float]:
        energy = wave.pow(2).unfold(0, 256, 256).mean(-1)
        active = (energy > energy.max() * 1e-4).nonzero().flatten()
        return float(active[0]) * 256 / RATE, float(active[-1] + 1) * 256 / RATE

    start, end = span(render(source))
    for rate in (0.72, 1.35):
        a, b = span(render(source, rate=rate))
        assert abs((a + b) / 2 - (start + end) / 2) < 0.06, rate
        assert (b - a) == pytest.approx((end - start) / rate, abs=0.12), rate
        assert a > 0.0 and b < LENGTH / RATE


def test_gradients_reach_every_control(fitted):
    param = prosody(fitted["happy"][1])
    features = torch.stft(param.signal(), 512, 128, window=torch.hann_window(512),
                          return_complex=True).abs()
    # a loss that cares about level, timing and spectral balance
    weights = torch.linspace(0.0, 1.0, features.shape[1]).view(1, -1, 1)
    (features * weights).log1p().sum().backward()
    grad = param.raw.grad
    for name, part in param._slices.items():
        assert grad[:, part].abs().sum() > 0, name


def test_a_prosody_is_built_on_the_device_of_its_noise(fitted):
    """Built from tensors on a GPU, every buffer and the parameters are there too (the default
    family mask was made on the CPU, and the first step failed on CUDA); "meta" stands in."""
    rows = fitted["happy"][1].select(torch.zeros(2, dtype=torch.long))
    white = white_noise_stft([0, 1], LENGTH, N_FFT, HOP).to("meta")
    param = Prosody(rows, white, LENGTH, seeds=[0, 1])
    assert {t.device.type for t in [*param.buffers(), *param.parameters()]} == {"meta"}


def test_no_step_of_the_backward_pass_makes_a_nan(fitted):
    """Anomaly mode fails on a NaN in any backward step, not only one that reaches a
    parameter: torch.sqrt's infinite gradient at 0 (silent frames, frames without aspiration)
    times a zero gave NaNs that torch 2.14 dropped and torch 2.11 passed on to every control,
    so each prosody item stopped as non-finite at its first step."""
    for name in ("happy", "sad"):
        param = prosody(fitted[name][1])
        with torch.autograd.detect_anomaly(check_nan=True):
            param.signal().pow(2).sum().backward()
        assert torch.isfinite(param.raw.grad).all(), name


def test_bounds_hold_and_switched_off_families_do_not_move(fitted):
    bounds = Bounds(pitch_st=4.0, range_scale=1.5, gain_db=6.0, rate=1.2,
                    tilt_db_per_octave=3.0, breathiness=0.5)
    families = torch.tensor([[True, True, True, True], [False, True, False, False]])
    param = prosody(fitted["sad"][1], families=families, bounds=bounds)
    with torch.no_grad():
        param.raw.fill_(50.0)  # far past every bound
    edits = param.edits()
    assert edits.pitch_st[0].max() <= 4.0 + 1e-5 and edits.gain_db[0].max() <= 6.0 + 1e-5
    assert edits.range_scale[0] <= 1.5 + 1e-5 and edits.rate[0].max() <= 1.2 + 1e-5
    assert edits.tilt_db_per_octave[0] <= 3.0 + 1e-5 and edits.breathiness[0] <= 0.5 + 1e-6
    # item 1 may only change its loudness
    assert torch.all(edits.pitch_st[1] == 0) and edits.range_scale[1] == 1.0
    assert torch.all(edits.rate[1] == 1.0) and edits.tilt_db_per_octave[1] == 0
    assert edits.breathiness[1] == 0 and edits.gain_db[1].max() > 5.9
    rms = param.regularized()
    assert rms.shape == (2, len(FAMILIES)) and torch.allclose(rms[1], torch.tensor(
        [0.0, 1.0, 0.0, 0.0]), atol=1e-4)


def test_zero_edits_give_the_unedited_resynthesis(fitted):
    source = fitted["angry"][1]
    param = prosody(source, batch=1, init_noise=0.0)
    with torch.no_grad():
        edited = param.signal()[0]
    plain = synthesize(source, Edits.none(1, LENGTH // HOP + 1),
                       white_noise_stft([0], LENGTH, N_FFT, HOP), LENGTH)[0]
    assert torch.allclose(edited, plain, atol=1e-5)


def test_noise_resynthesizes_as_noise_that_pitch_edits_barely_touch():
    torch.manual_seed(0)
    hiss = 0.05 * torch.randn(16000)
    source = fit(analyse(hiss, RATE, hop=HOP, n_fft=N_FFT), hiss)
    assert float(source.voicing.mean()) < 0.15  # Harvest hears a few frames as voiced
    plan = Edits.none(1, 16000 // HOP + 1)
    white = white_noise_stft([1], 16000, N_FFT, HOP)
    plain = synthesize(source, plan, white, 16000)
    level = 10 * np.log10(float(plain.pow(2).mean()) / float(hiss.pow(2).mean()))
    assert abs(level) < 1.5
    plan.pitch_st += 5.0
    shifted = synthesize(source, plan, white, 16000)
    assert abs(10 * np.log10(float(shifted.pow(2).mean()) / float(plain.pow(2).mean()))) < 1.0


def test_the_lobes_written_out_equal_the_plain_expression_and_its_gradients():
    """The harmonic lobes' hand-written gradients (amplitude and frequency) agree with
    autograd through the plain expression (lobe_weights, a complex index_add), images included."""
    from amcli.am.prosody.lobes import lobe_weights, lobes

    torch.manual_seed(0)
    shape, n_fft = (2, 3, 17), 32
    rows = torch.tensor([0, 2, 4, 5])
    amplitude = torch.rand(4, 6, dtype=torch.float64, requires_grad=True)
    bins = (torch.rand(4, 1, dtype=torch.float64) * 1.5 + 0.7) * torch.arange(6) + 0.3
    bins = bins.detach().requires_grad_(True)
    theta = torch.rand(4, 6, dtype=torch.float64) * 6.0
    probe = torch.randn(*shape, dtype=torch.complex128)

    def plain(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        flat = torch.zeros(shape[0] * shape[1] * shape[2], dtype=torch.complex128)
        base = (rows * shape[2]).view(-1, 1, 1)
        for sign in (1.0, -1.0):
            target, weight = lobe_weights(sign * b, shape[2], n_fft)
            turn = torch.polar(torch.ones_like(theta), sign * theta)
            flat = flat.index_add(0, (base + target).reshape(-1),
                                  ((a * turn).unsqueeze(-1) * weight).reshape(-1))
        return flat.view(shape)

    fast = lobes(amplitude, theta, bins, rows, shape, n_fft)
    slow = plain(amplitude, bins)
    assert torch.allclose(fast, slow, atol=1e-10)
    grads = [torch.autograd.grad((x * probe.conj()).real.sum(), (amplitude, bins))
             for x in (fast, slow)]
    for mine, reference in zip(*grads, strict=True):
        assert torch.allclose(mine, reference, atol=1e-8)
    assert torch.autograd.gradcheck(lambda a, b: torch.view_as_real(
        lobes(a, theta, b, rows, shape, n_fft)), (amplitude, bins))


def test_candidate_starts_find_an_edit_descent_from_no_edit_misses():
    """A model that hears only the speaking rate, with a sharp optimum far from x1: the best of
    8 Latin-hypercube starts lies in the slow half of the range and scores above the plain
    start."""
    source = fit(analyse(*_tone(), hop=HOP, n_fft=N_FFT), _tone()[0])
    param = prosody(source, batch=3, families=torch.tensor([[False, False, True, False]] * 3))

    def score(candidate: Prosody) -> torch.Tensor:  # best at rate x0.75, nothing near x1
        rate = candidate.edits().rate[:, 0]
        return torch.exp(-((rate.log() - math.log(0.75)) / 0.05) ** 2)

    plain = score(param)
    param.pick_start(score, 8)
    assert torch.all(param.edits().rate[:, 0] < 0.85) and torch.all(score(param) > plain)
    again = prosody(source, batch=3, families=torch.tensor([[False, False, True, False]] * 3))
    again.pick_start(score, 8)
    assert torch.equal(again.raw, param.raw)  # each item's draws come from its seed
    # with every family free, each candidate moves one family, and each family gets its turns
    free = prosody(source, batch=2)
    offsets = free._candidate_offsets(15, 0.95)
    owner = torch.tensor([Prosody.GROUP_FAMILY[name] for name in free._slices])
    for row in offsets.reshape(-1, len(owner)):
        assert len(set(owner[row != 0].tolist())) == 1
    turns = [(offsets[0][:, owner == f] != 0).any(1).sum() for f in range(len(FAMILIES))]
    assert [int(t) for t in turns] == [4, 4, 4, 3]


def _tone() -> tuple[torch.Tensor, int]:
    t = torch.arange(LENGTH) / RATE
    return 0.1 * torch.sin(2 * math.pi * 150 * t) * (t < 2.0), RATE


@pytest.mark.parametrize("tilt", [-6.0, 6.0])
def test_the_cue_estimator_hears_a_voice_edited_clip_as_voiced_at_its_f0(fitted, tilt):
    """pYIN called these clips unvoiced (voiced share 0.94 -> 0.00); Harvest follows them."""
    source = fitted["neutral"][1]
    plain = measure_cues(render(source).numpy(), RATE)
    edited = measure_cues(render(source, tilt_db_per_octave=tilt).numpy(), RATE)
    assert plain["voiced_fraction"] > 0.8
    assert edited["voiced_fraction"] >= 0.9 * plain["voiced_fraction"]
    assert abs(12 * math.log2(edited["f0_mean_hz"] / plain["f0_mean_hz"])) < 0.5


class LevelModel(torch.nn.Module):
    """Hears only the level: logit of "loud" = level in dB minus ``reference_db``."""

    def __init__(self, reference_db: float) -> None:
        super().__init__()
        self.reference_db = reference_db

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        level = 10 * torch.log10(wave.pow(2).mean(-1).clamp_min(1e-12))
        loud = level - self.reference_db
        return torch.stack([torch.zeros_like(loud), loud], -1)


def test_pruning_undoes_what_a_loudness_model_ignores_and_keeps_what_it_needs(fitted):
    from amcli.am.items import build_items
    from amcli.am.methods.prosody import METHOD, ProsodyOptions
    from amcli.am.run import item_batch
    from amcli.models.base import Classifier
    from amcli.models.custom import UserBody

    wave = fitted["neutral"][0]
    level = 10 * math.log10(float(wave.pow(2).mean()))
    model = Classifier(UserBody(LevelModel(level + 5.0)), ["quiet", "loud"], "raw", RATE)
    model.checkpoint = {"name": "level"}
    items = build_items(["loud"], ["clip"], 2, seed=0)
    batch = item_batch(model, items, {"clip": wave}, torch.device("cpu"))
    options = ProsodyOptions(init_candidates=1, init_noise=0.0)
    built = METHOD.build(options, batch, METHOD.prepare(options, model, ["loud"], "cpu"))
    param = built.param
    with torch.no_grad():  # +3 st and +0.5 dB/oct (ignored), +10 dB (needed); item 1 quieter
        for name, unit in (("pitch", 3 / 12), ("tilt", 0.5 / 6), ("gain", 10 / 12)):
            param.raw[:, param._slices[name]] = math.atanh(unit)
        param.raw[1, param._slices["gain"]] = math.atanh(2 / 12)
    records = METHOD.prune(options, batch, built, reached=0.9)
    assert records[0]["attribution_prob"] > 0.99
    assert sorted(records[0]["pruned"]["families"]) == ["pitch", "voice"]
    edits = param.summary()[0]
    assert edits["gain_db"]["mean"] == pytest.approx(10.0, abs=0.01)
    assert edits["pitch_shift_st"]["max"] == 0.0 and edits["tilt_db_per_oct"] == 0.0
    assert records[0]["pruned"]["edits_before"]["pitch_shift_st"]["mean"] == pytest.approx(3.0)
    assert records[1]["pruned"] is None  # not reached (+2 dB): nothing is undone
    assert param.summary()[1]["pitch_shift_st"]["mean"] == pytest.approx(3.0)

    # prune=false reports the edit as optimized, drift included
    with torch.no_grad():
        for name, unit in (("pitch", 3 / 12), ("tilt", 0.5 / 6), ("gain", 10 / 12)):
            param.raw[:, param._slices[name]] = math.atanh(unit)
    kept = METHOD.prune(ProsodyOptions(init_candidates=1, prune=False), batch, built, 0.9)
    assert [r["pruned"] for r in kept] == [None, None]
    assert kept[0]["attribution_prob"] > 0.99
    assert param.summary()[0]["pitch_shift_st"]["mean"] == pytest.approx(3.0)


def test_an_all_families_item_starts_no_worse_than_its_one_family_siblings(fitted):
    from amcli.am.items import build_items
    from amcli.am.methods.prosody import METHOD, Family, ProsodyOptions
    from amcli.am.run import item_batch
    from amcli.models.base import Classifier
    from amcli.models.custom import UserBody

    wave = fitted["neutral"][0]
    level = 10 * math.log10(float(wave.pow(2).mean()))
    model = Classifier(UserBody(LevelModel(level + 5.0)), ["quiet", "loud"], "raw", RATE)
    model.checkpoint = {"name": "level"}
    options = ProsodyOptions(attribution=True, families=[Family.pitch, Family.loudness],
                             init_candidates=4)
    items = build_items(["loud"], ["clip"], 1, seed=0, variants=METHOD.variants(options))
    assert [i.variant for i in items] == ["all", "pitch", "loudness"]
    batch = item_batch(model, items, {"clip": wave}, torch.device("cpu"))
    built = METHOD.build(options, batch, METHOD.prepare(options, model, ["loud"], "cpu"))
    param = built.param
    with torch.no_grad():  # the score pick_start ranks starts by
        log_p = torch.log_softmax(model(param.signal()), -1)[:, 1]
        score = log_p - options.penalty * param.regularized().pow(2).mean(1)
    assert score[0] >= max(score[1], score[2]) - 1e-5
    edits = param.summary()[0]
    assert edits["families"] == ["pitch", "loudness"]


def test_a_prosody_item_does_not_depend_on_the_items_beside_it(fitted):
    """Per-item seeds, starts and noise: a one-family item's edit and probability are the same
    alone as in a batch with other restarts and families, and an "all" item's (which starts
    from the best of its one-family siblings' starts) the same with only its siblings beside
    it (to float rounding)."""
    from amcli import am
    from amcli.am.methods.prosody import METHOD, ProsodyOptions
    from amcli.models.base import Classifier
    from amcli.models.custom import UserBody

    wave = fitted["neutral"][0]
    level = 10 * math.log10(float(wave.pow(2).mean()))
    model = Classifier(UserBody(LevelModel(level + 5.0)), ["quiet", "loud"], "raw", RATE)
    model.checkpoint = {"name": "level"}
    options = ProsodyOptions(attribution=True, init_candidates=4, knots=2)
    items = am.build_items(["loud"], ["clip"], 2, seed=0, variants=METHOD.variants(options))
    settings = am.RunSettings(steps=4, threshold=None, record_every=1,
                              transforms=am.default_transforms())

    def run(subset):
        return am.run_items(METHOD, options, model, subset, {"clip": wave}, settings,
                            resources=METHOD.prepare(options, model, ["loud"], "cpu"))

    def same(alone, i, j):
        assert torch.allclose(alone.result.signal[i], together.result.signal[j], atol=1e-4)
        assert float(alone.result.target_prob[i]) == pytest.approx(
            float(together.result.target_prob[j]), abs=1e-4)
        assert flat(alone.records[i]["prosody"]) == pytest.approx(
            flat(together.records[j]["prosody"]), abs=1e-3)

    def flat(record: dict, prefix: str = "") -> dict:
        out = {}
        for key, value in record.items():
            if isinstance(value, dict):
                out.update(flat(value, f"{prefix}{key}."))
            elif isinstance(value, int | float):
                out[prefix + key] = value
        return out

    together = run(items)
    assert [i.variant for i in items[5:]] == ["all", "pitch", "loudness", "tempo", "voice"]
    for i in (1, 3, 7):  # one family each
        same(run([items[i]]), 0, i)
    second_restart = run(items[5:])
    for i in range(5):
        same(second_restart, i, 5 + i)
    # the restarts differ: the "all" items start from different edits
    assert not torch.allclose(together.result.signal[0], together.result.signal[5], atol=1e-3)


def test_prosody_from_clips_is_what_the_method_builds(fitted):
    """A user's Prosody.from_clips(clips, rate) holds what method=prosody builds for the same
    clips and seeds (sources, noise, families, start), and refuses what it cannot build."""
    from amcli import am
    from amcli.am.items import build_items
    from amcli.am.methods.prosody import METHOD, ProsodyOptions
    from amcli.am.run import item_batch
    from amcli.families import Family

    model = load_classifier("cnn_raw", "cpu")
    bank = {"sad": fitted["sad"][0], "happy": fitted["happy"][0]}
    items = build_items(["angry"], ["sad", "happy"], 1, seed=4)
    batch = item_batch(model, items, bank, torch.device("cpu"))
    options = ProsodyOptions(init_candidates=1, families=[Family.pitch, Family.tempo])
    built = METHOD.build(options, batch, METHOD.prepare(options, model, ["angry"], "cpu"))
    mine = am.Prosody.from_clips([bank[i.clip] for i in items], RATE,
                                 seeds=[i.seed for i in items], families=["pitch", "tempo"])
    assert torch.equal(mine.white, built.param.white)
    assert torch.equal(mine.families, built.param.families)
    assert torch.equal(mine.raw, built.param.raw)
    assert torch.equal(mine.source.harmonic_gain, built.param.source.harmonic_gain)
    with torch.no_grad():
        assert torch.equal(mine.signal(), built.param.signal())
    with pytest.raises(ValueError, match="different lengths"):
        am.Prosody.from_clips([bank["sad"], bank["sad"][:RATE]], RATE)
    with pytest.raises(ValueError, match="unknown families"):
        am.Prosody.from_clips(bank["sad"], RATE, families=["timbre"])
    with pytest.raises(ValueError, match="2 seeds for 1 clips"):
        am.Prosody.from_clips(bank["sad"], RATE, seeds=[1, 2])
