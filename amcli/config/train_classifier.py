"""Schema of ``amcli train-classifier``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from amcli.bounds import bounded
from amcli.config.models import HFTrainConfig, ModelConfig
from amcli.data.spec import DataConfig
from amcli.train.classifier import TrainSettings


@dataclass
class TrainClassifierConfig:
    """Schema of ``amcli train-classifier``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    #: model=hf: the transformers folder to fine-tune
    hf: HFTrainConfig = field(default_factory=HFTrainConfig)
    #: checkpoint name in the run folder; null = the architecture's name
    name: str | None = None
    #: seeds weights, batches and augmentation
    seed: int = TrainSettings.seed
    #: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    # training settings: their defaults live in amcli.train.TrainSettings, the one source
    #: training epochs (one-cycle learning-rate schedule over them)
    epochs: int = bounded(TrainSettings.epochs, ge=1)
    #: clips per training batch
    batch_size: int = bounded(TrainSettings.batch_size, ge=1)
    #: peak learning rate of the one-cycle schedule
    lr: float = bounded(TrainSettings.lr, gt=0)
    #: AdamW weight decay
    weight_decay: float = bounded(TrainSettings.weight_decay, ge=0)
    #: stop after this many epochs without a better validation accuracy (the best epoch is kept)
    patience: int = bounded(TrainSettings.patience, ge=1)
    #: at most 3 dB: loudness is a class cue, a wider gain augmentation teaches the model to
    #: ignore it
    gain_db: float = bounded(TrainSettings.gain_db, ge=0, le=3,
                             hint="a gain augmentation of at most 3 dB")
    #: range of the SNR (dB) of the added-noise augmentation
    noise_snr_db: list[float] = field(default_factory=lambda: list(TrainSettings.noise_snr_db))
    #: share of training clips that get noise
    noise_prob: float = bounded(TrainSettings.noise_prob, ge=0, le=1)
    #: no progress bars
    quiet: bool = False
    #: replace an earlier run in the run folder (hydra.run.dir): the files that run wrote are
    #: removed first; without it such a folder is refused
    overwrite: bool = False

    def train_settings(self) -> TrainSettings:
        """The library's settings, from the keys the two share."""
        shared = {f.name: getattr(self, f.name) for f in fields(TrainSettings)
                  if hasattr(self, f.name)}
        shared["noise_snr_db"] = tuple(self.noise_snr_db)
        return TrainSettings(**shared)

