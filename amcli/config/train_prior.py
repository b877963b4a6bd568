"""Schema of ``amcli train-prior``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from amcli.am.methods.latent import Prior, PriorConfig
from amcli.bounds import bounded
from amcli.data.spec import DataConfig
from amcli.train.gan import GanSettings


@dataclass
class TrainPriorConfig:
    """Schema of ``amcli train-prior``."""

    #: the config group conf/prior/ shared with optimize: prior=gan | prior=cgan
    prior: PriorConfig = field(default_factory=lambda: PriorConfig(kind=Prior.gan))
    #: mel (64 x 128 log-mel patches) or raw (16384 samples)
    representation: str = "mel"
    data: DataConfig = field(default_factory=DataConfig)
    #: checkpoint name in the run folder; null: <prior>_<representation>
    name: str | None = None
    #: seeds weights, crops and sample grids
    seed: int = GanSettings.seed
    #: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    # training settings: their defaults live in amcli.train.gan.GanSettings, the one source
    #: training iterations (one discriminator and one generator step each)
    iterations: int = bounded(GanSettings.iterations, ge=1)
    #: real crops per iteration
    batch_size: int = bounded(GanSettings.batch_size, ge=1)
    #: generator learning rate (Adam)
    lr_g: float = bounded(GanSettings.lr_g, gt=0)
    #: discriminator learning rate (Adam)
    lr_d: float = bounded(GanSettings.lr_d, gt=0)
    #: Adam beta1 of both networks
    beta1: float = bounded(GanSettings.beta1, ge=0, lt=1)
    #: Adam beta2 of both networks
    beta2: float = bounded(GanSettings.beta2, ge=0, lt=1)
    #: null: the representation's default (mel 128 / width 32; raw 100 / width 16)
    latent_dim: int | None = bounded(None, ge=1)
    #: generator width; null: the representation's default
    width: int | None = bounded(None, ge=1)
    #: discriminator width; null: the representation's default
    d_width: int | None = bounded(None, ge=1)
    #: size of the class embedding of a conditional prior
    embed_dim: int = bounded(32, ge=1)
    #: mode-seeking weight (MSGAN): rewards the generator for outputs that move with z
    diversity: float = bounded(GanSettings.diversity, ge=0)
    #: every this many iterations: sample grids (WAV + PNG), training state, generator checkpoint
    every: int = bounded(250, ge=1)
    #: samples in each sample grid
    n_samples: int = bounded(GanSettings.n_samples, ge=1)
    #: a run folder (or its state.safetensors) to continue from
    resume: str | None = None
    #: float16 generator weights in the checkpoint (float32 in the training state)
    half: bool = True
    #: judge for the quality figures at the end (Frechet distance, cgan accuracy); null: none
    judge: str | None = "judge"
    #: generated and real clips for the Frechet distance at the end
    quality_n: int = bounded(512, ge=2)
    #: CPU threads for torch; 0: the CPUs this process may use
    threads: int = bounded(0, ge=0)
    #: no progress bar
    quiet: bool = False
    #: replace an earlier run in the run folder (hydra.run.dir): the files that run wrote are
    #: removed first; without it such a folder is refused
    overwrite: bool = False

    def gan_settings(self) -> GanSettings:
        """The library's settings, from the keys the two share."""
        return GanSettings(**{f.name: getattr(self, f.name) for f in fields(GanSettings)})

