"""``amcli synth``: write the synthetic emotional-speech corpus."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from amcli.bounds import check_bounds
from amcli.config.classes import DEFAULT_CLASSES
from amcli.config.synth import SynthConfig
from amcli.data.synth.corpus import check_output
from amcli.data.synth.kinds import resolve_request
from amcli.resources import CONF_PATH

log = logging.getLogger(__name__)


def run_synth(cfg: SynthConfig, default_out: Path) -> Path:
    """Write the corpus described by ``cfg``; returns its folder."""
    check_bounds(cfg)
    out = Path(cfg.out).expanduser() if cfg.out else default_out
    given = None if list(cfg.classes) == list(DEFAULT_CLASSES) else list(cfg.classes)
    request = resolve_request(cfg.engine.value, given, cfg.n_per_class, cfg.speakers,
                              cfg.jitter, cfg.sample_rate, cfg.sentences, cfg.others.value,
                              [f.value for f in cfg.isolate or ()],
                              [f.value for f in cfg.combine or ()], cfg.stretch, cfg.stretch_at)
    check_output(out, cfg.overwrite)
    started = time.perf_counter()
    with tqdm(total=cfg.n_per_class * len(request.classes), desc=f"synth ({cfg.engine.value})",
              unit="clip", disable=cfg.quiet) as bar:
        rows = request.write(out, engine=cfg.engine.value, classes=request.classes,
                             n_per_class=cfg.n_per_class, speakers=cfg.speakers,
                             sentences=cfg.sentences, seed=cfg.seed, jitter=cfg.jitter,
                             sample_rate=cfg.sample_rate, workers=cfg.workers,
                             overwrite=cfg.overwrite, progress=bar.update,
                             others=cfg.others.value, **request.options)
    seconds = sum(float(r["duration_s"]) for r in rows)
    log.info(
        "wrote %d clips (%.1f min of audio) and metadata.csv to %s in %.1f s",
        len(rows), seconds / 60, out, time.perf_counter() - started,
    )
    return out


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="synth")
def main(cfg: DictConfig) -> None:
    schema: SynthConfig = OmegaConf.to_object(cfg)
    for key in ("speakers", "sentences"):  # typed Any: plain Python values, not DictConfig
        value = getattr(schema, key)
        if OmegaConf.is_config(value):
            setattr(schema, key, OmegaConf.to_container(value))
    run_synth(schema, Path(HydraConfig.get().runtime.output_dir) / "corpus")
