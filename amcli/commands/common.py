"""Small helpers every command uses: the run folder, schema objects, data splits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("amcli")


def to_schema(cfg: DictConfig) -> Any:
    """The composed config as its dataclass (validated by Hydra already)."""
    return OmegaConf.to_object(cfg)


def run_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


def overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task)
