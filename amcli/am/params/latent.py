"""A generator's latent: the signal is what a frozen GAN prior renders from it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from amcli.am.frozen import frozen
from amcli.am.params.base import Parameterization, item_seeds
from amcli.am.random import per_item_normal


class Latent(Parameterization):
    """The noise z of a generator: the signal is G(z, y) (DGN-AM, Nguyen et al. 2016).

    The generator is borrowed, not owned: it is not a submodule, only z is optimized, and while
    the loop runs it is frozen in eval mode (its BatchNorm uses fixed statistics, so items stay
    independent) and handed back as it was. z lives on the generator's device. For
    z ~ N(0, I_d) the norm concentrates near sqrt(d); ``max_norm`` (a multiple of sqrt(d), None
    for no constraint) rescales any z whose norm goes past it, which keeps it in the generator's
    typical set. ``labels`` are the condition of a conditional generator (what it is told to
    make). Penalties (the seed's lambda_1 ||z||_1 + lambda_2 ||z||^2) act on z.
    """

    default_lr = 0.05

    def __init__(
        self,
        generator: nn.Module,
        batch: int,
        labels: torch.Tensor | None = None,
        max_norm: float | None = 1.0,
        init_std: float = 1.0,
        seeds: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if generator.conditional and labels is None:
            raise ValueError("a conditional generator needs labels (the condition per item)")
        object.__setattr__(self, "generator", generator)  # borrowed: not a submodule
        device = next(generator.parameters()).device
        self.register_buffer("seeds", item_seeds(seeds, batch))
        self.domain = "mel" if generator.representation == "mel" else "wave"
        self.latent_dim = int(generator.latent_dim)
        self.max_norm = None if max_norm is None else float(max_norm) * math.sqrt(self.latent_dim)
        self.init_std = float(init_std)
        start = init_std * per_item_normal(self.seeds.tolist(), (self.latent_dim,))
        self.z = nn.Parameter(start.to(device))
        self.register_buffer("labels", None if labels is None else
                             labels.long().view(-1).to(device))

    def frozen_modules(self) -> list[nn.Module]:
        return [self.generator]

    def regularized(self) -> torch.Tensor:
        return self.z

    @torch.no_grad()
    def pick_start(self, score, candidates: int, chunk: int = 256) -> None:
        """Start each item from the best of ``candidates`` draws of z, ranked by ``score``
        (signals [N, ...] and item indices [N] -> [N], e.g. the target logit of each): a cheap
        way past the flat regions of the prior where some starts stall (DGN-AM implementations
        do the same). Each item's candidates come from its own seed."""
        if candidates <= 1:
            return
        b, d = self.z.shape
        extra = per_item_normal([s ^ 0x2545F491 for s in self.seeds.tolist()],
                                (candidates - 1, d))
        draws = torch.cat([self.z.detach().unsqueeze(1),
                           self.init_std * extra.to(self.z.device)], 1)  # the plain start first
        scores = []
        flat = draws.reshape(b * candidates, d)
        labels = self.labels.repeat_interleave(candidates) if self.labels is not None else None
        with frozen(self.generator):
            for start in range(0, len(flat), chunk):
                z = self._clamped(flat[start:start + chunk])
                y = labels[start:start + chunk] if labels is not None else None
                item = torch.arange(start, start + len(z), device=z.device) // candidates
                scores.append(score(self.generator(z, y), item))
        best = torch.cat(scores).view(b, candidates).argmax(1)
        self.z.copy_(draws[torch.arange(b, device=draws.device), best])

    def _clamped(self, z: torch.Tensor) -> torch.Tensor:
        if self.max_norm is None:
            return z
        norm = z.norm(dim=1, keepdim=True).clamp_min(1e-8)
        return z * (self.max_norm / norm).clamp(max=1.0)

    def latent(self) -> torch.Tensor:
        """z with the norm constraint applied (what the generator receives)."""
        return self._clamped(self.z)

    def signal(self) -> torch.Tensor:
        gen = self.generator
        if next(gen.parameters()).device != self.z.device:
            raise ValueError(f"the generator is on {next(gen.parameters()).device} but z on "
                             f"{self.z.device}: keep them on one device")
        return gen(self.latent(), self.labels if gen.conditional else None)

