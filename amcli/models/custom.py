"""A user's own model as an amcli classifier (``classifier=custom``).

The user gives an importable class (``target``, e.g. ``mypkg.nets.EmotionNet``; it is built
without arguments), safetensors ``weights``, its ``classes`` in output order, its
``representation`` (raw: it takes waveforms [B, T]; mel: it takes amcli's log-mel [B, n_mels,
frames]) and ``sample_rate``. amcli wraps it in the classifier contract and checks it with a
forward pass on a silent clip at load time, so a mismatch fails at once with one line.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import torch
from torch import nn

from amcli.errors import UserError
from amcli.features import FeatureParams
from amcli.models.base import Body, Classifier
from amcli.models.checkpoint import PICKLE_SUFFIXES


class UserBody(Body):
    """Adapts any ``nn.Module`` (features -> logits) to :class:`Body`.

    ``features`` (for ``embed``) uses the module's own ``embed`` if it has one; otherwise it
    returns the logits, the only features every model has.
    """

    def __init__(self, module: nn.Module) -> None:
        nn.Module.__init__(self)
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        embed = getattr(self.module, "embed", None)
        return embed(x) if callable(embed) else self.module(x)


def import_object(target: str):
    module_name, _, attr = target.rpartition(".")
    if not module_name:
        raise UserError(f"custom.target='{target}' must be a dotted path: package.module.Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UserError(
            f"cannot import custom.target='{target}' ({err}); check the dotted path and "
            "that its package is importable (installed or on PYTHONPATH)"
        ) from None
    except Exception as err:  # noqa: BLE001 - the user's module fails while it is imported
        where = f" ({err.filename}, line {err.lineno})" if isinstance(err, SyntaxError) else ""
        raise UserError(f"custom.target='{target}': importing {module_name} failed with "
                        f"{type(err).__name__}: {err}{where}; fix that module") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UserError(f"custom.target='{target}': {module_name} has no '{attr}'; check the "
                        "class name") from None


def load_custom_classifier(
    target: str,
    weights: str | os.PathLike | None,
    classes: list[str],
    representation: str,
    sample_rate: int,
    features: FeatureParams | None = None,
    device: str | torch.device = "cpu",
    multi_label: bool = False,
) -> Classifier:
    """Build, load and check a user model; returns it wrapped as a :class:`Classifier`."""
    from safetensors.torch import load_file

    if representation not in ("raw", "mel"):
        raise UserError(f"custom.representation='{representation}'; use raw or mel")
    if not classes:
        raise UserError("custom.classes is empty; list the model's classes in output order")
    repeated = sorted({c for c in classes if list(classes).count(c) > 1})
    if repeated:
        raise UserError(f"custom.classes names {', '.join(repeated)} more than once; give each "
                        "of the model's outputs its own name")
    factory = import_object(target)
    try:
        module = factory()
    except TypeError as err:
        raise UserError(f"cannot build {target}() without arguments ({err}); wrap it in a "
                        "class whose constructor takes none") from None
    if not isinstance(module, nn.Module):
        raise UserError(f"{target}() is a {type(module).__name__}, not a torch.nn.Module")
    if weights:
        path = Path(weights).expanduser()
        if path.suffix.lower() in PICKLE_SUFFIXES:
            raise UserError(
                f"custom.weights={path} is a pickle-format file, which amcli never loads; "
                "save it with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
            )
        if not path.is_file():
            raise UserError(f"custom.weights={path} not found")
        try:
            module.load_state_dict(load_file(str(path)))
        except Exception as err:  # safetensors or load_state_dict: the user's weights
            first = str(err).strip().splitlines()[0]
            raise UserError(f"custom.weights={path} do not fit {target}: {first}") from None
    features = features or FeatureParams(sample_rate=sample_rate) if representation == "mel" \
        else None
    model = Classifier(UserBody(module), list(classes), representation, sample_rate,
                       features=features)
    model.arch, model.hparams = "custom", {"target": target}
    model.multi_label = bool(multi_label)
    model.to(device).eval()
    probe = torch.zeros(1, sample_rate, device=device)
    try:
        with torch.no_grad():
            logits = model(probe)
    except Exception as err:
        first = str(err).strip().splitlines()[0]
        raise UserError(
            f"{target} fails on a 1 s {representation} input ({first}); check "
            "custom.representation and custom.sample_rate"
        ) from None
    if logits.dim() != 2 or logits.shape != (1, len(classes)):
        raise UserError(
            f"{target} returns shape {tuple(logits.shape)} for one clip, expected "
            f"(1, {len(classes)}) logits for classes {list(classes)}"
        )
    from amcli.files import sha256_of

    # the weights' digest goes into every run record: which model was explained, exactly
    model.checkpoint = {"name": "custom", "path": str(weights or ""),
                        "sha256": sha256_of(weights) if weights else None,
                        "meta": {"target": target}}
    return model
