"""``device=auto|cpu|cuda[:N]|mps`` -> a torch.device, with a clear error when it is absent."""

from __future__ import annotations

import torch

from amcli.errors import UserError


def resolve_device(name: str) -> torch.device:
    """auto picks CUDA, then MPS, then the CPU."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"device={name} is not a device; use auto, cpu, cuda, cuda:N or mps") \
            from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"device={name} but CUDA is not available here; use device=auto "
                            "or device=cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"device={name} but only {torch.cuda.device_count()} CUDA "
                            "device(s) exist")
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise UserError(f"device={name} but MPS is not available here; use device=auto")
    elif device.type != "cpu":
        raise UserError(f"device={name} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return device


def module_device(module: torch.nn.Module, default: torch.device | str = "cpu") -> torch.device:
    """Where a module's tensors live: its first parameter's or buffer's device, else
    ``default`` (a user model may have neither, e.g. a fixed function of the waveform)."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device(default)
