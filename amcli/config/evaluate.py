"""Schema of ``amcli evaluate``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from amcli.bounds import bounded
from amcli.config.models import CustomClassifierConfig, HFClassifierConfig
from amcli.data.spec import DataConfig


class EvalSplit(Enum):
    test = "test"
    val = "val"
    train = "train"
    all = "all"


@dataclass
class EvaluateConfig:
    """Schema of ``amcli evaluate``."""

    #: a shipped name, a path to <name>.json or to a transformers folder, custom, or hf
    classifier: str = "crnn_mel"
    custom: CustomClassifierConfig = field(default_factory=CustomClassifierConfig)
    hf: HFClassifierConfig = field(default_factory=HFClassifierConfig)
    data: DataConfig = field(default_factory=DataConfig)
    #: test: the held-out groups the checkpoint recorded (or the seeded split of data.split); val,
    #: train, or all clips
    split: EvalSplit = EvalSplit.test
    #: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    #: clips per forward pass
    batch_size: int = bounded(64, ge=1)
    #: no progress bar
    quiet: bool = False
    #: replace an earlier run in the run folder (hydra.run.dir): the files that run wrote are
    #: removed first; without it such a folder is refused
    overwrite: bool = False

