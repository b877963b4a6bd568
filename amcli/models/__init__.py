"""Classifiers (CNN/CRNN on raw audio or log-mel), their registry and checkpoint I/O.

Importable without Hydra, librosa or soundfile (the GPU machines have none of them).
"""

from amcli.models.base import Classifier, EvalSafeGRU
from amcli.models.checkpoint import (
    load_classifier,
    read_sidecar,
    resolve_checkpoint,
    save_classifier,
)
from amcli.models.custom import load_custom_classifier
from amcli.models.registry import ARCHITECTURES, build_classifier

__all__ = [
    "ARCHITECTURES", "Classifier", "EvalSafeGRU", "build_classifier", "load_classifier",
    "load_custom_classifier", "read_sidecar", "resolve_checkpoint", "save_classifier",
]
