"""``amcli optimize``: class-based activation maximization on a classifier checkpoint.

Orchestration only: configs -> classifier, clips, parameterization -> ``amcli.am.optimize`` ->
metrics and files (WAVs, plots, metrics.json, a marker last).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from amcli import am
from amcli.audio import read_audio, write_wav
from amcli.commands.common import done_before, load_model, overrides, run_dir, to_schema
from amcli.config import Method, OptimizeConfig, Prior
from amcli.data.base import AUDIO_SUFFIXES, crop_or_pad
from amcli.device import resolve_device
from amcli.errors import UserError
from amcli.features import FeatureParams, GriffinLimVocoder, LogMel, load_torchscript_vocoder
from amcli.metrics.cues import cue_shift, measure_cues
from amcli.metrics.faithfulness import faithfulness, transfer_rate
from amcli.metrics.frechet import output_frechet
from amcli.metrics.sanity import LEVELS, randomized_copy, spearman
from amcli.models import Classifier, load_classifier
from amcli.models.checkpoint import load_generator
from amcli.models.gan import Generator
from amcli.report.plots import mask_plot, spec_plot
from amcli.report.run import run_info, run_record
from amcli.report.sweep import write_run_files
from amcli.resources import CONF_PATH, example_clip

log = logging.getLogger(__name__)

#: Learning rates that work for each method on the demo checkpoints (Adam): mask logits move
#: freely, while a waveform updated at 0.1 overshoots and stalls far from any target.
DEFAULT_LR = {Method.mask: 0.1, Method.input: 0.003, Method.latent: 0.05}

ADVERSARIAL_NOTE = ("method=input is unconstrained: it reaches any target as an adversarial "
                    "perturbation; read it as such, not as an explanation")


@dataclass
class Item:
    clip: str  # name of the input clip ("" for noise starts)
    target: str
    restart: int
    name: str  # file stem of its outputs


def check(cfg: OptimizeConfig) -> None:
    """Refuse combinations that cannot work, before any loading."""
    if cfg.method == Method.latent and cfg.prior.kind == Prior.none:
        raise UserError("method=latent optimizes a generator's z: give prior=gan or prior=cgan "
                        "(or prior=gan prior.checkpoint=PATH for your own)")
    if cfg.method != Method.latent and cfg.prior.kind != Prior.none:
        raise UserError(f"prior={cfg.prior.kind.value} works only with method=latent; add "
                        "method=latent or drop prior=")
    if cfg.condition is not None and cfg.prior.kind != Prior.cgan:
        raise UserError(f"condition={cfg.condition} needs a conditional prior: use prior=cgan "
                        "or drop condition=")
    if cfg.latent.init_candidates < 1:
        raise UserError(f"latent.init_candidates={cfg.latent.init_candidates}; give at least 1")
    if cfg.latent.max_norm is not None and cfg.latent.max_norm <= 0:
        raise UserError(f"latent.max_norm={cfg.latent.max_norm}; give a positive multiple of "
                        "sqrt(latent_dim) or null")
    choices = {"mask.kind": (cfg.mask.kind, ("time", "tf")),
               "mask.formulation": (cfg.mask.formulation, ("extremal", "penalty")),
               "signal.domain": (cfg.signal.domain, ("wave", "mel")),
               "signal.start": (cfg.signal.start, ("noise", "clip")),
               "objective.kind": (cfg.objective.kind, ("logit", "log_softmax", "prob")),
               "optimizer": (cfg.optimizer, ("adam", "sgd")),
               "precision": (cfg.precision, ("fp32", "bf16")),
               "plot_format": (cfg.plot_format, ("png", "pdf", "svg"))}
    for key, (value, allowed) in choices.items():
        if value not in allowed:
            raise UserError(f"{key}={value}; use one of {', '.join(allowed)}")
    for key in ("restarts", "steps", "record_every"):
        if getattr(cfg, key) < 1:
            raise UserError(f"{key}={getattr(cfg, key)}; it must be at least 1")
    if cfg.max_batch < 0:
        raise UserError(f"max_batch={cfg.max_batch}; give a batch size, or 0 for one batch")
    if not 0 < cfg.mask.area <= 1:
        raise UserError(f"mask.area={cfg.mask.area}; give the share of active frames to keep, "
                        "in (0, 1]")
    if cfg.mask.max_gain <= 0 or not 0 < cfg.mask.init <= cfg.mask.max_gain:
        raise UserError(f"mask.max_gain={cfg.mask.max_gain}, mask.init={cfg.mask.init}; need "
                        "0 < init <= max_gain")
    if cfg.lr is not None and cfg.lr <= 0:
        raise UserError(f"lr={cfg.lr}; give a positive learning rate or null for the default")
    if cfg.threshold is not None and not 0 < cfg.threshold <= 1:
        raise UserError(f"threshold={cfg.threshold}; give a probability in (0, 1] or null")


def resolve_targets(target: object, classes: list[str]) -> list[str]:
    if target in (None, "all"):
        return list(classes)
    names = [target] if isinstance(target, str) else list(target)
    unknown = [str(n) for n in names if n not in classes]
    if unknown or not names:
        raise UserError(f"unknown target {unknown or names}; the classifier's classes are "
                        f"{', '.join(classes)} (or target=all)")
    return list(dict.fromkeys(names))


def input_clips(cfg: OptimizeConfig, targets: list[str], model: Classifier) -> dict[str, Path]:
    """Clip name -> path. Default: each target's shipped example clip."""
    if cfg.input is None:
        clips = {}
        for target in targets:
            path = example_clip(target)
            if not path.is_file():
                raise UserError(f"no example clip for class '{target}' ({path}); give input=PATH")
            clips[target] = path
        return clips
    path = Path(cfg.input).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise UserError(f"input={path} holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
        return {p.stem: p for p in files}
    if not path.exists():
        raise UserError(f"input={path} not found; give a clip, a folder of clips, or leave "
                        "input unset for the shipped example clips")
    return {path.stem: path}


def build_items(cfg: OptimizeConfig, targets: list[str], clip_names: list[str],
                per_target_default: bool) -> list[Item]:
    items = []
    for clip in clip_names:
        for target in targets:
            if per_target_default and clip != target:
                continue
            for k in range(cfg.restarts):
                stem = f"{target}_r{k}" if len(clip_names) == 1 or per_target_default \
                    else f"{clip}_{target}_r{k}"
                items.append(Item(clip, target, k, stem))
    return items


def load_clips(paths: dict[str, Path], model: Classifier) -> dict[str, torch.Tensor]:
    """Mono clips at the model's rate, padded to the length the model was trained on."""
    meta = getattr(model, "checkpoint", {}).get("meta", {})
    length = int(meta.get("clip_seconds", 3.0) * model.sample_rate)
    clips = {}
    for name, path in paths.items():
        wave, _ = read_audio(path, model.sample_rate, min_seconds=model.min_seconds)
        clips[name] = crop_or_pad(wave, max(length, wave.shape[-1]))
    longest = max(c.shape[-1] for c in clips.values())
    return {n: torch.nn.functional.pad(c, (0, longest - c.shape[-1])) for n, c in clips.items()}


def run(cfg: OptimizeConfig) -> dict:
    folder = run_dir()
    if done_before():
        return {}
    with run_record(folder, "optimize", run_info(cfg.seed, cfg.device, overrides()),
                    finalize=write_run_files) as record:
        check(cfg)
        device = resolve_device(cfg.device)
        record["run"]["device"] = str(device)
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        model = load_model(cfg.classifier, cfg.custom, device)
        record["run"]["classifier"] = {"name": model.checkpoint["name"],
                                       "sha256": model.checkpoint["sha256"]}
        judge = load_judge(cfg, model, device)
        record["run"]["judge"] = {"name": judge.checkpoint["name"],
                                  "sha256": judge.checkpoint["sha256"]} if judge else None
        prior = load_prior(cfg, model, device)
        record["run"].update(
            prior={"kind": cfg.prior.kind.value, "name": prior.checkpoint["name"],
                   "sha256": prior.checkpoint["sha256"],
                   "condition": cfg.condition or "target" if prior.conditional else None}
            if prior is not None else None,
            method=cfg.method.value, lr=cfg.lr if cfg.lr is not None else DEFAULT_LR[cfg.method])
        targets = resolve_targets(cfg.target, model.classes)
        if prior is not None and prior.conditional:
            conditions(cfg, prior, targets)  # refuse an unknown condition before any work
        if cfg.method == Method.input and cfg.signal.domain == "mel" \
                and model.representation != "mel":
            raise UserError(f"signal.domain=mel needs a mel classifier; {cfg.classifier} takes "
                            "raw audio: use signal.domain=wave")
        needs_clip = cfg.method == Method.mask or (cfg.method == Method.input
                                                    and cfg.signal.start == "clip")
        default_inputs = cfg.input is None and needs_clip
        clips = load_clips(input_clips(cfg, targets, model), model) if needs_clip else {}
        items = build_items(cfg, targets, list(clips) or [""], default_inputs)
        size = fit_batch(cfg, model, clips, items, device, prior)
        record["run"]["batch"] = size
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        vocoder = load_vocoder(cfg, model)
        record["items"] = []
        interrupted = False
        for number, chunk in enumerate(chunks):
            label = f" chunk {number + 1}/{len(chunks)}" if len(chunks) > 1 else ""
            result, param = optimize_items(cfg, model, clips, chunk, device, label, prior)
            record["items"] += write_outputs(cfg, folder, model, clips, chunk, result, param,
                                             judge, vocoder)
            if result.interrupted:
                interrupted = True
                break
        record["summary"] = summarize(record["items"], targets)
        if cfg.frechet_reference and judge is not None and not interrupted:
            record["summary"]["frechet"] = outputs_frechet(cfg, folder, record["items"], judge)
        if cfg.sanity and not interrupted:
            record["sanity"] = sanity_check(cfg, model, clips, items, device, record["items"],
                                            prior)
        for item in record["items"]:
            item.pop("_profile", None)
        if cfg.method == Method.input:
            record["note"] = ADVERSARIAL_NOTE
            log.warning(ADVERSARIAL_NOTE)
        print_summary(record["items"])
        if interrupted:
            raise KeyboardInterrupt
    return record


def chunk_size(n_items: int, per_item_bytes: float, free_bytes: float,
               share: float = 0.8) -> int:
    """Items per chunk so that a chunk takes at most ``share`` of the free memory."""
    return max(1, min(n_items, int(share * free_bytes / max(per_item_bytes, 1.0))))


def fit_batch(cfg: OptimizeConfig, model: Classifier, clips: dict[str, torch.Tensor],
              items: list[Item], device: torch.device, prior: Generator | None) -> int:
    """``max_batch`` if set; on CUDA with max_batch=0, what fits the free memory, measured by a
    two-step probe on two items; elsewhere every item in one batch."""
    if cfg.max_batch:
        return cfg.max_batch
    if device.type != "cuda" or len(items) <= 2:
        return len(items)
    import dataclasses

    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    probe = dataclasses.replace(cfg, steps=2, min_steps=10**6, quiet=True)
    optimize_items(probe, model, clips, items[:2], device, " memory probe", prior)
    per_item = (torch.cuda.max_memory_allocated(device) - base) / 2
    free, _ = torch.cuda.mem_get_info(device)
    size = chunk_size(len(items), per_item, free)
    log.info("%.1f MB per item, %.1f GB free: %d items per chunk", per_item / 2**20,
             free / 2**30, size)
    return size


def optimize_items(cfg: OptimizeConfig, model: Classifier, clips: dict[str, torch.Tensor],
                   items: list[Item], device: torch.device, label: str = "",
                   prior: Generator | None = None):
    features = model.feature_params or FeatureParams(sample_rate=model.sample_rate)
    generator = torch.Generator().manual_seed(cfg.seed)
    targets = torch.tensor([model.classes.index(i.target) for i in items])
    if cfg.method == Method.mask:
        batch = torch.stack([clips[i.clip] for i in items]).to(device)
        m = cfg.mask
        param = am.Mask(batch, kind=m.kind, max_gain=m.max_gain, init=m.init,
                        resolution_s=m.resolution_s, smooth=m.smooth, freq_bands=m.freq_bands,
                        sample_rate=model.sample_rate, features=features,
                        init_noise=m.init_noise, generator=generator,
                        area_target=m.area if m.formulation == "extremal" else None)
        regs = [am.SortedArea(m.area, m.area_weight) if m.formulation == "extremal"
                else am.MaskArea(m.penalty)]
        if m.tv:
            regs.append(am.TV(m.tv))
    elif cfg.method == Method.latent:
        lat = cfg.latent
        labels = None
        if prior.conditional:
            wanted = conditions(cfg, prior, [i.target for i in items])
            labels = torch.tensor([prior.classes.index(c) for c in wanted])
        param = am.Latent(prior, len(items), labels, max_norm=lat.max_norm,
                          init_std=lat.init_std, rng=generator).to(device)
        model_targets = targets.to(device)

        def target_logit(signal: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
            logits = am.classify(model, signal, param.domain, cfg.precision)
            return logits.gather(1, model_targets[item].view(-1, 1))[:, 0]

        param.pick_start(target_logit, lat.init_candidates, generator)
        regs = [r for r in (am.L1(lat.l1) if lat.l1 else None,
                            am.L2(lat.l2) if lat.l2 else None) if r]
    else:
        s = cfg.signal
        init = None
        if s.start == "clip":
            init = torch.stack([clips[i.clip] for i in items])
            if s.domain == "mel":
                init = LogMel(features)(init)
        length = init.shape[-1] if init is not None else int(s.seconds * model.sample_rate)
        if s.domain == "mel" and init is None:
            length = features.n_frames(length)
        param = am.Input(len(items), length, domain=s.domain, init=init, spectral=s.spectral,
                         n_mels=features.n_mels, mel_floor=float(np.log(features.log_floor)),
                         generator=generator)
        regs = [r for r in (am.L2(s.l2) if s.l2 else None, am.TV(s.tv) if s.tv else None) if r]
    param.to(device)
    o = cfg.objective
    objective = am.LayerActivation(o.layer, o.channel, o.unit) if o.layer \
        else am.class_objective(o.kind, o.suppress)
    t = cfg.transforms
    transforms = am.RobustTransforms(t.shift_s, t.gain_db, tuple(t.snr_db) if t.snr_db else None,
                                     model.sample_rate, features.hop_length,
                                     generator) if t.enabled else None
    bar = tqdm(total=cfg.steps, desc=f"optimize ({cfg.method.value}, {len(items)} items{label})",
               unit="step", disable=cfg.quiet)

    def progress(step: int, p_t: torch.Tensor) -> None:
        bar.n = step
        bar.set_postfix(best=f"{p_t.max():.3f}", median=f"{p_t.median():.3f}", refresh=False)
        bar.refresh()

    lr = cfg.lr if cfg.lr is not None else DEFAULT_LR[cfg.method]
    try:
        result = am.optimize(model, param, targets, objective=objective, regularizers=regs,
                             transforms=transforms, steps=cfg.steps, lr=lr,
                             optimizer=cfg.optimizer, threshold=cfg.threshold,
                             min_steps=cfg.min_steps, record_every=cfg.record_every,
                             progress=progress, precision=cfg.precision,
                             compile=cfg.compile)
    except KeyError as err:  # an unknown layer name for objective.layer
        raise UserError(f"objective.layer: {err.args[0]}") from None
    finally:
        bar.close()
    return result, param


#: how far the shifted-mask control moves the mask against the clip
MASK_SHIFT_S = 0.25


@torch.no_grad()
def mask_metrics(model: Classifier, param: am.Mask, targets: torch.Tensor,
                 area_target: float | None) -> list[dict]:
    """Mask statistics, the controls (binarized mask, uniform gain with the masked clip's
    energy, the mask shifted by 0.25 s against the clip) and the inputs of L-MAC faithfulness:
    the clip's own probability and the masked-out clip's ((1 - m) x)."""
    area = param.area()
    keep = param.time_profile()
    tv = (keep[:, 1:] - keep[:, :-1]).abs().mean(-1)
    active = param.active
    binary = param.binarized(torch.full_like(area, area_target) if area_target else area)
    masked = param.signal()
    energy_ratio = masked.pow(2).sum(-1) / param.clips.pow(2).sum(-1).clamp_min(1e-12)
    uniform = param.clips * energy_ratio.sqrt().unsqueeze(-1)

    def prob(signal: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(signal).float(), -1).gather(1, targets.view(-1, 1))[:, 0]

    p_binary, p_uniform = prob(param.apply(binary)), prob(uniform)
    frames = param.frame_mask()
    keep_frames = frames.clamp(0.0, 1.0)
    shift = int(round(MASK_SHIFT_S * param.features.sample_rate / param.features.hop_length))
    p_out = prob(param.apply(1.0 - keep_frames))
    p_shift = prob(param.apply(frames.roll(shift, dims=-1)))
    original = torch.softmax(model(param.clips).float(), -1)
    p_orig = original.gather(1, targets.view(-1, 1))[:, 0]
    same_top1 = model(masked).argmax(-1) == original.argmax(-1)
    rows = []
    for i in range(len(targets)):
        act = active[i]
        rows.append({
            "mean": float(keep[i].mean()),
            "area": float(area[i]),
            "tv": float(tv[i]),
            "mean_active": float(keep[i][act].mean()) if act.any() else None,
            "mean_silent": float(keep[i][~act].mean()) if (~act).any() else None,
            "binarized_prob": float(p_binary[i]),
            "uniform_gain_prob": float(p_uniform[i]),
            "shifted_prob": float(p_shift[i]),
            "original_prob": float(p_orig[i]),
            "masked_out_prob": float(p_out[i]),
            "same_top1": bool(same_top1[i]),
        })
    return rows


def param_features(model: Classifier) -> FeatureParams:
    return model.feature_params or FeatureParams(sample_rate=model.sample_rate)


def load_prior(cfg: OptimizeConfig, model: Classifier, device: torch.device
               ) -> Generator | None:
    """The generator of ``prior=``: ``<kind>_<classifier representation>`` or
    ``prior.checkpoint``; refused when its representation, rate or log-mel parameters differ
    from the classifier's, or when its conditioning is not what ``prior=`` says."""
    if cfg.prior.kind == Prior.none:
        return None
    kind = cfg.prior.kind.value
    ref = cfg.prior.checkpoint or f"{kind}_{model.representation}"
    gen = load_generator(ref, device)
    name = gen.checkpoint["name"]
    if gen.representation != model.representation:
        raise UserError(f"prior {name} makes {gen.representation} but classifier "
                        f"{cfg.classifier} takes {model.representation}: use a "
                        f"{model.representation} prior (prior.checkpoint=) or a "
                        f"{gen.representation} classifier")
    if gen.sample_rate != model.sample_rate:
        raise UserError(f"prior {name} runs at {gen.sample_rate} Hz, classifier "
                        f"{cfg.classifier} at {model.sample_rate} Hz; train the prior at the "
                        "classifier's rate")
    if gen.representation == "mel" and gen.feature_params != model.feature_params:
        raise UserError(f"prior {name} and classifier {cfg.classifier} use different log-mel "
                        f"parameters ({gen.feature_params} vs {model.feature_params}); train "
                        "the prior with the classifier's features")
    if gen.conditional != (kind == "cgan"):
        which = "a conditional" if gen.conditional else "an unconditional"
        raise UserError(f"prior={kind} but {name} is {which} generator; use "
                        f"prior={'cgan' if gen.conditional else 'gan'} with it")
    return gen


def conditions(cfg: OptimizeConfig, prior: Generator, targets: list[str]) -> list[str]:
    """The class a cgan is told to make for each target (condition=target: the target)."""
    wanted = targets if cfg.condition in (None, "target") else [cfg.condition] * len(targets)
    unknown = sorted({c for c in wanted if c not in prior.classes})
    if unknown:
        raise UserError(f"condition {unknown[0]} is not a class of prior "
                        f"{prior.checkpoint['name']} ({', '.join(prior.classes)}); use "
                        "condition=target or one of those")
    return wanted


def load_vocoder(cfg: OptimizeConfig, model: Classifier) -> torch.nn.Module:
    """Griffin-Lim with the classifier's log-mel parameters, or the user's TorchScript
    vocoder (``vocoder.path``)."""
    features = param_features(model)
    if cfg.vocoder.path:
        return load_torchscript_vocoder(cfg.vocoder.path, features)
    return GriffinLimVocoder(features, n_iter=cfg.vocoder.griffin_lim_iters)


def load_judge(cfg: OptimizeConfig, model: Classifier, device: torch.device
               ) -> Classifier | None:
    if not cfg.judge:
        return None
    judge = load_classifier(cfg.judge, device)
    if judge.sample_rate != model.sample_rate:
        raise UserError(f"judge {cfg.judge} runs at {judge.sample_rate} Hz, the classifier at "
                        f"{model.sample_rate} Hz; give a judge with the same rate or judge=null")
    return judge


@torch.no_grad()
def judge_scores(judge: Classifier, waves: torch.Tensor, targets: list[str]) -> list[dict]:
    """The judge's probabilities on the outputs: transfer to an independent model."""
    probs = torch.softmax(judge(waves.to(next(judge.parameters()).device)).float(), -1).cpu()
    rows = []
    for i, target in enumerate(targets):
        row = {"judge_probs": {c: float(p) for c, p in zip(judge.classes, probs[i], strict=True)},
               "judge_top1": judge.classes[int(probs[i].argmax())]}
        row["judge_prob"] = row["judge_probs"].get(target)
        rows.append(row)
    return rows


def cue_records(clips: dict[str, torch.Tensor], items: list[Item], waves: torch.Tensor,
                rate: int) -> list[dict]:
    """Acoustic cues of each output and their shift from its reference: the input clip, or for
    outputs made from noise the shipped neutral example (METHODS.md: the neutral reference)."""
    references: dict[str, dict] = {}
    rows = []
    for i, item in enumerate(items):
        if item.clip not in references:
            if item.clip:
                reference = clips[item.clip].numpy()
            else:
                reference = read_audio(example_clip("neutral"), rate)[0].numpy()
            references[item.clip] = measure_cues(reference, rate)
        output = measure_cues(waves[i].detach().cpu().numpy(), rate)
        rows.append({"output": output, "reference": references[item.clip],
                     "reference_is": "input" if item.clip else "neutral example",
                     "shift": cue_shift(output, references[item.clip])})
    return rows


def write_outputs(cfg: OptimizeConfig, folder: Path, model: Classifier,
                  clips: dict[str, torch.Tensor], items: list[Item], result: am.Result,
                  param: am.Parameterization, judge: Classifier | None = None,
                  vocoder: torch.nn.Module | None = None) -> list[dict]:
    rate = model.sample_rate
    features = model.feature_params or FeatureParams(sample_rate=rate)
    logmel = LogMel(features)
    wav_dir, plot_dir = folder / "wav", folder / "plots"
    input_names = {}
    for name, clip in clips.items():
        stem = "input" if len(clips) == 1 else f"input_{name}"
        write_wav(wav_dir / f"{stem}.wav", clip, rate)
        input_names[name] = f"wav/{stem}.wav"
    signal = result.signal.cpu()
    if param.domain == "mel":
        mels = signal
        waves = (vocoder or GriffinLimVocoder(features))(signal)
    else:
        waves, mels = signal, logmel(signal)
    is_mask = isinstance(param, am.Mask)
    area_target = cfg.mask.area if cfg.mask.formulation == "extremal" else None
    masks = mask_metrics(model, param, result.targets, area_target) if is_mask else None
    profiles = (param.frame_mask() if cfg.mask.kind == "tf" else param.time_profile()).detach() \
        if is_mask else None
    judged = judge_scores(judge, waves, [i.target for i in items]) if judge else None
    prior_labels = None
    if isinstance(param, am.Latent) and param.labels is not None:
        prior_labels = [param.generator.classes[int(y)] for y in param.labels]
    cue_rows = cue_records(clips, items, waves, rate) if cfg.cues else None
    records = []
    for i, item in enumerate(items):
        gain = write_wav(wav_dir / f"{item.name}.wav", waves[i], rate)
        title = f"{model.checkpoint['name']}: {item.target} (restart {item.restart}), " \
                f"p = {float(result.target_prob[i]):.3f}"
        fmt = cfg.plot_format
        if is_mask:
            mask_plot(clips[item.clip].numpy(), profiles[i].cpu().numpy(),
                      param.active[i].cpu().numpy(), rate, features.hop_length,
                      plot_dir / f"{item.name}_mask.{fmt}", title)
        before = logmel(clips[item.clip]) if item.clip else None
        if before is not None:
            spec_plot(before.numpy(), mels[i].detach().numpy(), rate, features.hop_length,
                      plot_dir / f"{item.name}_spec.{fmt}", title)
        else:
            spec_plot(mels[i].detach().numpy(), mels[i].detach().numpy(), rate,
                      features.hop_length, plot_dir / f"{item.name}_spec.{fmt}", title,
                      labels=("output", "output"))
        history = {key: [row[i] if isinstance(row, list) else row for row in values]
                   for key, values in result.history.items()}
        history["step"] = result.history["step"]
        records.append({
            "target": item.target,
            "restart": item.restart,
            **({"condition": prior_labels[i]} if prior_labels else {}),
            "input": input_names.get(item.clip),
            "output": f"wav/{item.name}.wav",
            "output_gain": gain,
            "probs": {c: float(p) for c, p in zip(model.classes, result.probs[i], strict=True)},
            "target_prob": float(result.target_prob[i]),
            "margin": margin(result.logits[i], model.classes.index(item.target)),
            "steps": result.steps[i],
            "stop_reason": result.stop_reason[i],
            "mask": masks[i] if masks else None,
            **(judged[i] if judged else {}),
            "cues": cue_rows[i] if cue_rows else None,
            "history": history,
        })
        if is_mask:
            records[-1]["_profile"] = param.time_profile()[i].detach().cpu().tolist()
    return records


def sanity_check(cfg: OptimizeConfig, model: Classifier, clips: dict[str, torch.Tensor],
                 items: list[Item], device: torch.device, records: list[dict],
                 prior: Generator | None = None) -> dict:
    """Rerun the same optimization (same seed) on randomized copies of the classifier and
    compare: mask rank correlation (masks) and cue shifts (all methods)."""
    result = {}
    for level in LEVELS:
        clone = randomized_copy(model, level, cfg.seed)
        clone.checkpoint = model.checkpoint
        size = cfg.max_batch or len(items)
        rows = []
        for start in range(0, len(items), size):
            chunk = items[start:start + size]
            torch.manual_seed(cfg.seed)
            res, param = optimize_items(cfg, clone, clips, chunk, device, f" sanity {level}",
                                        prior)
            waves = res.signal.cpu() if param.domain == "wave" else \
                GriffinLimVocoder(param_features(clone))(res.signal.cpu())
            for j, item in enumerate(chunk):
                row: dict = {"target": item.target, "restart": item.restart,
                             "target_prob": float(res.target_prob[j])}
                trained = records[start + j]
                if isinstance(param, am.Mask):
                    # over active frames: silence is free to drop, its mask values are arbitrary
                    active = param.active[j].cpu().numpy()
                    profile = param.time_profile()[j].detach().cpu().numpy()
                    reference = np.asarray(trained["_profile"])
                    row["mask_spearman"] = spearman(profile[active], reference[active])
                if cfg.cues and waves is not None and trained.get("cues"):
                    out = measure_cues(waves[j].numpy(), model.sample_rate)
                    row["cues"] = out
                    row["cue_shift"] = cue_shift(out, trained["cues"]["reference"])
                rows.append(row)
        correlations = [r["mask_spearman"] for r in rows if r.get("mask_spearman") is not None]
        result[level] = {"items": rows,
                         "median_mask_spearman": float(np.median(correlations))
                         if correlations else None}
    return result


def outputs_frechet(cfg: OptimizeConfig, folder: Path, records: list[dict],
                    judge: Classifier) -> dict:
    """The run's output WAVs against crops of the real clips under ``frechet_reference``."""
    if len(records) < 2:
        log.warning("frechet_reference: the Frechet distance needs at least 2 outputs")
        return {"distance": None, "n_outputs": len(records),
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
    return output_frechet(judge, outputs, reference, cfg.seed)


def margin(logits: torch.Tensor, target: int) -> float:
    others = torch.cat([logits[:target], logits[target + 1:]])
    return float(logits[target] - others.max())


def summarize(records: list[dict], targets: list[str]) -> dict[str, object]:
    """Per target: items, median and min target probability (and judge probability); over all
    items: the judge's transfer rate and, for masks, L-MAC faithfulness."""
    per_target: dict[str, dict] = {}
    for target in targets:
        rows = [r for r in records if r["target"] == target]
        if rows:
            probs = [r["target_prob"] for r in rows]
            per_target[target] = {"items": len(rows),
                                  "median_target_prob": float(np.median(probs)),
                                  "min_target_prob": float(np.min(probs))}
            judged = [r["judge_prob"] for r in rows if r.get("judge_prob") is not None]
            if judged:
                per_target[target]["median_judge_prob"] = float(np.median(judged))
    summary: dict[str, object] = {"targets": per_target}
    if records and "judge_top1" in records[0]:
        summary["transfer_rate"] = transfer_rate([r["judge_top1"] for r in records],
                                                 [r["target"] for r in records])
    masked = [r for r in records if r["mask"]]
    if masked:
        summary["faithfulness"] = faithfulness(
            [r["mask"]["original_prob"] for r in masked], [r["target_prob"] for r in masked],
            [r["mask"]["masked_out_prob"] for r in masked],
            [r["mask"]["same_top1"] for r in masked])
    return summary


def print_summary(records: list[dict]) -> None:
    for r in records:
        extra = ""
        if r["mask"]:
            m = r["mask"]
            extra = (f"  area {m['area']:.2f}  binarized p {m['binarized_prob']:.3f}"
                     f"  uniform-gain p {m['uniform_gain_prob']:.3f}")
        print(f"{r['output']:<28} p({r['target']}) = {r['target_prob']:.3f}  "
              f"[{r['stop_reason']} @ {r['steps']}]{extra}")


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="optimize")
def main(cfg: DictConfig) -> None:
    schema: OptimizeConfig = to_schema(cfg)
    if OmegaConf.is_config(schema.target):
        schema.target = OmegaConf.to_container(schema.target)
    run(schema)
