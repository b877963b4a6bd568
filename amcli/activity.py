"""Which frames of a clip carry sound: per-frame energy, and the frames within a threshold of
each clip's loudest. Masks measure their area over these frames only (padding silence is free
to remove), and the GAN's crop sampler picks crops with speech in them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

ACTIVE_THRESHOLD_DB = -50.0


def frame_energy_db(wave: torch.Tensor, hop: int, frame: int) -> torch.Tensor:
    """Per-frame RMS in dB of waveforms [B, T] (centred frames, ``T // hop + 1`` of them)."""
    padded = F.pad(wave, (frame // 2, frame // 2))
    frames = padded.unfold(-1, frame, hop)[..., : wave.shape[-1] // hop + 1, :]
    return 10.0 * torch.log10(frames.pow(2).mean(-1).clamp_min(1e-12))


def active_frames(wave: torch.Tensor, hop: int = 256, frame: int = 1024,
                  threshold_db: float = ACTIVE_THRESHOLD_DB) -> torch.Tensor:
    """Boolean [B, frames]: frames above ``threshold_db`` re each clip's loudest frame.

    Padding silence is free to remove, so mask areas are measured over active frames only
    (Fong et al. 2019)."""
    energy = frame_energy_db(wave, hop, frame)
    return energy > energy.amax(dim=-1, keepdim=True) + threshold_db

