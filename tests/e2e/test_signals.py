"""A scheduler's signal takes the Ctrl-C path; sweep summaries survive jobs that end together."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


def wait_for(predicate, seconds: float, step: float = 0.2) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


def items_written(folder: Path) -> int:
    try:
        return len(json.loads((folder / "metrics.json").read_text()).get("items") or [])
    except (OSError, ValueError):
        return 0


def test_sigterm_leaves_interrupted_and_the_finished_items(tmp_path, tiny):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "amcli", "optimize", f"classifier={tiny / 'crnn_mel.json'}",
               "target=[angry,sad]", "restarts=3", "max_batch=1", "steps=400", "min_steps=400",
               "cues=false", "judge=null", "quiet=true", f"hydra.run.dir={run}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        assert wait_for(lambda: items_written(run) >= 1, 120), "no chunk finished"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "interrupted (SIGTERM)" in err and "Traceback" not in err
    assert (run / "INTERRUPTED").exists() and not (run / "DONE").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["interrupted_by"] == "SIGTERM"
    finished = [i for i in metrics["items"] if i["stop_reason"] != "interrupted"]
    assert len(finished) >= 1 and len(metrics["items"]) < 6
    assert all((run / i["output"]).is_file() for i in metrics["items"])
    assert (run / "report.html").is_file()


def test_a_run_writes_its_finished_chunks_as_it_goes(cli, tmp_path, tiny, monkeypatch):
    from amcli.report import run as run_module

    seen = []
    real = run_module.write_json

    def spy(path, data):
        seen.append((data["status"], len(data.get("items") or [])))
        real(path, data)

    monkeypatch.setattr(run_module, "write_json", spy)
    result = cli("optimize", f"classifier={tiny / 'crnn_mel.json'}", "target=angry",
                 "restarts=3", "max_batch=1", "steps=4", "min_steps=2", "cues=false",
                 "judge=null", "quiet=true")
    assert result.code == 0, result.err
    assert seen == [("running", 1), ("running", 2), ("running", 3), ("done", 3)]


def test_jobs_that_end_together_leave_a_complete_summary(tmp_path):
    from amcli.report.sweep import write_summary

    sweep = tmp_path / "sweep"
    jobs = 12
    for k in range(jobs):
        (sweep / str(k) / ".hydra").mkdir(parents=True)
        (sweep / str(k) / ".hydra" / "overrides.yaml").write_text(f"- target={k}\n")
    barrier = threading.Barrier(jobs)

    def finish(k: int) -> None:
        barrier.wait()
        (sweep / str(k) / "DONE").write_text("\n")
        write_summary(sweep)

    threads = [threading.Thread(target=finish, args=(k,)) for k in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = (sweep / "summary.csv").read_text().strip().splitlines()[1:]
    assert len(rows) == jobs and all(",done," in row for row in rows)
    assert (sweep / "index.html").read_text().count("class=\"done\"") == jobs


@pytest.fixture
def interrupted_sweep(tmp_path) -> Path:
    """A sweep folder whose one job a signal ended, as a scheduler job leaves it."""
    sweep = tmp_path / "sweep"
    job = sweep / "0"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("- target=angry\n")
    (job / "metrics.json").write_text(json.dumps({
        "kind": "optimize", "status": "interrupted", "interrupted_by": "SIGTERM",
        "items": [{"target": "angry", "target_prob": 0.9}]}))
    (job / "INTERRUPTED").write_text("\n")
    return sweep


def test_the_sweep_summary_says_which_signal_ended_a_job(interrupted_sweep):
    from amcli.report.sweep import unfinished, write_summary

    write_summary(interrupted_sweep)
    row = (interrupted_sweep / "summary.csv").read_text().splitlines()[1]
    assert ",interrupted,1," in row and row.endswith("interrupted by SIGTERM")
    assert [r["status"] for r in unfinished(interrupted_sweep)] == ["interrupted"]
