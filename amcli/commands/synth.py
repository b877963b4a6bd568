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
from amcli.data.synth.combine import check_combination, chosen_classes, write_combined_corpus
from amcli.data.synth.corpus import check_output, validate_request, write_corpus
from amcli.data.synth.stretch import check_stretch, write_stretched_corpus
from amcli.errors import UserError
from amcli.resources import CONF_PATH

log = logging.getLogger(__name__)


def run_synth(cfg: SynthConfig, default_out: Path) -> Path:
    """Write the corpus described by ``cfg``; returns its folder."""
    check_bounds(cfg)
    out = Path(cfg.out).expanduser() if cfg.out else default_out
    isolate = [family.value for family in cfg.isolate or ()]
    combine = [family.value for family in cfg.combine or ()]
    if combine:
        if isolate or cfg.stretch is not None:
            raise UserError("combine makes its own classes from two families; leave out "
                            "isolate and stretch (they describe another kind of corpus)")
        check_combination(combine)
        given = None if list(cfg.classes) == list(DEFAULT_CLASSES) else list(cfg.classes)
        classes = chosen_classes(combine, given)
        validate_request(cfg.engine.value, ["neutral"], cfg.n_per_class, cfg.speakers,
                         cfg.jitter, cfg.sample_rate, cfg.sentences)
    else:
        classes, _, _ = validate_request(cfg.engine.value, cfg.classes, cfg.n_per_class,
                                         cfg.speakers, cfg.jitter, cfg.sample_rate,
                                         cfg.sentences, isolate, cfg.others.value)
    if cfg.stretch is not None:
        check_stretch(isolate, cfg.engine.value, cfg.stretch, cfg.stretch_at)
    elif cfg.stretch_at is not None:
        raise UserError("stretch_at is where a stretch starts; give stretch=S as well (the "
                        "share of each clip's speech that carries the class cue)")
    check_output(out, cfg.overwrite)
    total = cfg.n_per_class * len(classes)
    started = time.perf_counter()
    with tqdm(total=total, desc=f"synth ({cfg.engine.value})", unit="clip",
              disable=cfg.quiet) as bar:
        write, extra = write_corpus, {"isolate": isolate}
        if cfg.stretch is not None:
            write = write_stretched_corpus
            extra = {"isolate": isolate, "stretch": cfg.stretch, "stretch_at": cfg.stretch_at}
        if combine:
            write, extra = write_combined_corpus, {"combine": combine}
        rows = write(
            out,
            engine=cfg.engine.value,
            classes=classes,
            n_per_class=cfg.n_per_class,
            speakers=cfg.speakers,
            sentences=cfg.sentences,
            seed=cfg.seed,
            jitter=cfg.jitter,
            sample_rate=cfg.sample_rate,
            workers=cfg.workers,
            overwrite=cfg.overwrite,
            progress=bar.update,
            others=cfg.others.value,
            **extra,
        )
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
