"""Accuracy, macro-F1 and the confusion matrix of a classifier on a dataset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from amcli.models.base import class_probabilities, is_multi_label


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def classification_report(
    y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str]
) -> dict[str, object]:
    """accuracy, macro_f1 (mean of per-class F1, a class absent from both scoring 0),
    per-class precision/recall/F1, the confusion matrix and n."""
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    tp = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = actual > 0
    n = int(matrix.sum())
    return {
        "accuracy": float(tp.sum() / n) if n else float("nan"),
        "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
        "per_class": {c: {"precision": float(p), "recall": float(r), "f1": float(f), "n": int(a)}
                      for c, p, r, f, a in zip(classes, precision, recall, f1, actual,
                                               strict=True)},
        "confusion": matrix.tolist(),
        "classes": list(classes),
        "n": n,
    }


@torch.no_grad()
def predict(model: torch.nn.Module, loader, device: torch.device | str = "cpu"
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true targets, predicted classes, probabilities) over a DataLoader of (wave, target)."""
    model.eval()
    truths, preds, probs = [], [], []
    for wave, target in loader:
        logits = model(wave.to(device))
        p = class_probabilities(logits.float(), is_multi_label(model)).cpu()
        truths.append(target.cpu())
        preds.append(p.argmax(dim=-1))
        probs.append(p)
    return (torch.cat(truths).numpy(), torch.cat(preds).numpy(), torch.cat(probs).numpy())


def format_report(report: dict[str, object]) -> str:
    """A plain-text table: headline numbers, per-class recall and the confusion matrix."""
    classes = report["classes"]
    width = max(8, *(len(c) for c in classes))
    lines = [f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   "
             f"n {report['n']}", "", "confusion (rows: true, columns: predicted)",
             " " * (width + 1) + " ".join(c[:width].rjust(width) for c in classes)
             + "  recall"]
    for c, row in zip(classes, report["confusion"], strict=True):
        recall = report["per_class"][c]["recall"]
        lines.append(c.ljust(width) + " " + " ".join(str(v).rjust(width) for v in row)
                     + f"  {recall:.3f}")
    return "\n".join(lines)
