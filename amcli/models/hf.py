"""Hugging Face ``transformers`` audio classifiers as amcli classifiers (``classifier=hf``).

Most speech-emotion models in use are self-supervised transformers fine-tuned for
classification (wav2vec2, HuBERT, WavLM, data2vec-audio, ...), saved as a folder with
``save_pretrained``: ``config.json``, ``model.safetensors`` and the feature extractor's
``preprocessor_config.json``. This module loads such a folder offline and wraps it in the
classifier contract of :mod:`amcli.models.base`:

- classes come from the config's ``id2label``, the sample rate from the feature extractor;
- the feature extractor runs in NumPy and would cut the gradient that activation maximization
  needs, so its torch version (:mod:`amcli.models.hf_features`: the per-utterance
  normalization of waveform models, AST's Kaldi filterbank, Whisper's log-mel) runs inside the
  model. A consequence users must know: a constant gain is invisible to a model whose extractor
  normalizes each clip; loudness acts only through its contour over the clip;
- ``embed`` is the pooled hidden state the classification head reads (what the judge-space
  metrics and Frechet distances use).

amcli's own facts about a folder it trained (classes, split, metrics) live beside the weights in
``amcli.json``, so the folder still loads in plain transformers. Pickle weights
(``pytorch_model.bin``) are refused, as everywhere in amcli.

transformers is an optional extra; everything here imports it lazily and says which extra to
install when it is missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from amcli.errors import UserError
from amcli.models.base import Body, Classifier
from amcli.models.hf_features import front_end

#: amcli's sidecar inside a transformers folder.
SIDECAR = "amcli.json"


WEIGHTS = "model.safetensors"


SHARDED = "model.safetensors.index.json"


PICKLED = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")


INSTALL_HINT = "pip install 'amcli[hf]' (from a clone: pip install -e '.[hf]')"


def import_transformers(what: str = "classifier=hf"):
    """transformers, quietened (no download or loading progress bars), or a UserError that
    names the extra to install."""
    try:
        import transformers
    except ImportError:
        raise UserError(f"{what} needs the transformers package: {INSTALL_HINT}") from None
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers


def is_transformers_folder(path: str | os.PathLike) -> bool:
    """True for a folder that holds a transformers ``config.json``."""
    path = Path(path).expanduser()
    return path.is_dir() and (path / "config.json").is_file()


class TransformersBody(Body):
    """waveform -> logits through a transformers audio-classification model.

    ``features`` returns the input of the model's classification head (the pooled, projected
    hidden state), captured with a hook that lives only for that call, so copies of the body
    (the sanity check deep-copies it) carry no stale hooks.
    """

    def __init__(self, model: nn.Module, front: nn.Module, input_name: str) -> None:
        nn.Module.__init__(self)
        self.front = front  # the feature extractor in torch (amcli.models.hf_features)
        self.input_name = input_name
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(**{self.input_name: self.front(x)}).logits

    def features(self, x: torch.Tensor) -> torch.Tensor:
        head = getattr(self.model, "classifier", None)
        if not isinstance(head, nn.Module):
            return self.forward(x)  # no named head: the logits are the only features
        captured: list[torch.Tensor] = []
        handle = head.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
        try:
            self.model(**{self.input_name: self.front(x)})
        finally:
            handle.remove()
        return captured[-1]


def _check_folder(path: Path, key: str) -> None:
    """The folder exists and has a config.json (checked before the config is read)."""
    if not path.exists():
        raise UserError(f"{key}={path} not found; give a local transformers folder "
                        "(config.json, model.safetensors, preprocessor_config.json)")
    if not path.is_dir():
        raise UserError(f"{key}={path} is a file; give the folder save_pretrained wrote")
    if not (path / "config.json").is_file():
        raise UserError(f"{key}={path} has no config.json, so it is not a transformers model "
                        "folder; write one with model.save_pretrained(DIR) and "
                        "feature_extractor.save_pretrained(DIR)")


def _config(path: Path, key: str, classifier: bool):
    """The folder's config, checked to be an audio classifier (``classifier``) or at least an
    architecture that has an audio-classification head (fine-tuning a pretrained encoder)."""
    transformers = import_transformers()
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_AUDIO_CLASSIFICATION_MAPPING_NAMES as AUDIO,
    )

    try:
        config = transformers.AutoConfig.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0]
        raise UserError(f"{key}={path}: transformers cannot read config.json ({first})") from None
    kind = getattr(config, "model_type", "?")
    archs = list(getattr(config, "architectures", None) or [])
    if kind not in AUDIO:
        raise UserError(
            f"{key}={path} holds a '{kind}' model ({', '.join(archs) or 'no architectures'}), "
            "not an audio classifier; amcli loads audio-classification models "
            f"({', '.join(sorted(AUDIO))})")
    if classifier and archs and AUDIO[kind] not in archs:
        raise UserError(
            f"{key}={path} holds a {', '.join(archs)}, not a {AUDIO[kind]} (it has no trained "
            "classification head); fine-tune one first: amcli train-classifier model=hf "
            f"hf.path={path}")
    return config


def _check_files(path: Path, key: str) -> None:
    """Safetensors weights and a feature extractor beside an audio config."""
    if not (path / WEIGHTS).is_file() and not (path / SHARDED).is_file():
        pickled = [name for name in PICKLED if (path / name).is_file()]
        if pickled:
            raise UserError(f"{key}={path} holds pickle-format weights ({pickled[0]}), which "
                            "amcli never loads (they can run code); convert them with "
                            "model.save_pretrained(DIR, safe_serialization=True)")
        raise UserError(f"{key}={path} has no {WEIGHTS}: the folder is incomplete; write it "
                        "with model.save_pretrained(DIR)")
    if not (path / "preprocessor_config.json").is_file():
        raise UserError(f"{key}={path} has no preprocessor_config.json (the feature extractor: "
                        "sample rate and normalization); save it beside the model with "
                        "feature_extractor.save_pretrained(DIR)")


def _feature_extractor(path: Path, key: str, sample_rate: int | None
                       ) -> tuple[Any, int, nn.Module, str]:
    """(the folder's feature extractor, its sample rate, its torch version and the model input
    that fills: amcli.models.hf_features.front_end, which refuses an extractor amcli cannot
    follow before any weights are read)."""
    transformers = import_transformers()
    try:
        extractor = transformers.AutoFeatureExtractor.from_pretrained(str(path),
                                                                      local_files_only=True)
    except (OSError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0]
        raise UserError(f"{key}={path}: cannot read preprocessor_config.json ({first})") from None
    front, input_name = front_end(extractor, f"{key}={path}")
    rate = getattr(extractor, "sampling_rate", None)
    if not isinstance(rate, int) or not 4000 <= rate <= 192000:
        raise UserError(f"{key}={path}: preprocessor_config.json gives sampling_rate={rate!r}; "
                        "set it to the rate the model was trained at (e.g. 16000)")
    if sample_rate is not None and sample_rate != rate:
        raise UserError(
            f"hf.sample_rate={sample_rate} but {path}'s feature extractor says the model takes "
            f"{rate} Hz; drop hf.sample_rate (amcli resamples every input to {rate} Hz) or fix "
            "sampling_rate in preprocessor_config.json")
    return extractor, rate, front, input_name


def _sidecar(path: Path, key: str) -> dict[str, Any]:
    """amcli's facts about a folder it wrote (empty for any other folder); the weights must be
    the ones it describes."""
    from amcli.files import sha256_of

    file = path / SIDECAR
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"cannot read {file}: {err}") from None
    recorded = meta.get("sha256")
    if recorded and (path / WEIGHTS).is_file() and sha256_of(path / WEIGHTS) != recorded:
        raise UserError(f"{key}={path}: {WEIGHTS} is not the file {SIDECAR} describes (sha256 "
                        "differs); the weights were replaced: delete amcli.json if that was "
                        "meant")
    return meta


def _no_checkpointing(model: nn.Module) -> None:
    """Gradient (activation) checkpointing off: recomputation is for training only, and a
    folder saved with it on would otherwise keep it during AM. transformers 5 renamed the
    switch; both spellings are tried."""
    for switch in ("activation_checkpointing_disable", "gradient_checkpointing_disable"):
        if callable(getattr(model, switch, None)):
            if getattr(model, "supports_gradient_checkpointing", False):
                getattr(model, switch)()
            return


def _wrap(model: nn.Module, extractor: Any, rate: int, front: nn.Module,
          input_name: str) -> Classifier:
    classes = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
    body = TransformersBody(model, front, input_name)
    wrapped = Classifier(body, classes, "raw", rate)
    wrapped.arch = "hf"
    # a sigmoid per label (AudioSet taggers), declared the transformers way
    wrapped.multi_label = getattr(model.config, "problem_type", None) == \
        "multi_label_classification"
    wrapped.hparams = {"model_type": model.config.model_type}
    wrapped.feature_extractor = extractor
    return wrapped


def load_hf_classifier(path: str | os.PathLike | None, device: str | torch.device = "cpu",
                       sample_rate: int | None = None, name: str | None = None,
                       key: str = "hf.path", labels: list[str] | None = None) -> Classifier:
    """A local transformers audio-classification folder as an amcli classifier, in eval mode;
    or a CLAP folder with text prompts ``labels`` as its classes (amcli.models.clap).

    ``key`` is the option the user gave the folder with (for the error messages); ``name``
    the name the run records (default: the folder's name).
    """
    if not path:
        raise UserError("classifier=hf needs hf.path=DIR: a local transformers "
                        "audio-classification folder (config.json, model.safetensors, "
                        "preprocessor_config.json)")
    folder = Path(path).expanduser()
    _check_folder(folder, key)
    transformers = import_transformers()
    clap = _is_clap(folder)
    if clap:
        _check_prompts(labels, key, folder)
    else:
        if labels:
            raise UserError(f"hf.labels gives text prompts, which only a CLAP folder takes; "
                            f"{key}={folder} is an audio classifier with its own classes: drop "
                            "hf.labels")
        _config(folder, key, classifier=True)
    _check_files(folder, key)
    extractor, rate, front, input_name = _feature_extractor(folder, key, sample_rate)
    meta = _sidecar(folder, key)
    loader = transformers.ClapModel if clap else transformers.AutoModelForAudioClassification
    model = _load_weights(loader, folder, key)
    _no_checkpointing(model)
    wrapped = _wrap_clap(model, extractor, rate, front, folder, key, labels) if clap else \
        _wrap(model, extractor, rate, front, input_name)
    from amcli.files import sha256_of

    sha = meta.get("sha256") or (sha256_of(folder / WEIGHTS) if (folder / WEIGHTS).is_file()
                                 else None)
    wrapped.checkpoint = {"name": name or folder.name, "path": str(folder), "sha256": sha,
                          "meta": meta}
    return wrapped.to(device).eval()


def _load_weights(loader: Any, folder: Path, key: str) -> nn.Module:
    """``loader.from_pretrained`` of the folder's safetensors weights, every weight present."""
    try:
        model, info = loader.from_pretrained(str(folder), local_files_only=True,
                                             use_safetensors=True, dtype=torch.float32,
                                             output_loading_info=True)
    except Exception as err:  # noqa: BLE001 - the folder's weights: truncated, damaged, foreign
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UserError(f"{key}={folder}: transformers cannot load the model ({first}); are its "
                        "weights complete? save the folder again with save_pretrained") from None
    missing = list(info.get("missing_keys") or []) + list(info.get("mismatched_keys") or [])
    if missing:
        raise UserError(f"{key}={folder}: {WEIGHTS} lacks {len(missing)} weights of the model "
                        f"(e.g. {missing[0]}), which would be random; the folder is incomplete "
                        "or was saved from another architecture")
    return model


def _is_clap(folder: Path) -> bool:
    try:
        return json.loads((folder / "config.json").read_text()).get("model_type") == "clap"
    except (OSError, json.JSONDecodeError, AttributeError):
        return False  # _config says what is wrong with it


def _check_prompts(labels: list[str] | None, key: str, folder: Path) -> None:
    if not labels:
        raise UserError(f"{key}={folder} is a CLAP model, a zero-shot classifier: give its "
                        "classes as text prompts, e.g. hf.labels='[\"an angry voice\",\"a calm "
                        "voice\"]'")
    repeated = sorted({p for p in labels if list(labels).count(p) > 1})
    if repeated:
        raise UserError(f"hf.labels names {repeated[0]!r} more than once; give each class its "
                        "own prompt")


def _wrap_clap(model: nn.Module, extractor: Any, rate: int, front: nn.Module, folder: Path,
               key: str, prompts: list[str]) -> Classifier:
    from amcli.models.clap import ClapZeroShotBody, prompt_embeddings

    transformers = import_transformers()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder),
                                                               local_files_only=True)
    except (OSError, ValueError, KeyError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UserError(f"{key}={folder}: cannot read the CLAP folder's tokenizer ({first}); "
                        "save it beside the model with processor.save_pretrained(DIR)") from None
    fused = bool(getattr(model.config.audio_config, "enable_fusion", False))
    if front.fusion != fused:
        raise UserError(
            f"{key}={folder}: its feature extractor's truncation is {extractor.truncation!r} but "
            f"the audio model {'is' if fused else 'is not'} a fusion model; set \"truncation\": "
            f"\"{'fusion' if fused else 'rand_trunc'}\" in preprocessor_config.json")
    body = ClapZeroShotBody(model.eval(), front, prompt_embeddings(model.eval(), tokenizer,
                                                                   prompts))
    wrapped = Classifier(body, [str(p) for p in prompts], "raw", rate)
    wrapped.arch = "hf"
    wrapped.hparams = {"model_type": "clap", "prompts": list(prompts)}
    wrapped.feature_extractor = extractor
    return wrapped

