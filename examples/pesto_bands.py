"""pesto's pretrained pitch estimator as a three-band pitch classifier: low, mid or high.

pesto (pip install pesto-pitch) ships its weights in its wheel. Its network gives, for every
10 ms frame, a probability over 384 pitch bins (a third of a semitone each, MIDI 0-128) and a
voicing confidence. Summing the frame's probability inside each band and averaging over the
frames, weighted by confidence, gives three class probabilities; their logarithms are the
logits amcli maximizes. The bands sit around the neutral example clip's F0 as pesto hears it
(about 93 Hz, confidence-weighted): mid is within 1.5 semitones of it.
"""

import math

import torch
from torch import nn

CLASSES = ["low", "mid", "high"]
CENTRE_HZ = 93.0
HALF_WIDTH_ST = 1.5


def midi(hz: float) -> float:
    return 69.0 + 12.0 * math.log2(hz / 440.0)


class PestoBands(nn.Module):
    """Waveforms [B, T] at 16 kHz -> logits over (low, mid, high)."""

    def __init__(self) -> None:
        super().__init__()
        import pesto

        self.pesto = pesto.load_model("mir-1k_g7", step_size=10.0, sampling_rate=16000)
        bins = torch.arange(384) / 3.0  # the MIDI pitch of each bin
        low, high = midi(CENTRE_HZ) - HALF_WIDTH_ST, midi(CENTRE_HZ) + HALF_WIDTH_ST
        bands = torch.stack([bins < low, (bins >= low) & (bins < high), bins >= high])
        self.register_buffer("bands", bands.float().T)  # [384, 3]

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        # pesto's own forward, without its in-place edits (they break gradients to the input)
        net = self.pesto
        batch = wave.shape[0]
        cqt = net.preprocessor(wave, sr=16000).flatten(0, 1) * (math.log(10) / 10)
        confidence = net.confidence(cqt.exp().squeeze(1)).view(batch, -1)
        activations = net.encoder(net.crop_cqt(cqt)).view(batch, confidence.shape[1], -1)
        activations = activations.roll(-round(float(net.shift) * 3), -1)
        mass = activations @ self.bands  # [B, frames, 3]
        weight = confidence.unsqueeze(-1)
        probs = (mass * weight).sum(1) / weight.sum(1).clamp_min(1e-6)
        return torch.log(probs.clamp_min(1e-6))
