"""Small helpers every command uses: the run folder, schema objects, data splits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("amcli")


def load_model(ref: str, custom: Any, hf: Any, device: Any):
    """A classifier by checkpoint name/path (a transformers folder too), ``custom``
    (``custom.target``, ``.weights``, ``.classes``, ``.representation``, ``.sample_rate``) for
    a user's own nn.Module, or ``hf`` (``hf.path``, ``hf.sample_rate``) for a transformers
    audio-classification folder."""
    from amcli.errors import UserError
    from amcli.models import load_classifier, load_custom_classifier

    if ref == "hf":
        from amcli.models.hf import load_hf_classifier

        return load_hf_classifier(hf.path, device, sample_rate=hf.sample_rate)
    if ref == "custom":
        if not custom.target:
            raise UserError("custom needs custom.target=package.module.Class (and custom.weights, "
                            "custom.classes, custom.representation, custom.sample_rate)")
        return load_custom_classifier(custom.target, custom.weights, list(custom.classes),
                                      custom.representation, custom.sample_rate, device=device)
    return load_classifier(ref, device)


def done_before() -> bool:
    """True for a sweep job whose folder already holds DONE from an earlier run of the same
    point (same overrides): re-running a sweep into its sweep dir runs only what is missing."""
    import json

    from hydra.types import RunMode

    if HydraConfig.get().mode != RunMode.MULTIRUN:
        return False
    folder = run_dir()
    if not (folder / "DONE").exists() or not (folder / "metrics.json").exists():
        return False
    try:
        recorded = json.loads((folder / "metrics.json").read_text())["run"]["overrides"]
    except (ValueError, KeyError):
        return False
    if list(recorded) != overrides():
        return False
    log.info("skipping %s: this point is already DONE", folder)
    return True


def to_schema(cfg: DictConfig) -> Any:
    """The composed config as its dataclass (validated by Hydra already)."""
    return OmegaConf.to_object(cfg)


def run_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


def overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task)
