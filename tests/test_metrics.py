"""Metrics with known values: L-MAC faithfulness, transfer rate, classification report, cues,
randomization, distances between sets of embeddings, option ranges."""

from __future__ import annotations

import pytest

from amcli.metrics.classification import classification_report
from amcli.metrics.faithfulness import faithfulness
from amcli.metrics.judge import transfer_rate


def test_faithfulness_matches_the_l_mac_definitions():
    result = faithfulness(original=[0.5, 0.8], masked_in=[0.75, 0.4], masked_out=[0.1, 0.8],
                          same_top1=[True, False])
    assert result["AI"] == 50.0  # one of two increased
    assert result["AD"] == pytest.approx(100 * (0 + 0.4 / 0.8) / 2)
    assert result["AG"] == pytest.approx(100 * (0.25 / 0.5 + 0) / 2)
    assert result["FF"] == pytest.approx(((0.5 - 0.1) + (0.8 - 0.8)) / 2)
    assert result["Fid_In"] == 0.5 and result["n"] == 2


def test_transfer_rate_is_the_share_of_judge_top1_hits():
    assert transfer_rate(["angry", "sad", "angry"], ["angry", "angry", "angry"]) == \
        pytest.approx(2 / 3)


def test_classification_report_known_values():
    report = classification_report([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"])
    assert report["accuracy"] == 0.75
    assert report["confusion"] == [[1, 1], [0, 2]]
    f1_a, f1_b = 2 * 1 * 0.5 / 1.5, 2 * (2 / 3) * 1 / (2 / 3 + 1)
    assert report["macro_f1"] == pytest.approx((f1_a + f1_b) / 2)


def test_cue_shift_known_values():
    from amcli.metrics.cues import cue_shift

    out = {"rms_db": -20.0, "f0_mean_hz": 200.0, "f0_spread_st": 2.0, "voiced_fraction": 0.8,
           "centroid_hz": 1500.0, "onset_rate": 5.0}
    ref = {"rms_db": -26.0, "f0_mean_hz": 100.0, "f0_spread_st": 1.5, "voiced_fraction": 0.9,
           "centroid_hz": 1200.0, "onset_rate": 4.0}
    shift = cue_shift(out, ref)
    assert shift["rms_db"] == 6.0 and shift["f0_mean_st"] == pytest.approx(12.0)
    assert shift["centroid_hz"] == 300.0 and shift["voiced_fraction"] == pytest.approx(-0.1)
    assert cue_shift({**out, "f0_mean_hz": float("nan")}, ref)["f0_mean_st"] is None


def test_randomized_copies_change_the_right_layers():
    import torch

    from amcli.metrics.sanity import randomized_copy, spearman
    from amcli.models import build_classifier

    torch.manual_seed(0)
    model = build_classifier("cnn_mel", ["a", "b", "c", "d"], 16000, width=4, depth=2).eval()
    top, full = (randomized_copy(model, level, seed=1).model for level in ("top", "all"))
    assert not torch.equal(top.body.head.weight, model.body.head.weight)
    assert torch.equal(top.body.convs[0][0].weight, model.body.convs[0][0].weight)
    assert not torch.equal(full.body.convs[0][0].weight, model.body.convs[0][0].weight)
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_frechet_distance_of_known_gaussians():
    import numpy as np

    from amcli.metrics.frechet import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = a + np.array([2.0, 0.0, 0.0])
    assert frechet_distance(a, shifted) == pytest.approx(4.0, rel=1e-3)
    # N(0, I) vs N(0, 4I) in 3-D: 3 * (1 + 4 - 2 * 2) = 3
    b = 2.0 * rng.standard_normal((4000, 3))
    assert frechet_distance(a, b) == pytest.approx(3.0, rel=0.05)
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(a, b[:, :2])


def test_cues_of_tones_have_their_known_values():
    import numpy as np

    from amcli.metrics.cues import measure_cues

    rate = 16000
    t = np.arange(rate) / rate
    quiet = measure_cues(0.1 * np.sin(2 * np.pi * 200 * t), rate)
    loud = measure_cues(0.3 * np.sin(2 * np.pi * 200 * t), rate)
    assert loud["rms_db"] - quiet["rms_db"] == pytest.approx(20 * np.log10(3), abs=0.05)
    assert quiet["f0_mean_hz"] == pytest.approx(200, rel=0.02)
    assert quiet["f0_spread_st"] < 0.1 and quiet["voiced_fraction"] > 0.8
    assert quiet["centroid_hz"] == pytest.approx(200, abs=40)
    glide = measure_cues(0.2 * np.sin(2 * np.pi * (150 * t + 75 * t ** 2)), rate)  # 150->300 Hz
    assert glide["f0_spread_st"] > 2.0 and 180 < glide["f0_mean_hz"] < 270


def test_distances_at_small_n_compare_equal_sizes():
    """Same-distribution sets of a few embeddings: the Frechet distance is large (its bias), but
    no larger than what real sets of the same N score; KID is unbiased, near 0 on average."""
    import numpy as np

    from amcli.metrics.frechet import equal_n_baseline, frechet_distance, kid

    rng = np.random.default_rng(1)
    reference = rng.standard_normal((512, 16))
    pool = rng.standard_normal((512, 16))
    same = [frechet_distance(rng.standard_normal((4, 16)), reference) for _ in range(50)]
    assert np.mean(same) > 5  # the bias at N = 4 that made the old figure misleading
    baseline = equal_n_baseline(pool, reference, 4, draws=50)
    assert abs(np.mean(same) - baseline["frechet"]) < 3 * baseline["frechet_std"]
    kids = [kid(rng.standard_normal((4, 16)), reference, subsets=20, seed=k)[0]
            for k in range(200)]
    assert abs(np.mean(kids)) < 3 * np.std(kids) / np.sqrt(len(kids))  # unbiased
    shifted = [kid(rng.standard_normal((4, 16)) + 1.0, reference, subsets=20, seed=k)[0]
               for k in range(50)]
    assert np.mean(shifted) > np.mean(kids) + 5 * np.std(kids) / np.sqrt(len(kids))


def test_frechet_square_root_is_real_or_refused():
    import numpy as np

    from amcli.metrics.frechet import trace_sqrt_product

    a = np.diag([4.0, 1.0, 0.0])  # singular, as the covariance of few embeddings is
    b = np.diag([1.0, 9.0, 2.0])
    assert trace_sqrt_product(a, b) == pytest.approx(2.0 + 3.0 + 0.0)
    with pytest.raises(ValueError, match="negative eigenvalue"):
        trace_sqrt_product(np.diag([1.0, -0.5, 0.2]), b)  # not a covariance: never clipped


def test_option_ranges_are_declared_once_and_checked_with_the_key():
    from dataclasses import dataclass, field

    from amcli.bounds import bounded, check_bounds
    from amcli.errors import UserError

    @dataclass
    class Inner:
        area: float = bounded(0.5, gt=0, le=1, hint="the share to keep")
        snr: list = field(default_factory=lambda: [30.0, 50.0])

    @dataclass
    class Outer:
        steps: int = bounded(10, ge=1)
        lr: float | None = bounded(None, gt=0)
        inner: Inner = field(default_factory=Inner)

    check_bounds(Outer())
    for bad, message in ((Outer(steps=0), "steps=0; it must be at least 1"),
                         (Outer(lr=float("nan")), "lr=nan; give a finite number"),
                         (Outer(inner=Inner(area=1.5)), "inner.area=1.5; the share to keep, in "
                                                        "(0, 1]"),
                         (Outer(inner=Inner(snr=[30.0, float("inf")])), "inner.snr=inf")):
        with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")
                           .replace("[", r"\[").replace("]", r"\]")):
            check_bounds(bad)


def test_the_cue_families_are_one_list_everywhere():
    from amcli.am.methods.prosody import Family as ProsodyFamily
    from amcli.config.synth import Family as ConfigFamily
    from amcli.data.synth.cues import FAMILY_CUES
    from amcli.families import FAMILIES, Family

    assert FAMILIES == ("pitch", "loudness", "tempo", "voice")
    assert tuple(FAMILY_CUES) == FAMILIES  # the corpus' cues per family, in the same order
    assert ProsodyFamily is Family and ConfigFamily is Family
