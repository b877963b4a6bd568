"""Borrowing a user's modules without changing them.

Activation maximization needs the classifier (and a prior's generator) in eval mode with frozen
weights while it runs; a library must hand them back as it found them. :func:`frozen` sets eval
mode and ``requires_grad=False`` for the duration of a ``with`` block and restores every
submodule's ``training`` flag and every parameter's ``requires_grad`` afterwards.

:func:`rnn_backward_allowed` handles recurrent layers on CUDA: cuDNN refuses the backward of an
RNN in eval mode, which is exactly what AM needs. An RNN without dropout computes the same
function in training mode, so such layers are switched to training mode for the run; for an RNN
with inter-layer dropout that would change the function, cuDNN is switched off instead (slower,
same results).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import torch
from torch import nn


@contextmanager
def frozen(*modules: nn.Module | None) -> Iterator[None]:
    """Eval mode and no weight gradients inside the block; the exact previous state after."""
    present = [m for m in modules if m is not None]
    modes = [(sub, sub.training) for m in present for sub in m.modules()]
    grads = [(p, p.requires_grad) for m in present for p in m.parameters()]
    try:
        for module in present:
            module.eval()
        for param, _ in grads:
            param.requires_grad_(False)
        yield
    finally:
        for sub, mode in modes:
            sub.training = mode
        for param, flag in grads:
            param.requires_grad_(flag)


def _needs_cudnn_off(rnn: nn.RNNBase) -> bool:
    return rnn.num_layers > 1 and rnn.dropout > 0


@contextmanager
def rnn_backward_allowed(model: nn.Module, device: torch.device) -> Iterator[list[str]]:
    """Inside the block, gradients flow through every RNN of ``model`` on CUDA in eval mode.
    Yields the names of the RNN layers that were handled (empty off CUDA or without RNNs)."""
    rnns = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.RNNBase)]
    if device.type != "cuda" or not rnns:
        yield []
        return
    with ExitStack() as stack:
        switched = []
        if any(_needs_cudnn_off(m) for _, m in rnns if not m.training):
            stack.enter_context(torch.backends.cudnn.flags(enabled=False))
        for _, rnn in rnns:
            if not rnn.training and not _needs_cudnn_off(rnn):
                switched.append((rnn, rnn.training))
                rnn.training = True  # no dropout: the same function, and cuDNN allows backward
        try:
            yield [name for name, _ in rnns]
        finally:
            for rnn, mode in switched:
                rnn.training = mode
