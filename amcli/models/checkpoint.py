"""Checkpoints: ``<name>.safetensors`` (weights) + ``<name>.json`` (sidecar), never pickles.

Sidecar fields (docs/reference/checkpoints.md): ``format_version`` (1), ``kind`` ("classifier" |
"generator"), ``arch``, ``hparams``, ``classes``, ``representation``, ``sample_rate``,
``clip_seconds``, ``features`` (log-mel parameters or null), ``latent_dim`` and ``conditional``
(generators), ``training`` ({data, speakers, seed, command}), ``metrics``, ``amcli_version``,
``sha256`` of the .safetensors file, checked on load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from amcli import __version__
from amcli.errors import UserError
from amcli.features import FeatureParams
from amcli.files import atomic_write, sha256_of, write_json
from amcli.models.base import FORMAT_VERSION, Classifier
from amcli.models.gan import GENERATOR_ARCHS, Generator, build_gan
from amcli.models.registry import ARCHITECTURES, build_classifier

PICKLE_SUFFIXES = {".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin", ".tar"}
REQUIRED_FIELDS = ("format_version", "kind", "arch", "hparams", "classes", "representation",
                   "sample_rate", "sha256")


def save_classifier(
    model: Classifier,
    stem: str | os.PathLike,
    clip_seconds: float,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write ``<stem>.safetensors`` and ``<stem>.json``; returns the sidecar's path."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return write_checkpoint(stem, state, {
        "kind": "classifier",
        "arch": model.arch,
        "hparams": model.hparams,
        "classes": model.classes,
        "representation": model.representation,
        "sample_rate": model.sample_rate,
        "clip_seconds": clip_seconds,
        "features": model.feature_params.to_dict() if model.feature_params else None,
        "training": training or {},
        "metrics": metrics or {},
    })


def write_checkpoint(stem: str | os.PathLike, state: dict[str, torch.Tensor],
                     fields: dict[str, Any]) -> Path:
    """The weights (atomically), then the sidecar with ``fields`` plus format_version,
    amcli_version and the weights' sha256; returns the sidecar's path."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights = stem.with_suffix(".safetensors")
    atomic_write(weights, lambda tmp: save_file(state, tmp))
    sidecar = {"format_version": FORMAT_VERSION, **fields, "amcli_version": __version__,
               "sha256": sha256_of(weights)}
    path = stem.with_suffix(".json")
    write_json(path, sidecar)
    return path


def update_metrics(sidecar_path: str | os.PathLike, metrics: dict[str, Any]) -> None:
    """Merge ``metrics`` into a sidecar's ``metrics`` (weights and sha256 unchanged)."""
    path = Path(sidecar_path)
    data = json.loads(path.read_text())
    data["metrics"] = {**data.get("metrics", {}), **metrics}
    write_json(path, data)


def resolve_checkpoint(ref: str | os.PathLike, search: list[Path] | None = None) -> Path:
    """A checkpoint name (looked up in checkpoints/ and ``search``) or path -> its sidecar.

    Refuses pickle files outright: they can run arbitrary code when loaded.
    """
    from amcli.resources import checkpoints_dir

    ref_path = Path(ref).expanduser()
    if ref_path.suffix.lower() in PICKLE_SUFFIXES:
        raise UserError(
            f"{ref} is a pickle-format file, which amcli never loads (it can run code); "
            "save the weights with safetensors and a JSON sidecar (amcli.models.checkpoint)"
        )
    candidates = []
    if ref_path.is_dir():
        raise UserError(f"{ref} is a folder without config.json: neither an amcli checkpoint "
                        "(<name>.json + .safetensors) nor a transformers model folder")
    if ref_path.suffix in (".json", ".safetensors"):
        candidates.append(ref_path.with_suffix(".json"))
    elif os.sep in str(ref) or ref_path.exists() or ref_path.with_suffix(".json").exists():
        candidates.append(ref_path.with_suffix(".json"))
    else:
        for folder in _lookup_folders(search):
            candidates.append(folder / f"{ref}.json")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    shipped = checkpoints_dir()
    available = ", ".join(sorted([p.stem for p in shipped.glob("*.json")] +
                                 [p.parent.name for p in shipped.glob("*/config.json")])) or "none"
    raise UserError(
        f"checkpoint '{ref}' not found (looked for {', '.join(map(str, candidates))}); "
        f"give a path to <name>.json/.safetensors or a shipped name: {available}"
    )


def _lookup_folders(search: list[Path] | None) -> list[Path]:
    from amcli.resources import checkpoints_dir

    return [*(Path(f) for f in search or []), checkpoints_dir()]


def transformers_folder(ref: str | os.PathLike,
                        search: list[Path] | None = None) -> Path | None:
    """The transformers folder ``ref`` names (a path, or a name in checkpoints/ and
    ``search``), or None when it names none."""
    from amcli.models.hf import is_transformers_folder

    path = Path(ref).expanduser()
    if is_transformers_folder(path):
        return path
    if os.sep in str(ref):
        return None
    for folder in _lookup_folders(search):
        if is_transformers_folder(folder / str(ref)):
            return folder / str(ref)
    return None


def read_sidecar(sidecar: Path, kind: str | None = None) -> dict[str, Any]:
    """Read and check a sidecar and the sha256 of its weights; UserError on any mismatch."""
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"cannot read checkpoint sidecar {sidecar}: {err}") from None
    if not isinstance(meta, dict):
        raise UserError(f"checkpoint sidecar {sidecar} is not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if f not in meta]
    if missing:
        raise UserError(
            f"checkpoint sidecar {sidecar} lacks {', '.join(missing)}; "
            "it was not written by amcli (see README: checkpoint format)"
        )
    if meta["format_version"] != FORMAT_VERSION:
        raise UserError(
            f"checkpoint {sidecar} has format_version {meta['format_version']}, this amcli "
            f"reads {FORMAT_VERSION}; upgrade amcli or re-export the checkpoint"
        )
    if kind and meta["kind"] != kind:
        raise UserError(f"checkpoint {sidecar} is a {meta['kind']}, not a {kind}")
    weights = sidecar.with_suffix(".safetensors")
    if not weights.is_file():
        raise UserError(f"checkpoint weights {weights} are missing (the sidecar is there)")
    actual = sha256_of(weights)
    if actual != meta["sha256"]:
        raise UserError(
            f"checkpoint weights {weights} do not match their sidecar (sha256 {actual[:12]}... "
            f"!= {str(meta['sha256'])[:12]}...); the file is corrupt or was replaced"
        )
    return meta


def check_state(sidecar: Path, arch: str, expected: dict[str, torch.Tensor],
                state: dict[str, torch.Tensor]) -> None:
    """Every tensor the architecture expects, with its shape, and nothing else; UserError."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [k for k in expected if k in state and expected[k].shape != state[k].shape]
    if missing or unexpected or reshaped:
        raise UserError(
            f"checkpoint {sidecar} does not match its arch '{arch}' (missing "
            f"{missing[:3]}, unexpected {unexpected[:3]}, other shapes {reshaped[:3]}); "
            "the sidecar's hparams or classes and the weights disagree"
        )


def load_classifier(ref: str | os.PathLike, device: str | torch.device = "cpu",
                    search: list[Path] | None = None) -> Classifier:
    """Load a classifier checkpoint by name or path, in eval mode, checked end to end.

    A name or path that is a transformers folder (a shipped one such as w2v2_tiny, or any
    folder with config.json) loads through :mod:`amcli.models.hf`."""
    folder = transformers_folder(ref, search)
    if folder is not None:
        from amcli.models.hf import load_hf_classifier

        name = str(ref) if folder.parent in _lookup_folders(search) else folder.name
        return load_hf_classifier(folder, device, name=name, key="classifier")
    sidecar = resolve_checkpoint(ref, search)
    meta = read_sidecar(sidecar, kind="classifier")
    if meta["arch"] not in ARCHITECTURES:
        raise UserError(
            f"checkpoint {sidecar} has unknown arch '{meta['arch']}'; known: "
            f"{', '.join(ARCHITECTURES)} (a custom model plugs in as classifier=custom)"
        )
    features = FeatureParams.from_dict(meta["features"]) if meta.get("features") else None
    try:
        model = build_classifier(meta["arch"], list(meta["classes"]), int(meta["sample_rate"]),
                                 features=features, **meta["hparams"])
        state = load_file(str(sidecar.with_suffix(".safetensors")))
    except (TypeError, ValueError, SafetensorError) as err:
        raise UserError(f"checkpoint {sidecar} cannot be built: {err}") from None
    check_state(sidecar, meta["arch"], model.state_dict(), state)
    model.load_state_dict(state)
    model.checkpoint = {"name": sidecar.stem, "path": str(sidecar), "sha256": meta["sha256"],
                        "meta": meta}
    return model.to(device).eval()


def save_generator(
    gen: Generator,
    stem: str | os.PathLike,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    half: bool = True,
) -> Path:
    """Write a generator checkpoint (``kind: generator``); ``half`` stores float16 weights
    (loaded back as float32), which halves the file at no audible cost."""
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in gen.state_dict().items()}
    rep = gen.representation
    samples = (gen.output_shape[-1] - 1) * gen.feature_params.hop_length if rep == "mel" \
        else gen.output_shape[-1]
    return write_checkpoint(stem, state, {
        "kind": "generator",
        "arch": GENERATOR_ARCHS[rep],
        "hparams": gen.hparams,
        "classes": gen.classes,
        "representation": rep,
        "sample_rate": gen.sample_rate,
        "clip_seconds": samples / gen.sample_rate,
        "features": gen.feature_params.to_dict() if gen.feature_params else None,
        "latent_dim": gen.latent_dim,
        "conditional": gen.conditional,
        "dtype": "float16" if half else "float32",
        "training": training or {},
        "metrics": metrics or {},
    })


def load_generator(ref: str | os.PathLike, device: str | torch.device = "cpu",
                   search: list[Path] | None = None) -> Generator:
    """Load a generator checkpoint by name or path, float32, in eval mode, checked."""
    sidecar = resolve_checkpoint(ref, search)
    meta = read_sidecar(sidecar, kind="generator")
    rep = meta["representation"]
    if GENERATOR_ARCHS.get(rep) != meta["arch"]:
        raise UserError(f"generator {sidecar} has arch '{meta['arch']}' for representation "
                        f"'{rep}'; known: {GENERATOR_ARCHS}")
    features = FeatureParams.from_dict(meta["features"]) if meta.get("features") else None
    try:
        gen, _ = build_gan(rep, list(meta["classes"]), bool(meta["conditional"]),
                           features=features, sample_rate=int(meta["sample_rate"]),
                           **meta["hparams"])
        state = load_file(str(sidecar.with_suffix(".safetensors")))
    except (TypeError, ValueError, SafetensorError) as err:
        raise UserError(f"generator {sidecar} cannot be built: {err}") from None
    expected = gen.state_dict()
    check_state(sidecar, meta["arch"], expected, state)
    gen.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    gen.checkpoint = {"name": sidecar.stem, "path": str(sidecar), "sha256": meta["sha256"],
                      "meta": meta}
    return gen.to(device).eval()
