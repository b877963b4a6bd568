"""Where a bench's figures come from: every bench writes its result as a JSON file under
bench/results/ with the command, date, commit, machine and package versions beside the figures,
so a table in the docs can say which run produced it and be re-printed from the file."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from amcli.files import write_json

#: the committed home of bench results
RESULTS = Path(__file__).parent / "results"



def _started() -> float:
    """When this process started (time.time()), read from /proc on Linux; else now (a bench
    imports this module near its start)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time()


#: when the bench started
STARTED = _started()

#: the packages whose versions change the figures
PACKAGES = ("amcli", "torch", "torchaudio", "numpy", "pyworld", "transformers", "captum")


def commit() -> str | None:
    """The checked-out commit (with "+dirty" when code has uncommitted changes; bench results
    and the pictures benches write do not count). A copy of the tree without its git history
    (a GPU machine's, say) names its commit in AMCLI_BENCH_COMMIT, set by whoever copied a
    clean checkout of that commit."""
    if os.environ.get("AMCLI_BENCH_COMMIT"):
        return os.environ["AMCLI_BENCH_COMMIT"]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
        # what benches write (their results, the README's picture) is not code: a run of
        # several benches in one checkout must not call the later ones dirty
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":!bench/results", ":!docs/images"],
                               capture_output=True, text=True, check=True,
                               cwd=Path(__file__).parent.parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


#: the keys provenance() writes: where a result comes from, not what it found
PROVENANCE = ("command", "date", "commit", "cores", "device", "machine", "python", "versions",
              "wall_s")


def provenance(argv: list[str] | None, device: str = "cpu") -> dict[str, Any]:
    """The command that ran, when, at which commit, on what machine, with which packages, and
    how long it took (``wall_s``, from the bench's start to its result)."""
    script = Path(sys.argv[0]).name
    return {"command": shlex.join(["python", f"bench/{script}", *(sys.argv[1:] if argv is None
                                                                   else argv)]),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": commit(), "cores": os.cpu_count(), "device": device,
            "machine": platform.machine(), "python": platform.python_version(),
            "versions": versions(), "wall_s": round(time.time() - STARTED, 1)}


def write_result(name: str, figures: dict[str, Any], argv: list[str] | None,
                 device: str = "cpu", folder: Path = RESULTS) -> Path:
    """bench/results/<name>.json: provenance and figures. Returns the path."""
    return write_json(folder / f"{name}.json", {**provenance(argv, device), **figures})
