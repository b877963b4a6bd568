"""What the shipped checkpoints are and how well they did when they were trained, from their
sidecars: the demo classifiers and the judge, the ground-truth models, the demo priors.

Nothing is measured here: `amcli train-classifier` and `amcli train-prior` measured each model
on its held-out voices when they wrote it, into its sidecar (`metrics`), beside the command that
trained it (`training.command`) and the split. This script collects those figures into one result
file so that the docs render their tables from it, and counts parameters (of each model as amcli
loads it) and weight file sizes. Re-run it after re-training (bench/train_demo.sh, train_gt.sh,
train_gt_where.sh, train_gt_together.sh, train_gt_w2v2.sh, train_priors.sh).

    python bench/checkpoints.py
    python bench/checkpoints.py --smoke     # the same (it takes a second)

Writes bench/results/checkpoints.json (or --name) and prints the three tables.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.models.checkpoint import load_classifier, load_generator
from amcli.resources import checkpoints_dir

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = ("checkpoints",)

#: the demo classifiers, in the order the docs list them
DEMO = ("cnn_mel", "crnn_mel", "cnn_raw", "crnn_raw", "w2v2_tiny", "judge")
#: the ground-truth models and the one cue family each was trained to use
GROUND_TRUTH = {"gt_pitch": "pitch", "gt_loudness": "loudness", "gt_tempo": "tempo",
                "gt_voice": "voice", "gt_loudness_where": "loudness, in one stretch",
                "gt_pitch_where": "pitch, in one stretch",
                "gt_pitch_loudness": "pitch and loudness, together",
                "gt_pitch_w2v2": "pitch", "gt_tempo_w2v2": "tempo", "gt_voice_w2v2": "voice"}
PRIORS = ("gan_mel", "cgan_mel", "gan_raw", "cgan_raw")


def _weights(name: str, root: Path) -> Path:
    """A checkpoint's weight file (a single file, or a transformers folder's)."""
    folder = root / name
    return folder / "model.safetensors" if folder.is_dir() else root / f"{name}.safetensors"


def record(name: str, root: Path) -> dict:
    """The figures of one checkpoint, as amcli loads it (its sidecar checked against its
    weights) and as its weight file measures; parameters are the trainable ones (the weight
    file also holds buffers, such as batch-norm statistics)."""
    probe = json.loads(((root / name / "amcli.json") if (root / name).is_dir()
                        else root / f"{name}.json").read_text())
    model = load_generator(name) if probe["kind"] == "generator" else load_classifier(name)
    sidecar = model.checkpoint["meta"]
    training = sidecar.get("training", {})
    split = training.get("split", {})
    return {"name": name, "kind": sidecar["kind"], "arch": sidecar["arch"],
            "hparams": sidecar.get("hparams", {}), "classes": sidecar["classes"],
            "representation": sidecar["representation"],
            "parameters": sum(p.numel() for p in model.parameters()),
            "weights_mb": _weights(name, root).stat().st_size / 1e6,
            "dtype": sidecar.get("dtype", "float32"), "conditional": sidecar.get("conditional"),
            "metrics": sidecar.get("metrics", {}), "seed": training.get("seed"),
            "command": training.get("command"),
            "groups": {part: split.get(part, {}).get("groups") for part in
                       ("train", "val", "test")},
            "clips": {part: split.get(part, {}).get("clips") for part in
                      ("train", "val", "test")},
            "sha256": sidecar.get("sha256")}


def collect(root: Path, names: tuple[str, ...]) -> list[dict]:
    return [record(name, root) for name in names]


def _architecture(row: dict) -> str:
    hp = row["hparams"]
    if row["arch"] == "hf":
        return f"{hp.get('model_type', 'transformers')} ({row['parameters'] / 1e6:.2f} M params)"
    if row["kind"] == "generator":
        kind = "conditional " if row["conditional"] else ""
        return f"{kind}{row['arch']}, width {hp.get('width')} ({row['parameters'] / 1e6:.2f} M)"
    shape = f"GRU {hp['rnn_hidden']}" if hp.get("rnn_hidden") else \
        f"width {hp.get('width')}, depth {hp.get('depth')}"
    return f"{row['arch']} ({shape}, dropout {hp.get('dropout')})"


def _groups(row: dict, part: str) -> str:
    return " ".join(row["groups"].get(part) or []) or "-"


def demo_table(result: dict) -> list[str]:
    lines = ["| checkpoint | architecture | input | parameters | weights | test accuracy | "
             "macro-F1 | validation accuracy | trained on | test voices | seed |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in result["demo"]:
        m = row["metrics"]
        lines.append(
            f"| `{row['name']}` | {_architecture(row)} | "
            f"{'log-mel' if row['representation'] == 'mel' else 'waveform'} | "
            f"{row['parameters'] / 1e6:.2f} M | {row['weights_mb']:.2f} MB | "
            f"{m['test_accuracy']:.3f} | {m['macro_f1']:.3f} | {m['val_accuracy']:.3f} | "
            f"{_groups(row, 'train')} | {_groups(row, 'test')} ({m.get('test_clips')} clips) | "
            f"{row['seed']} |")
    return lines


def ground_truth_table(result: dict) -> list[str]:
    lines = ["| checkpoint | family | architecture | classes | weights | test accuracy | "
             "macro-F1 | validation accuracy | test clips |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in result["ground_truth"]:
        m = row["metrics"]
        lines.append(f"| `{row['name']}` | {row['family']} | {_architecture(row)} | "
                     f"{', '.join(row['classes'])} | "
                     f"{row['weights_mb']:.2f} MB | {m['test_accuracy']:.3f} | "
                     f"{m['macro_f1']:.3f} | {m['val_accuracy']:.3f} | {m.get('test_clips')} |")
    return lines


def priors_table(result: dict) -> list[str]:
    lines = ["| prior | generator | iterations | weights | FD generated | FD noise | "
             "FD real held-out | cgan: judge accuracy (per condition) |",
             "|---|---|---|---|---|---|---|---|"]
    for row in result["priors"]:
        m = row["metrics"]
        per = m.get("judge_accuracy_per_condition")
        judge = "-" if not per else f"{m['judge_accuracy']:.2f} (" + ", ".join(
            f"{c} {v:.2f}" for c, v in per.items()) + ")"
        lines.append(f"| `{row['name']}` | {_architecture(row)} | {m['iterations']} | "
                     f"{row['weights_mb']:.2f} MB ({row['dtype']}) | {m['fd_generated']:.1f} | "
                     f"{m['fd_noise']:.1f} | {m['fd_heldout_real']:.1f} | {judge} |")
    return lines


def table(result: dict) -> list[str]:
    return [*demo_table(result), "", *ground_truth_table(result), "", *priors_table(result)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Collect the shipped checkpoints' training "
                                                 "figures from their sidecars.")
    parser.add_argument("--smoke", action="store_true",
                        help="the same collection (it takes a second); for the test suite")
    parser.add_argument("--name", default="checkpoints", help="result file name")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result file")
    args = parser.parse_args(argv)
    root = checkpoints_dir()
    ground_truth = collect(root, tuple(GROUND_TRUTH))
    for row in ground_truth:
        row["family"] = GROUND_TRUTH[row["name"]]
    result = {"demo": collect(root, DEMO), "ground_truth": ground_truth,
              "priors": collect(root, PRIORS), "smoke": args.smoke}
    out = write_result(args.name, result, argv, folder=args.out)
    print("\n".join(["", *table(result), "", f"written: {out}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
