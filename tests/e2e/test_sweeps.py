"""Sweeps: launcher presets, failure-tolerant multirun, summary.csv from disk, re-runs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


def sweep_args(tiny: Path, sweep: Path, *extra: str) -> list[str]:
    return ["optimize", "-m", f"classifier={tiny / 'cnn_raw.json'}", "steps=6", "min_steps=2",
            "record_every=3", "quiet=true", f"hydra.sweep.dir={sweep}", *extra]


def summary(sweep: Path) -> list[dict[str, str]]:
    with open(sweep / "summary.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("launcher", ["local", "parallel"])
def test_two_job_sweep_through_a_launcher_preset(cli, tmp_path, tiny, launcher):
    sweep = tmp_path / launcher
    result = cli(*sweep_args(tiny, sweep, f"hydra/launcher={launcher}", "target=angry,sad"))
    assert result.code == 0, result.err
    assert sorted(p.parent.name for p in sweep.glob("*/DONE")) == ["0", "1"]
    rows = summary(sweep)
    assert [r["status"] for r in rows] == ["done", "done"]
    assert ["target=angry" in r["overrides"] for r in rows] == [True, False]


def test_a_failing_point_does_not_stop_the_others_and_a_rerun_runs_only_it(cli, tmp_path,
                                                                             tiny):
    sweep = tmp_path / "sweep"
    args = sweep_args(tiny, sweep, "target=angry,furious,sad")
    result = cli(*args)
    assert result.code == 2
    assert "unknown target ['furious']" in result.err and "summary.csv" in result.err
    assert (sweep / "1" / "FAILED").exists()
    assert (sweep / "0" / "DONE").exists() and (sweep / "2" / "DONE").exists()
    rows = summary(sweep)
    assert [r["status"] for r in rows] == ["done", "failed", "done"]
    assert "unknown target" in rows[1]["error"] and rows[0]["items"] == "1"

    before = {p: p.stat().st_mtime_ns for p in sweep.glob("[02]/wav/*.wav")}
    again = cli(*args)
    assert again.code == 2
    assert {p: p.stat().st_mtime_ns for p in sweep.glob("[02]/wav/*.wav")} == before
    assert "already DONE" in (sweep / "0" / "optimize.log").read_text()
    assert [r["status"] for r in summary(sweep)] == ["done", "failed", "done"]


def test_schema_errors_abort_a_sweep_before_any_job(cli, tmp_path, tiny):
    sweep = tmp_path / "sweep"
    result = cli(*sweep_args(tiny, sweep, "target=angry,sad", "steps=many"))
    assert result.code == 2
    assert not sweep.exists() or not list(sweep.glob("*/metrics.json"))
