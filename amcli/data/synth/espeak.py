"""The espeak-ng engine: formant speech with per-class prosody through SSML ``<prosody>``.

Facts this relies on (espeak-ng 1.51): ``-p`` (pitch), ``-s`` (words per minute) and voice
variants (``en+m3``) apply; SSML ``<prosody pitch range rate>`` applies with ``-m``; output is
22.05 kHz mono. Its failure modes are silent, so they are checked here: an invalid option exits
0 and writes nothing (the output is checked), and a misspelled voice exits 0 using the default
voice (voices are validated against ``espeak-ng --voices``).
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

import numpy as np
import soundfile as sf

from amcli.data.synth.cues import CueParams
from amcli.data.synth.speakers import Speaker
from amcli.errors import UserError

EXECUTABLE = "espeak-ng"
INSTALL_HINT = "install it with: sudo apt-get install espeak-ng (or use engine=numpy)"


def available() -> bool:
    return shutil.which(EXECUTABLE) is not None


def require() -> None:
    if not available():
        raise UserError(f"espeak-ng is not installed; {INSTALL_HINT}")


@functools.lru_cache(maxsize=1)
def _voice_tables() -> tuple[frozenset[str], frozenset[str]]:
    """(languages, variant names) that this espeak-ng installation has."""
    require()

    def table(arg: str) -> list[list[str]]:
        out = subprocess.run([EXECUTABLE, arg], capture_output=True, text=True, check=True,
                             timeout=TIMEOUT_S)
        return [line.split() for line in out.stdout.splitlines()[1:] if line.strip()]

    languages = set()
    for row in table("--voices"):
        # "Pty Language Age/Gender VoiceName File (other-language priority)...": a voice also
        # answers to its other languages, e.g. gmw/en answers to "en".
        languages.add(row[1])
        languages.update(token.lstrip("(") for token in row[5::2] if token.startswith("("))
    variants = {row[4].split("/")[-1] for row in table("--voices=variant") if len(row) > 4}
    return frozenset(languages), frozenset(variants)


def check_voice(voice: str) -> None:
    """Raise UserError unless ``voice`` ('lang' or 'lang+variant') exists in espeak-ng."""
    languages, variants = _voice_tables()
    lang, _, variant = voice.partition("+")
    if lang not in languages:
        raise UserError(
            f"espeak-ng has no voice '{lang}' (from '{voice}'); see `espeak-ng --voices`"
        )
    if variant and variant not in variants:
        raise UserError(
            f"espeak-ng has no voice variant '{variant}' (from '{voice}'); "
            "see `espeak-ng --voices=variant`"
        )


def ssml(text: str, cues: CueParams) -> str:
    """The SSML document espeak-ng speaks for one clip."""
    safe = text.replace("&", "and").replace("<", " ").replace(">", " ")
    return (
        f'<speak><prosody pitch="{cues.pitch_pct:+.1f}%" range="{cues.range_pct:.1f}%" '
        f'rate="{cues.rate_pct:.1f}%">{safe}</prosody></speak>'
    )


#: A clip renders in well under a second; a hung espeak-ng (a broken data path, a missing audio
#: library) must not hang a whole corpus.
TIMEOUT_S = 30.0


def render(text: str, speaker: Speaker, cues: CueParams) -> tuple[np.ndarray, int]:
    """Speak ``text`` as ``speaker`` with the class prosody; returns (float32 wave, rate).

    Only prosody is applied here; voice quality, gain and level are applied by the caller.
    """
    cmd = [
        EXECUTABLE, "-v", speaker.voice, "-p", str(int(speaker.pitch)),
        "-s", str(int(speaker.rate)), "-m", "--stdout", ssml(text, cues),
    ]
    try:
        result = subprocess.run(cmd, capture_output=True, check=False, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise UserError(f"espeak-ng gave no answer within {TIMEOUT_S:g} s for voice "
                        f"{speaker.voice!r}; check that `espeak-ng -v {speaker.voice} hello` "
                        "runs here, or use engine=numpy") from None
    if result.returncode != 0 or len(result.stdout) <= 44:
        raise RuntimeError(
            f"espeak-ng wrote no audio for {speaker.voice!r} (exit {result.returncode}): "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    wave, rate = sf.read(io.BytesIO(result.stdout), dtype="float32")
    if wave.ndim == 2:
        wave = wave.mean(axis=1)
    return wave, int(rate)
