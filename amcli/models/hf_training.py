"""Training transformers classifiers with amcli (``train-classifier model=hf``): a pretrained
encoder given a new head for the corpus' classes (:func:`build_hf_for_training`), the trained
model saved in transformers' own format plus amcli's sidecar (:func:`save_hf_classifier`), and
randomly initialized models of any supported architecture (:func:`init_hf_folder`: a transformer
trained from scratch, and the tiny models of the tests). Loading a folder is
:mod:`amcli.models.hf`'s job.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from amcli import __version__
from amcli.errors import UserError
from amcli.models.base import Classifier
from amcli.models.hf import (
    SIDECAR,
    WEIGHTS,
    TransformersBody,
    _check_files,
    _check_folder,
    _config,
    _feature_extractor,
    _is_clap,
    _wrap,
    import_transformers,
)


def build_hf_for_training(path: str | os.PathLike | None, classes: list[str],
                          freeze_feature_encoder: bool = True,
                          sample_rate: int | None = None) -> Classifier:
    """A pretrained transformers encoder (any audio architecture with a classification head:
    a wav2vec2-base from disk, or an audio classifier with other classes) with a new head for
    ``classes``, ready to fine-tune. The convolutional feature encoder is frozen by default,
    the usual recipe (it learned its filters on far more audio than any emotion corpus)."""
    if not path:
        raise UserError("model=hf needs hf.path=DIR: a local transformers folder to fine-tune "
                        "(e.g. a wav2vec2-base saved with save_pretrained)")
    folder = Path(path).expanduser()
    _check_folder(folder, "hf.path")
    transformers = import_transformers("model=hf")
    if _is_clap(folder):
        raise UserError(f"hf.path={folder} is a CLAP model; amcli explains it zero-shot "
                        "(classifier=hf hf.labels=[...]) but does not fine-tune it")
    _config(folder, "hf.path", classifier=False)
    _check_files(folder, "hf.path")
    extractor, rate, front, input_name = _feature_extractor(folder, "hf.path", sample_rate)
    labels = {i: name for i, name in enumerate(classes)}
    try:
        model = transformers.AutoModelForAudioClassification.from_pretrained(
            str(folder), local_files_only=True, use_safetensors=True, dtype=torch.float32,
            num_labels=len(classes), id2label=labels,
            label2id={name: i for i, name in labels.items()}, ignore_mismatched_sizes=True)
    except Exception as err:  # noqa: BLE001 - the folder's weights: truncated, damaged, foreign
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UserError(f"hf.path={folder}: transformers cannot load the model ({first})") \
            from None
    if freeze_feature_encoder and callable(getattr(model, "freeze_feature_encoder", None)):
        model.freeze_feature_encoder()  # the convolutional encoder of waveform models
    wrapped = _wrap(model, extractor, rate, front, input_name)
    wrapped.checkpoint = {"name": folder.name, "path": str(folder), "sha256": None, "meta": {}}
    return wrapped


def save_hf_classifier(model: Classifier, folder: str | os.PathLike, clip_seconds: float,
                       training: dict[str, Any] | None = None,
                       metrics: dict[str, Any] | None = None) -> Path:
    """Write ``folder`` in transformers' own format (``save_pretrained`` of the model and its
    feature extractor) plus ``amcli.json``; the folder appears complete or not at all."""
    from amcli.files import sha256_of, write_json
    from amcli.models.base import FORMAT_VERSION

    folder = Path(folder)
    if not isinstance(model.body, TransformersBody):
        raise TypeError("save_hf_classifier needs a classifier loaded or built by amcli.models.hf")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        model.body.model.save_pretrained(str(staging), safe_serialization=True)
        model.feature_extractor.save_pretrained(str(staging))
        sidecar = {"format_version": FORMAT_VERSION, "kind": "classifier", "arch": "hf",
                   "hparams": model.hparams, "classes": model.classes,
                   "representation": "raw", "sample_rate": model.sample_rate,
                   "clip_seconds": clip_seconds, "features": None,
                   "training": training or {}, "metrics": metrics or {},
                   "amcli_version": __version__, "sha256": sha256_of(staging / WEIGHTS)}
        write_json(staging / SIDECAR, sidecar)
        _usual_permissions(staging)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _usual_permissions(folder: Path) -> None:
    """mkdtemp makes the staging folder private (0700) and safetensors may write 0600 files;
    the finished folder gets the modes of any folder the user makes (0777/0666 less umask)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~umask)


def init_hf_folder(folder: str | os.PathLike, model_type: str, classes: list[str],
                   sample_rate: int = 16000, seed: int = 0, **sizes: Any) -> Path:
    """Write a randomly initialized audio classifier of ``model_type`` (wav2vec2, hubert,
    wavlm, data2vec-audio, audio-spectrogram-transformer, whisper) with its feature extractor
    to ``folder``: the start of a transformer trained from scratch (``train-classifier
    model=hf hf.path=folder hf.freeze_feature_encoder=false``) and the tiny models of the
    tests. ``sizes`` are config fields (hidden_size, num_hidden_layers, conv_dim, ...)."""
    transformers = import_transformers("init_hf_folder")
    labels = {i: name for i, name in enumerate(classes)}
    config = transformers.AutoConfig.for_model(
        model_type, num_labels=len(classes), id2label=labels,
        label2id={name: i for i, name in labels.items()}, **sizes)
    torch.manual_seed(seed)
    model = transformers.AutoModelForAudioClassification.from_config(config)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    _extractor_for(config, sample_rate).save_pretrained(str(folder))
    return folder


def _extractor_for(config: Any, sample_rate: int) -> Any:
    """The feature extractor a freshly built model of ``config`` takes: sized to its input
    (AST: its frames and mel bins; Whisper: the clip its positions hold), else a waveform
    extractor that normalizes each clip."""
    transformers = import_transformers("init_hf_folder")
    if config.model_type == "audio-spectrogram-transformer":
        return transformers.ASTFeatureExtractor(sampling_rate=sample_rate,
                                                num_mel_bins=config.num_mel_bins,
                                                max_length=config.max_length)
    if config.model_type == "whisper":
        hop = sample_rate // 100  # 10 ms frames, two per encoder position
        seconds = config.max_source_positions * 2 * hop // sample_rate
        return transformers.WhisperFeatureExtractor(feature_size=config.num_mel_bins,
                                                    sampling_rate=sample_rate,
                                                    hop_length=hop, chunk_length=seconds)
    return transformers.Wav2Vec2FeatureExtractor(sampling_rate=sample_rate, do_normalize=True)

