"""``amcli list``: the checkpoints in checkpoints/ (and any folder given) with their metadata:
classifiers with their test accuracy (transformers folders amcli trained among them), priors
with their Frechet distance and cgan accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
from omegaconf import DictConfig

from amcli.commands.common import to_schema
from amcli.config.report import ListConfig
from amcli.errors import UserError
from amcli.models.hf import SIDECAR, WEIGHTS
from amcli.resources import CONF_PATH, checkpoints_dir

COLUMNS = ("name", "kind", "arch", "repr", "classes", "test_acc", "macro_f1", "fd", "cgan_acc",
           "size")


def rows(folders: list[Path]) -> list[dict[str, str]]:
    found = []
    for folder in folders:
        # amcli checkpoints (<name>.json beside <name>.safetensors) and transformers folders
        # amcli trained (<name>/amcli.json beside <name>/model.safetensors)
        sidecars = sorted([*folder.glob("*.json"), *folder.glob(f"*/{SIDECAR}")])
        for sidecar in sidecars:
            try:
                meta = json.loads(sidecar.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if not isinstance(meta, dict) or "format_version" not in meta:
                continue
            hf = sidecar.name == SIDECAR
            weights = sidecar.parent / WEIGHTS if hf else sidecar.with_suffix(".safetensors")
            # what classifier= takes: the folder of a transformers model, else the sidecar
            given = sidecar.parent if hf else sidecar
            metrics = meta.get("metrics") or {}

            def fmt(key: str, metrics: dict = metrics) -> str:
                value = metrics.get(key)
                return f"{value:.3f}" if isinstance(value, int | float) else "-"

            found.append({
                "name": (given.name if hf else given.stem) if folder == checkpoints_dir()
                else str(given),
                "kind": str(meta.get("kind", "?")),
                "arch": str(meta.get("arch", "?")),
                "repr": str(meta.get("representation", "?")),
                "classes": ",".join(meta.get("classes", [])),
                "test_acc": fmt("test_accuracy"),
                "macro_f1": fmt("macro_f1"),
                "fd": fmt("fd_generated"),  # priors: Frechet distance to real clips (judge)
                "cgan_acc": fmt("judge_accuracy"),
                "size": f"{weights.stat().st_size / 1e6:.2f} MB" if weights.is_file() else "-",
            })
    return found


def table(found: list[dict[str, str]]) -> str:
    widths = {c: max(len(c), *(len(r[c]) for r in found)) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in COLUMNS) for r in found]
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="list")
def main(cfg: DictConfig) -> None:
    schema: ListConfig = to_schema(cfg)
    folders = [checkpoints_dir()]
    for d in schema.dirs:
        path = Path(d).expanduser()
        if not path.is_dir():
            raise UserError(f"dirs: {path} is not a folder")
        folders.append(path)
    found = rows(folders)
    if not found:
        print(f"no checkpoints in {', '.join(map(str, folders))}")
        return
    print(table(found))
