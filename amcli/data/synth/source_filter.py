"""The NumPy engine: a small source-filter speech synthesizer, for tests and for machines
without espeak-ng.

Source: a sawtooth pulse train on a continuous F0 contour (declination, accents on stressed
syllables, a final fall, slow random drift), scaled in range by the class cue. Filter: three
formant resonances per vowel (Peterson & Barney 1952 averages, scaled by the speaker's vocal
tract), applied in the frequency domain per syllable. Syllables get raised-cosine envelopes and
a noise burst for the onset consonant. Words and syllables come from the sentence's text, so a
sentence has the same rhythm and vowels in every class; rate stretches them.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from amcli.data.synth.cues import CueParams, pitch_ratio
from amcli.data.synth.speakers import Speaker

#: (F1, F2, F3) in Hz for an adult male voice.
VOWEL_FORMANTS = {
    "a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (270, 2290, 3010),
    "o": (570, 840, 2410), "u": (300, 870, 2240), "y": (390, 1990, 2550),
}
FORMANT_BANDWIDTHS = (90.0, 110.0, 170.0)
SYLLABLE_SECONDS = 0.17
WORD_GAP_SECONDS = 0.035
LEAD_SECONDS, TAIL_SECONDS = 0.15, 0.2


def syllables(text: str) -> list[tuple[str, bool, bool]]:
    """(vowel, stressed, ends_word) per syllable: one syllable per vowel group of each word.

    Stress falls on the first syllable of words with 4+ letters, deterministically.
    """
    plan = []
    for word in re.findall(r"[a-z]+", text.lower()):
        groups = re.findall(r"[aeiouy]+", word) or ["a"]
        for k, group in enumerate(groups):
            vowel = group[0] if group[0] in VOWEL_FORMANTS else "a"
            plan.append((vowel, k == 0 and len(word) >= 4, k == len(groups) - 1))
    return plan


def _envelope(n: int, sample_rate: int, attack: float, release: float) -> np.ndarray:
    env = np.ones(n)
    a = min(int(attack * sample_rate), n // 2)
    r = min(int(release * sample_rate), n - a)
    if a:
        env[:a] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, a))
    if r:
        env[n - r:] = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, r))
    return env


def _formant_filter(segment: np.ndarray, sample_rate: int, formants: np.ndarray) -> np.ndarray:
    """Cascade of two-pole resonators (Klatt 1980), magnitude only, unity gain at 0 Hz.

    Unity low-frequency gain keeps the fundamental strong, as in real vowels, so pitch
    trackers do not jump an octave.
    """
    spectrum = np.fft.rfft(segment)
    freqs = np.fft.rfftfreq(len(segment), 1.0 / sample_rate)
    response = np.ones_like(freqs)
    for centre, bandwidth in zip(formants, FORMANT_BANDWIDTHS, strict=True):
        response *= centre**2 / np.sqrt((centre**2 - freqs**2) ** 2 + (bandwidth * freqs) ** 2)
    return np.fft.irfft(spectrum * response, n=len(segment))


def render(
    text: str, speaker: Speaker, cues: CueParams, sample_rate: int, seed: int
) -> np.ndarray:
    """Render ``text`` as float32 mono at ``sample_rate`` (peak 0.7 before voice quality)."""
    rng = np.random.default_rng(seed)
    # The sentence's own structure is seeded by its text, so it is the same in every class.
    sentence_rng = np.random.default_rng(zlib.crc32(text.encode()))
    plan = syllables(text)
    tempo = cues.rate_pct / 100.0 * speaker.rate

    # Durations (samples) of each syllable and the gap after it.
    durations, gaps = [], []
    for _, stressed, ends_word in plan:
        seconds = SYLLABLE_SECONDS * (1.3 if stressed else 1.0) * sentence_rng.uniform(0.85, 1.15)
        durations.append(int(seconds / tempo * sample_rate))
        gaps.append(int((WORD_GAP_SECONDS if ends_word else 0.0) / tempo * sample_rate))
    lead, tail = int(LEAD_SECONDS * sample_rate), int(TAIL_SECONDS * sample_rate)
    total = lead + sum(durations) + sum(gaps) + tail

    # F0 contour in semitones re the base pitch, built per syllable and smoothed.
    contour = np.zeros(total)
    position, accents = lead, np.zeros(total)
    starts = []
    for (_, stressed, _), dur, gap in zip(plan, durations, gaps, strict=True):
        starts.append(position)
        if stressed:
            bump = np.sin(np.linspace(0, np.pi, dur)) * rng.uniform(1.0, 4.5)
            accents[position:position + dur] += bump
        position += dur + gap
    time = np.linspace(0.0, 1.0, total)
    declination = 1.5 - 3.0 * time
    final_fall = -2.5 * np.clip((time - 0.85) / 0.15, 0, 1)
    drift = np.cumsum(rng.standard_normal(total)) / np.sqrt(total) * 0.6
    contour = (declination + accents + final_fall) * (cues.range_pct / 100.0) + drift
    kernel = np.hanning(int(0.03 * sample_rate)) / np.hanning(int(0.03 * sample_rate)).sum()
    contour = np.convolve(contour, kernel, mode="same")
    f0 = speaker.pitch * pitch_ratio(cues.pitch_pct) * 2.0 ** (contour / 12.0)
    phase = np.cumsum(f0 / sample_rate)
    source = 2.0 * (phase - np.floor(phase)) - 1.0
    source += 0.03 * rng.standard_normal(total)  # aspiration

    out = np.zeros(total)
    for (vowel, stressed, _), start, dur in zip(plan, starts, durations, strict=True):
        onset = min(int(0.045 * sample_rate / tempo), dur // 3)
        formants = np.asarray(VOWEL_FORMANTS[vowel], float) * speaker.formant_scale
        formants *= sentence_rng.uniform(0.95, 1.05, size=3)
        voiced = _formant_filter(source[start + onset:start + dur], sample_rate, formants)
        voiced *= _envelope(len(voiced), sample_rate, 0.02, 0.04) * (1.0 if stressed else 0.7)
        out[start + onset:start + dur] += voiced
        if onset:
            burst = rng.standard_normal(onset)
            burst = burst - _formant_filter(burst, sample_rate, np.array([500.0, 1500, 2500]))
            out[start:start + onset] += 0.08 * burst * _envelope(onset, sample_rate, 0.005, 0.01)
    peak = np.max(np.abs(out))
    return (0.7 * out / peak).astype(np.float32) if peak > 0 else out.astype(np.float32)
