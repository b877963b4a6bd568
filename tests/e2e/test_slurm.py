"""Sweeps through a real SLURM cluster (hydra/launcher=slurm, submitit).

.ci/run starts a one-node cluster on the test machine with scripts/local_slurm.sh; elsewhere
these tests skip unless a SLURM controller answers with an idle node.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _slurm_ready() -> str | None:
    """None when SLURM can run jobs here, else why not."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "SLURM is not installed (sudo bash scripts/local_slurm.sh start sets one up)"
    try:
        states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                                timeout=20).stdout.split()
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"sinfo failed: {err}"
    if not any(s in ("idle", "mixed") for s in states):
        return f"no idle SLURM node (sinfo says {states or 'nothing'})"
    return None


pytestmark = pytest.mark.skipif(_slurm_ready() is not None, reason=str(_slurm_ready()))

LAUNCHER = ["hydra/launcher=slurm", "hydra.launcher.gpus_per_node=0",
            "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1"]


def args(tiny: Path, sweep: Path, *extra: str) -> list[str]:
    """The sweep's command line; an ``extra`` launcher setting replaces the default one."""
    keys = {a.split("=")[0] for a in extra}
    launcher = [a for a in LAUNCHER if a.split("=")[0] not in keys]
    return ["optimize", "-m", *launcher, f"classifier={tiny / 'crnn_mel.json'}", "quiet=true",
            "cues=false", f"hydra.sweep.dir={sweep}", *extra]


def test_a_sweep_runs_through_sbatch_and_is_summarized(cli, tmp_path, tiny):
    sweep = tmp_path / "sweep"
    result = cli(*args(tiny, sweep, "target=angry,sad", "steps=4", "min_steps=2"))
    assert result.code == 0, result.err
    rows = (sweep / "summary.csv").read_text().strip().splitlines()[1:]
    assert len(rows) == 2 and all(",done," in row for row in rows)
    index = (sweep / "index.html").read_text()
    assert index.count("class=\"done\"") == 2 and "target=sad" in index
    logs = list((sweep / ".submitit").rglob("*_log.out"))
    assert logs, "the jobs ran through submitit (sbatch), not in this process"


def test_a_job_that_slurm_signals_ends_interrupted_with_its_finished_items(tmp_path, tiny):
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "amcli",
               *args(tiny, sweep, "target=angry", "restarts=3", "max_batch=1", "steps=400",
                     "min_steps=400", "judge=null")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    metrics = sweep / "0" / "metrics.json"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if metrics.is_file() and json.loads(metrics.read_text()).get("items"):
                break
            time.sleep(0.5)
        else:
            pytest.fail("the job wrote no finished chunk")
        jobs = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True,
                              text=True).stdout.split("\n")
        job_id = next(line.split()[0] for line in jobs if line.endswith("optimize"))
        subprocess.run(["scancel", "--signal=TERM", job_id], check=True)
        _, err = process.communicate(timeout=180)
    finally:
        process.kill()
    record = json.loads(metrics.read_text())
    assert record["status"] == "interrupted" and record["interrupted_by"] == "SIGTERM"
    assert any(i["stop_reason"] != "interrupted" for i in record["items"])
    assert (sweep / "0" / "INTERRUPTED").exists()
    row = (sweep / "summary.csv").read_text().splitlines()[1]
    assert ",interrupted," in row and "interrupted by SIGTERM" in row
    assert process.returncode == 1 and "did not finish: 0 interrupted" in err, err


@pytest.mark.parametrize(("setting", "reason"), [
    ("hydra.launcher.partition=no_such_partition", "invalid partition"),
    ("hydra.launcher.gpus_per_node=1", "gres"),
    ("hydra.launcher.mem_gb=100000", "Memory specification can not be satisfied"),
])
def test_a_refused_submission_is_one_line_with_sbatchs_reason(cli, tmp_path, tiny, setting,
                                                             reason):
    result = cli(*args(tiny, tmp_path / "sweep", "target=angry", "steps=2", setting))
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "the scheduler refused the job: sbatch: error" in lines[0]
    assert reason.lower() in lines[0].lower() and "Traceback" not in result.err


def test_environment_points_at_the_same_python(tmp_path):
    """submitit runs jobs with this interpreter: the cluster must see the same amcli."""
    out = subprocess.run(["srun", "-n1", sys.executable, "-c", "import amcli; print('ok')"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ})
    assert out.stdout.strip() == "ok", out.stderr
