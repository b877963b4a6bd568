"""Per-item randomness, so that a result never depends on how a run is batched.

Every item (a clip x target x restart) owns a 32-bit seed derived from the run's seed and the
item's identity (:func:`item_seed`). Its initial state is drawn from a generator seeded with it
(:func:`per_item_normal`), and the random draws of the robustness transforms at step ``s`` are a
pure function of (item seed, step, stream, position): a counter-based generator in the style of
Philox or JAX's ``fold_in``, computed with integer tensor operations on the item's own device
(:class:`Draws`). Nothing is drawn from a shared stream, so one item gets the same numbers alone,
in a batch of 2048, or in the third chunk of a long run.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np
import torch

MASK32 = 0xFFFFFFFF


def item_seed(seed: int, *key: object) -> int:
    """A 32-bit seed for one item from the run's ``seed`` and the item's identity ``key``
    (e.g. clip name, target, restart), through NumPy's ``SeedSequence`` (the standard way to
    derive independent streams). Strings enter by their CRC-32."""
    entropy = [int(seed) & MASK32]
    for part in key:
        entropy.append(zlib.crc32(part.encode()) if isinstance(part, str) else int(part) & MASK32)
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def per_item_normal(seeds: Sequence[int], shape: Sequence[int]) -> torch.Tensor:
    """[len(seeds), *shape] standard normal draws, row i from a generator seeded with seeds[i]
    (CPU; move the result where it is needed)."""
    rows = [torch.randn(tuple(shape), generator=torch.Generator().manual_seed(int(s)))
            for s in seeds]
    return torch.stack(rows) if rows else torch.empty(0, *shape)


def hash32(x: torch.Tensor) -> torch.Tensor:
    """An avalanching 32-bit integer hash (a two-multiply xorshift-multiply mixer) on int64
    tensors. Each product stays below 2**63, so int64 never overflows on any device."""
    x = x & MASK32
    x = x ^ (x >> 16)
    x = (x * 0x21F0AAAD) & MASK32
    x = x ^ (x >> 15)
    x = (x * 0x735A2D97) & MASK32
    return x ^ (x >> 15)


class Draws:
    """The random numbers of one optimization step, per item: ``uniform(stream, n)`` and
    ``normal(stream, n)`` give [B, n] tensors that depend only on (item seed, step, stream,
    position). Transforms use one stream each (a composed list numbers them)."""

    def __init__(self, seeds: torch.Tensor, step: int, stream: int = 0) -> None:
        self.seeds = seeds.long()
        self.step = int(step)
        self.base_stream = int(stream)

    def substream(self, offset: int) -> Draws:
        """The same step's draws under another stream number (for the k-th transform)."""
        return Draws(self.seeds, self.step, self.base_stream + 1000 * (offset + 1))

    def _keys(self, stream: int) -> torch.Tensor:
        h = hash32(self.seeds ^ 0x5BD1E995)
        h = hash32(h + self.step * 0x9E3779B9)
        return hash32(h ^ ((self.base_stream + stream) * 0x85EBCA6B))

    def _bits(self, stream: int, n: int) -> torch.Tensor:
        keys = self._keys(stream)
        position = hash32(torch.arange(n, device=keys.device, dtype=torch.long) + 0x27D4EB2F)
        return hash32(keys.unsqueeze(1) ^ position.unsqueeze(0))

    def uniform(self, stream: int, n: int = 1) -> torch.Tensor:
        """[B, n] uniform in (0, 1), float32."""
        return (self._bits(stream, n).to(torch.float64) + 0.5).div_(2.0**32).float()

    def normal(self, stream: int, n: int) -> torch.Tensor:
        """[B, n] standard normal, float32 (Box-Muller: each pair of uniforms gives a
        cosine and a sine draw)."""
        half = (n + 1) // 2
        u = self.uniform(stream, 2 * half)
        radius = torch.sqrt(-2.0 * torch.log(u[:, :half]))
        angle = (2.0 * math.pi) * u[:, half:]
        return torch.cat([radius * torch.cos(angle), radius * torch.sin(angle)], 1)[:, :n]

    def integers(self, stream: int, low: int, high: int) -> torch.Tensor:
        """[B] integers in [low, high] (inclusive)."""
        span = high - low + 1
        return low + (self._bits(stream, 1)[:, 0] % span)
