"""Small helpers every command uses: the run folder, schema objects, data splits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from amcli import run_folder
from amcli.errors import UserError, UserErrorInCallback
from amcli.invocation import RunContext, invocation

log = logging.getLogger("amcli")


def load_model(ref: str, custom: Any, hf: Any, device: Any):
    """A classifier by checkpoint name/path (a transformers folder too), ``custom``
    (``custom.target``, ``.weights``, ``.classes``, ``.representation``, ``.sample_rate``) for
    a user's own nn.Module, or ``hf`` (``hf.path``, ``hf.sample_rate``) for a transformers
    audio-classification folder."""
    from amcli.models import load_classifier, load_custom_classifier

    if ref == "hf":
        from amcli.models.hf import load_hf_classifier

        return load_hf_classifier(hf.path, device, sample_rate=hf.sample_rate,
                                  labels=list(getattr(hf, "labels", None) or []))
    if ref == "custom":
        if not custom.target:
            raise UserError("custom needs custom.target=package.module.Class (and custom.weights, "
                            "custom.classes, custom.representation, custom.sample_rate)")
        return load_custom_classifier(custom.target, custom.weights, list(custom.classes),
                                      custom.representation, custom.sample_rate, device=device,
                                      multi_label=custom.multi_label)
    return load_classifier(ref, device)


def run_context() -> RunContext:
    """This run's context, read once from Hydra and the dispatcher and passed down."""
    from hydra.types import RunMode

    config = HydraConfig.get()
    sweep = Path(config.sweep.dir) if config.mode == RunMode.MULTIRUN else None
    return RunContext(run_dir(), overrides(), invocation(), sweep)


def done_before(overwrite: bool = False) -> bool:
    """True for a sweep job whose folder already holds DONE from an earlier run of the same
    point (same overrides): re-running a sweep into its sweep dir runs only what is missing
    (everything, with ``overwrite``)."""
    import json

    from hydra.types import RunMode

    if HydraConfig.get().mode != RunMode.MULTIRUN or overwrite:
        return False
    folder = run_dir()
    if not (folder / "DONE").exists() or not (folder / "metrics.json").exists():
        return False
    try:
        recorded = json.loads((folder / "metrics.json").read_text())["run"]["overrides"]
    except (ValueError, KeyError):
        return False
    if run_folder.without_overwrite(list(recorded)) != run_folder.without_overwrite(overrides()):
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


class RunFolders(Callback):
    """Hydra callback: claim a run's folder before Hydra writes into it, check a sweep's folder
    before its first job, and lock each sweep job's folder (see :mod:`amcli.run_folder`).
    ``resumes``: the command continues an unfinished run in its own folder (train-prior)."""

    def __init__(self, resumes: bool = False) -> None:
        self.resumes = resumes

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            overwrite = bool(config.get("overwrite", False))
            run_folder.claim(Path(config.hydra.run.dir), overwrite,
                             resumes=self.resumes and not overwrite)
        except (UserError, OSError) as err:
            raise UserErrorInCallback.of(err) from None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            run_folder.check_sweep(Path(config.hydra.sweep.dir),
                                   list(config.hydra.overrides.task),
                                   bool(config.get("overwrite", False)))
        except (UserError, OSError) as err:
            raise UserErrorInCallback.of(err) from None

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        folder = Path(config.hydra.runtime.output_dir)
        run_folder.started(folder)
        try:
            run_folder.lock(folder)
        except UserError:  # another process writes this job: the job's record refuses it
            pass

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        run_folder.release()

    def on_job_end(self, config: DictConfig, **kwargs: Any) -> None:
        run_folder.release(Path(config.hydra.runtime.output_dir))


class SweepSummary(Callback):
    """Hydra callback: rewrite the sweep's summary.csv when the sweep ends (each job's end
    rewrites it too, from run_record)."""

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        from amcli.report.sweep import write_summary

        sweep = Path(config.hydra.sweep.dir)
        if sweep.is_dir():
            write_summary(sweep)
