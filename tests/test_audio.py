"""Audio I/O edge cases: what soundfile reads, mono, resampling, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from amcli.audio import PEAK_LIMIT, read_audio, resample, write_wav
from amcli.errors import UserError


def tone(seconds: float, rate: int, freq: float = 220.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_stereo_is_mixed_down_to_the_channel_mean(tmp_path):
    left, right = tone(0.5, 16000, amp=0.6), tone(0.5, 16000, amp=0.2)
    sf.write(tmp_path / "st.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    wave, rate = read_audio(tmp_path / "st.wav")
    assert rate == 16000 and wave.shape == (8000,)
    np.testing.assert_allclose(wave.numpy(), (left + right) / 2, atol=1e-6)


def test_8_bit_audio_is_read_as_float_in_range(tmp_path):
    sf.write(tmp_path / "u8.wav", tone(0.25, 8000, amp=0.8), 8000, subtype="PCM_U8")
    wave, rate = read_audio(tmp_path / "u8.wav")
    assert rate == 8000 and wave.dtype == torch.float32
    assert 0.7 < wave.abs().max() <= 1.0


def test_48k_is_resampled_to_16k_keeping_length_and_pitch(tmp_path):
    sf.write(tmp_path / "hi.wav", tone(1.0, 48000, freq=440.0), 48000)
    wave, rate = read_audio(tmp_path / "hi.wav", sample_rate=16000)
    assert rate == 16000 and wave.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(wave.numpy()))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins for a 1 s clip


def test_flac_and_ogg_are_read(tmp_path):
    for ext in ("flac", "ogg"):
        sf.write(tmp_path / f"x.{ext}", tone(0.5, 16000), 16000)
        wave, _ = read_audio(tmp_path / f"x.{ext}")
        assert wave.shape[0] > 7000


def test_loudness_is_not_normalized_on_the_way_in(tmp_path):
    sf.write(tmp_path / "quiet.wav", tone(0.5, 16000, amp=0.01), 16000, subtype="FLOAT")
    wave, _ = read_audio(tmp_path / "quiet.wav")
    assert float(wave.abs().max()) == pytest.approx(0.01, rel=1e-3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), "is empty"),
        (lambda p: sf.write(p, np.array([0.1, np.nan] * 800, np.float32), 16000,
                            subtype="FLOAT"), "NaN or infinite"),
        (lambda p: sf.write(p, np.array([0.1, np.inf] * 800, np.float32), 16000,
                            subtype="FLOAT"), "NaN or infinite"),
        (lambda p: p.write_text("this is not audio"), "cannot read audio file"),
        (lambda p: None, "audio file not found"),
    ],
)
def test_bad_audio_raises_a_user_error_naming_the_problem(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(UserError, match=message):
        read_audio(path)


def test_too_short_audio_is_refused(tmp_path):
    sf.write(tmp_path / "short.wav", tone(0.1, 16000), 16000)
    with pytest.raises(UserError, match="shorter than the 0.5 s"):
        read_audio(tmp_path / "short.wav", min_seconds=0.5)


def test_write_wav_limits_the_peak_and_reports_the_gain(tmp_path):
    loud = tone(0.5, 16000, amp=2.0)
    gain = write_wav(tmp_path / "loud.wav", loud, 16000)
    assert gain == pytest.approx(PEAK_LIMIT / 2.0, rel=1e-4)
    back, _ = sf.read(tmp_path / "loud.wav", dtype="float32")
    assert np.abs(back).max() <= 1.0
    np.testing.assert_allclose(back, loud * gain, atol=1e-4)  # scaled, not clipped


def test_write_wav_keeps_level_when_under_the_limit(tmp_path):
    quiet = torch.from_numpy(tone(0.5, 16000, amp=0.3))
    assert write_wav(tmp_path / "q.wav", quiet, 16000) == 1.0
    back, rate = read_audio(tmp_path / "q.wav")
    assert rate == 16000
    np.testing.assert_allclose(back.numpy(), quiet.numpy(), atol=1e-4)
    assert not list(tmp_path.glob(".*"))  # no temp files left behind
    assert (tmp_path / "q.wav").stat().st_mode & 0o044  # readable by others, like any file


def test_write_wav_refuses_non_finite_samples(tmp_path):
    with pytest.raises(ValueError, match="non-finite"):
        write_wav(tmp_path / "nan.wav", np.array([0.0, np.nan], np.float32), 16000)
    assert not (tmp_path / "nan.wav").exists()


def test_resample_is_identity_at_equal_rates():
    wave = torch.randn(1000)
    assert resample(wave, 16000, 16000) is wave
