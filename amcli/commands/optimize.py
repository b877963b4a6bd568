"""``amcli optimize``: class-based activation maximization on a classifier.

Orchestration only: config -> classifier, judge, the method (amcli.am.methods) and its
resources, the items (clips x targets x restarts, each with its own seed) -> ``amcli.am.run_items``
chunk by chunk -> records and files (amcli.report) -> the run's metrics (amcli.metrics) ->
metrics.json, report.html, a marker last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from amcli import am
from amcli.am.methods import AMMethod, get_method
from amcli.audio import read_audio
from amcli.bounds import check_bounds
from amcli.commands.common import RunContext, done_before, load_model, run_context, to_schema
from amcli.commands.optimize_args import prepare_args
from amcli.config.optimize import OptimizeConfig
from amcli.data.base import AUDIO_SUFFIXES, crop_or_pad
from amcli.device import resolve_device
from amcli.errors import UserError
from amcli.features import FeatureParams, GriffinLimVocoder, load_torchscript_vocoder
from amcli.metrics.frechet import output_distances
from amcli.metrics.judge import judge_problem
from amcli.metrics.sanity import Rerun, sanity_check
from amcli.metrics.summary import primary, summarize
from amcli.metrics.verdicts import apply_verdicts
from amcli.models import load_classifier
from amcli.report.items import RunOutputs
from amcli.report.outputs import write_inputs, write_summary_plots
from amcli.report.run import run_info, run_record, write_progress
from amcli.report.sweep import write_run_files
from amcli.report.terminal import print_run
from amcli.resources import CONF_PATH, example_clip

log = logging.getLogger(__name__)

__all__ = ["main", "prepare_args", "run"]


@dataclass
class OptimizeRun:
    """One optimize run as it goes down the pipeline: what the user asked (``cfg``, ``context``),
    what was loaded for it once (classifier, judge, the method's resources, clips, settings,
    the writer of its outputs) and what it has found so far (``record``, ``outcomes``)."""

    cfg: OptimizeConfig
    context: RunContext
    method: AMMethod
    options: Any
    record: dict
    device: torch.device | None = None
    model: Any = None
    judge: Any = None
    judge_off: str | None = None
    targets: list[str] = field(default_factory=list)
    resources: Any = None
    clips: dict[str, torch.Tensor] = field(default_factory=dict)
    settings: am.RunSettings | None = None
    outputs: RunOutputs | None = None
    outcomes: list[am.Outcome] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.context.folder


def run(cfg: OptimizeConfig) -> dict:
    """The pipeline: set up, optimize the items chunk by chunk, the sanity check, verdicts and
    summary, the run's own figures; ``run_record`` writes metrics.json, the report and the
    marker whatever the end."""
    if done_before(cfg.overwrite):
        return {}
    context = run_context()
    method = get_method(cfg.method)
    with run_record(context, "optimize", run_info(cfg.seed, cfg.device, context),
                    finalize=write_run_files, overwrite=cfg.overwrite) as record:
        job = OptimizeRun(cfg, context, method, method.options_from(cfg), record)
        set_up(job)
        batches = chunks(job)
        for number, chunk in enumerate(batches, 1):
            optimize_chunk(job, chunk, f" chunk {number}/{len(batches)}" if len(batches) > 1
                           else "")
        if cfg.sanity:
            record["sanity"] = run_sanity(job)
        conclude(job)
        add_run_figures(job)
        finish(job)
    return record


def set_up(job: OptimizeRun) -> None:
    """Check the options, load the classifier, the judge, the method's resources and the
    clips, and record what the run uses."""
    cfg, method, options, record = job.cfg, job.method, job.options, job.record
    check_bounds(cfg)
    if cfg.frechet_reference and not cfg.judge:
        raise UserError("frechet_reference needs the judge (the distances are measured in its "
                        "embedding space); drop judge=null or frechet_reference")
    job.device = resolve_device(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    job.model = model = load_model(cfg.classifier, cfg.custom, cfg.hf, job.device)
    method.validate(options, model)
    job.judge, job.judge_off = load_judge(cfg.judge, model, job.device)
    job.targets = am.resolve_targets(cfg.target, model.classes)
    job.resources = method.prepare(options, model, job.targets, job.device)
    judge = job.judge
    record["run"].update(
        device=str(job.device), method=method.name,
        lr=cfg.lr if cfg.lr is not None else method.default_lr,
        classifier={"name": model.checkpoint["name"], "sha256": model.checkpoint["sha256"],
                    "multi_label": model.multi_label},
        judge={"name": judge.checkpoint["name"], "sha256": judge.checkpoint["sha256"],
               **({"off": job.judge_off} if job.judge_off else {})} if judge else None,
        **method.run_info(options, job.resources))
    job.clips = load_clips(input_clips(cfg.input, job.targets), model, cfg.clip_seconds) \
        if method.needs_clip(options) else {}
    record["run"]["clip_seconds"] = {"option": cfg.clip_seconds,
                                     "heard": clip_length(cfg.clip_seconds, model)[2]}
    job.settings = run_settings(cfg, model)
    vocoder, vocoder_name = load_vocoder(cfg, model)
    job.outputs = RunOutputs(
        folder=job.folder, model=model, method=method, vocoder=vocoder,
        vocoder_name=vocoder_name, clips=job.clips,
        input_paths=write_inputs(job.folder, job.clips, model.sample_rate),
        judge=judge if not job.judge_off else None, cues=cfg.cues,
        plot_format=cfg.plot_format.value, resources=job.resources)
    record["items"] = []


def chunks(job: OptimizeRun) -> list[list[am.Item]]:
    """The items (clips x targets x restarts x the method's variants, each with its own seed),
    in chunks of the batch size (``max_batch``, or what fits the device)."""
    cfg, method = job.cfg, job.method
    items = am.build_items(job.targets, list(job.clips), cfg.restarts, cfg.seed,
                           per_target_clip=cfg.input is None and bool(job.clips),
                           variants=method.variants(job.options))
    size = cfg.max_batch or am.fit_chunk(method, job.options, job.model, items, job.clips,
                                         job.settings, job.device, job.resources)
    job.record["run"]["batch"] = size
    return [items[i:i + size] for i in range(0, len(items), size)]


def optimize_chunk(job: OptimizeRun, chunk: list[am.Item], label: str = "") -> None:
    """Optimize one chunk, write its items' files and records, and save the record so far;
    a model that returns non-finite logits or an interruption end the run here. ``label``:
    which chunk, for the progress bar."""
    record = job.record
    with progress_bar(job.cfg, job.method, len(chunk), label) as progress:
        outcome = am.run_items(job.method, job.options, job.model, chunk, job.clips,
                               job.settings, job.device, job.resources, progress)
    job.outcomes.append(outcome)
    broken = nonfinite_items(outcome)
    record["items"] += [r for i, r in enumerate(job.outputs.records(outcome)) if i not in broken]
    write_progress(job.folder, record)
    if broken:
        raise UserError(
            f"the classifier returned non-finite logits (NaN or inf) for "
            f"{', '.join(broken.values())}; the {len(record['items'])} finished "
            "item(s) are in metrics.json; check the model on this input (a division "
            "by a zero level, a log of zero?)")
    if outcome.result.interrupted:
        raise_interrupted(job, outcome.result.interrupt)


def add_run_figures(job: OptimizeRun) -> None:
    """The summary plots, why the judge was off, and the distances to real clips."""
    cfg, record = job.cfg, job.record
    write_summary_plots(job.folder, record["summary"], cfg.plot_format.value)
    if job.judge_off:
        record["summary"]["judge_off"] = job.judge_off
    if cfg.frechet_reference and job.judge is not None and not job.judge_off:
        record["summary"]["distance_to_real"] = distances(cfg, job.folder, record["items"],
                                                          job.judge)
    elif cfg.frechet_reference:
        log.warning("frechet_reference: no distances, the judge is off (%s)", job.judge_off)


def nonfinite_items(outcome: am.Outcome) -> dict[int, str]:
    """Items whose classifier output is not finite even at their best state, by index: the
    model's fault (NaN or inf from the first step), not the optimization's."""
    logits = outcome.result.logits
    return {i: f"{item.name} (step {outcome.result.steps[i]})"
            for i, item in enumerate(outcome.items) if not torch.isfinite(logits[i]).all()}


def conclude(job: OptimizeRun) -> None:
    """Every item's verdict (with the sanity check's rows, when it ran), then the summary: the
    common figures over the answers and the method's own."""
    record, reached = job.record, job.cfg.reached
    apply_verdicts(record["items"], job.method, reached, record.get("sanity"))
    record["summary"] = {**summarize(record["items"], job.targets),
                         **job.method.summarize(primary(record["items"]), reached)}


def finish(job: OptimizeRun) -> None:
    if job.method.note:
        job.record["note"] = job.method.note
        log.warning(job.method.note)
    print_run(job.record, job.method)


def raise_interrupted(job: OptimizeRun, interrupt: KeyboardInterrupt | None) -> None:
    """Ctrl-C (or a scheduler's signal): keep what exists, then end as interrupted."""
    conclude(job)
    finish(job)
    raise interrupt or KeyboardInterrupt()


class progress_bar:
    """A tqdm bar over the steps of one chunk, fed by the loop's progress callback."""

    def __init__(self, cfg: OptimizeConfig, method: AMMethod, n_items: int, label: str) -> None:
        self.bar = tqdm(total=cfg.steps, unit="step", disable=cfg.quiet,
                        desc=f"optimize ({method.name}, {n_items} items{label})")

    def __enter__(self):
        def progress(step: int, p_t: torch.Tensor) -> None:
            self.bar.n = step
            self.bar.set_postfix(best=f"{p_t.max():.3f}", median=f"{p_t.median():.3f}",
                                 refresh=False)
            self.bar.refresh()
        return progress

    def __exit__(self, *exc) -> None:
        self.bar.close()


def run_settings(cfg: OptimizeConfig, model) -> am.RunSettings:
    o, t = cfg.objective, cfg.transforms
    features = model.feature_params or FeatureParams(sample_rate=model.sample_rate)
    try:
        if cfg.compile and o.layer:
            raise UserError(f"compile=true with objective.layer={o.layer}: a compiled forward "
                            "bypasses the hooks that read the layer; drop one of them")
        if o.cap is not None and (o.layer or o.kind.value != "log_softmax"):
            raise UserError(f"objective.cap={o.cap:g} works with objective.kind=log_softmax "
                            "only; give that kind or objective.cap=null")
        objective = am.LayerActivation(o.layer, o.channel, o.unit) if o.layer \
            else am.class_objective(o.kind.value, o.suppress, o.cap)
        if o.layer:
            am.objectives.Hooks(model, objective.layers).remove()  # fails now on a bad name
    except KeyError as err:
        raise UserError(f"objective.layer: {err.args[0]}") from None
    transforms = am.default_transforms(t.shift_s, t.gain_db, tuple(t.snr_db) if t.snr_db else None,
                                       model.sample_rate, features.hop_length) \
        if t.enabled else None
    return am.RunSettings(steps=cfg.steps, lr=cfg.lr, optimizer=cfg.optimizer.value,
                          threshold=cfg.threshold, min_steps=cfg.min_steps,
                          record_every=cfg.record_every, precision=cfg.precision.value,
                          compile=cfg.compile, objective=objective, transforms=transforms,
                          reached=cfg.reached, patience=cfg.patience)


def input_clips(given: str | None, targets: list[str]) -> dict[str, Path]:
    """Clip name -> path. Default: each target's shipped example clip."""
    if given is None:
        clips = {}
        for target in targets:
            path = example_clip(target)
            if not path.is_file():
                raise UserError(f"no example clip for class '{target}' ({path}); give input=PATH")
            clips[target] = path
        return clips
    path = Path(given).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise UserError(f"input={path} holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
        return {p.stem: p for p in files}
    if not path.exists():
        raise UserError(f"input={path} not found; give a clip, a folder of clips, or leave "
                        "input unset for the shipped example clips")
    return {path.stem: path}


def clip_length(seconds: float | None, model) -> tuple[int | None, bool, str]:
    """(samples, exact, what it is) of what the classifier hears per clip, from
    ``clip_seconds``: null pads shorter clips to the length the classifier was trained on (its
    checkpoint's clip_seconds; 3 s for custom and transformers models without one) and keeps
    longer ones whole; N > 0 cuts or pads (centred) every clip to exactly N s; 0 keeps each
    clip's own length. Clips of one run are then padded to the longest."""
    if seconds == 0:
        return None, False, "each clip's own length"
    if seconds is None:
        meta = getattr(model, "checkpoint", {}).get("meta", {})
        trained = float(meta.get("clip_seconds") or 3.0)
        return int(round(trained * model.sample_rate)), False, \
            f"at least {trained:g} s (the classifier's training length)"
    return int(round(seconds * model.sample_rate)), True, f"exactly {seconds:g} s"


def load_clips(paths: dict[str, Path], model, seconds: float | None = None
               ) -> dict[str, torch.Tensor]:
    """Mono clips at the model's rate, cut or padded as ``clip_seconds`` says (clip_length)."""
    length, exact, _ = clip_length(seconds, model)
    clips = {}
    for name, path in paths.items():
        wave, _ = read_audio(path, model.sample_rate, min_seconds=model.min_seconds)
        if length is not None:
            wave = crop_or_pad(wave, length if exact else max(length, wave.shape[-1]))
        clips[name] = wave
    longest = max(c.shape[-1] for c in clips.values())
    return {n: torch.nn.functional.pad(c, (0, longest - c.shape[-1])) for n, c in clips.items()}


def load_judge(name: str | None, model, device: torch.device):
    """The judge and, when it cannot score this classifier, why (the judge is then off)."""
    if not name:
        return None, None
    judge = load_classifier(name, device)
    problem = judge_problem(model, judge)
    if problem:
        log.warning("judge off: %s", problem)
    return judge, problem


def load_vocoder(cfg: OptimizeConfig, model) -> tuple[torch.nn.Module, str]:
    """Griffin-Lim with the classifier's log-mel parameters, or the user's TorchScript vocoder
    (``vocoder.path``), and its name for the records."""
    features = model.feature_params or FeatureParams(sample_rate=model.sample_rate)
    if cfg.vocoder.path:
        return load_torchscript_vocoder(cfg.vocoder.path, features), "vocoder.path"
    return GriffinLimVocoder(features, n_iter=cfg.vocoder.griffin_lim_iters), "griffin-lim"


def run_sanity(job: OptimizeRun) -> dict:
    """The same items (chunks, seeds) on randomized copies of the classifier
    (amcli.metrics.sanity)."""
    method = job.method

    def rerun(randomized) -> Rerun:
        again = [am.run_items(method, job.options, randomized, o.items, job.clips,
                              job.settings, job.device, job.resources) for o in job.outcomes]
        return Rerun([float(p) for o in again for p in o.result.target_prob],
                     _profiles(method, again),
                     _cues(job.outputs, again) if job.cfg.cues else None)

    probe = next(iter(job.clips.values())).unsqueeze(0) if job.clips else \
        torch.zeros(1, job.model.sample_rate)
    return sanity_check(job.model, rerun, _profiles(method, job.outcomes), job.record["items"],
                        job.cfg.seed, probe.to(job.device))


def _profiles(method: AMMethod, outcomes):
    parts = [method.profile(o.built) for o in outcomes]
    if any(p is None for p in parts):
        return None
    width = max(p[0].shape[-1] for p in parts)
    values = torch.cat([torch.nn.functional.pad(p[0].cpu(), (0, width - p[0].shape[-1]))
                        for p in parts])
    defined = torch.cat([torch.nn.functional.pad(p[1].cpu(), (0, width - p[1].shape[-1]))
                         for p in parts])
    return values, defined


def _cues(outputs: RunOutputs, outcomes) -> list[dict]:
    from amcli.metrics.cues import measure_cues

    return [measure_cues(wave.numpy(), outputs.model.sample_rate)
            for outcome in outcomes for wave in outputs.waves_and_mels(outcome)[0]]


def distances(cfg: OptimizeConfig, folder: Path, records: list[dict], judge) -> dict:
    """The run's output WAVs against crops of the real clips under ``frechet_reference``."""
    if len(records) < 2:
        log.warning("frechet_reference: distances need at least 2 outputs")
        return {"n_outputs": len(records),
                "note": "needs at least 2 outputs (more restarts or targets)"}
    root = Path(cfg.frechet_reference).expanduser()
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES) \
        if root.is_dir() else []
    if len(files) < 2:
        raise UserError(f"frechet_reference={root} holds fewer than 2 audio files; give a "
                        "folder of real clips (e.g. a synth corpus)")
    files = [files[i] for i in np.random.default_rng(cfg.seed).permutation(len(files))[:512]]
    outputs = torch.stack([read_audio(folder / r["output"], judge.sample_rate)[0]
                           for r in records])
    waves = [read_audio(f, judge.sample_rate)[0] for f in files]
    span = max(outputs.shape[-1], min(max(w.shape[-1] for w in waves), 10 * judge.sample_rate))
    reference = torch.stack([crop_or_pad(w, span, offset=0) for w in waves])
    return output_distances(judge, outputs, reference, cfg.seed)


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="optimize")
def main(cfg: DictConfig) -> None:
    schema = to_schema(cfg)
    if OmegaConf.is_config(schema.target):
        schema.target = OmegaConf.to_container(schema.target)
    run(schema)
