"""The interface every parameterization implements (see the package's docstring), and the
items' own seeds."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def item_seeds(seeds: Sequence[int] | None, batch: int) -> torch.Tensor:
    """The per-item seeds as an int64 tensor; without them, drawn from torch's global RNG (a
    library caller who wants batch-independent results passes ``seeds``)."""
    if seeds is None:
        return torch.randint(0, 2**32, (batch,), dtype=torch.long)
    values = torch.as_tensor(list(seeds), dtype=torch.long).view(-1)
    if values.numel() != batch:
        raise ValueError(f"{values.numel()} seeds for {batch} items")
    return values


class Parameterization(nn.Module):
    """Base: ``signal()`` renders the batch; ``domain`` says what the classifier is fed;
    ``seeds`` [B] are the items' own seeds (their starts and their transforms' draws)."""

    domain = "wave"
    #: Adam learning rate that works for this parameterization on the demo models
    default_lr: float = 0.05

    def signal(self) -> torch.Tensor:
        raise NotImplementedError

    def signal_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """The signals of the items at ``rows`` only (the loop asks for the items still running
        once some have stopped). This default renders every item and keeps those rows; a
        parameterization whose rendering is costly renders only them."""
        return self.signal()[rows]

    def regularized(self) -> torch.Tensor:
        """[B, ...]: what L1, L2 and TV penalize. Every parameterization says it explicitly."""
        raise NotImplementedError(f"{type(self).__name__} does not say what its penalties act "
                                  "on (define regularized())")

    def frozen_modules(self) -> list[nn.Module]:
        """Modules this parameterization evaluates but must not train (e.g. a generator)."""
        return []

    def constraint_met(self) -> torch.Tensor:
        """Per item: whether the parameterization's own constraint holds (e.g. mask area)."""
        return torch.ones(self.batch_size, dtype=torch.bool, device=self.device)

    @property
    def batch_size(self) -> int:
        return next(self.parameters()).shape[0]

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

