"""Run folders through the CLI: a rerun, a folder of the user's files, two runs at once, sweeps
into one folder, and the exit codes a script reads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from amcli.files import MARKER


def quick(tiny: Path, target: str, folder: Path, *extra: str) -> tuple[str, ...]:
    return ("optimize", f"classifier={tiny / 'crnn_mel.json'}", "method=mask",
            f"target={target}", "steps=2", "cues=false", "judge=null", "quiet=true",
            f"hydra.run.dir={folder}", *extra)


def one_line(result, code: int = 2) -> str:
    assert result.code == code, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "Traceback" not in result.err
    return result.err


def snapshot(folder: Path) -> dict[str, float]:
    """Every file's modification time; the lock aside (taking it writes the taker's pid)."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns
            for p in folder.rglob("*") if p.is_file() and p.name != ".amcli.lock"}


def test_a_rerun_is_refused_and_overwrite_replaces_only_the_runs_files(cli, tmp_path, tiny):
    run = tmp_path / "r"
    assert cli(*quick(tiny, "angry", run)).code == 0
    (run / "notes.md").write_text("my notes on this run")
    before = snapshot(run)

    err = one_line(cli(*quick(tiny, "sad", run)))
    assert f"{run} holds an earlier run (done); add overwrite=true" in err
    assert snapshot(run) == before  # not a byte written, .hydra/ included

    assert cli(*quick(tiny, "sad", run, "overwrite=true")).code == 0
    assert sorted(p.name for p in (run / "wav").iterdir()) == ["input.wav", "sad_r0.wav"]
    assert not list((run / "plots").glob("angry*"))
    assert (run / "notes.md").read_text() == "my notes on this run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert [i["target"] for i in metrics["items"]] == ["sad"]
    assert "target=sad" in yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text())


def test_a_folder_of_the_users_recordings_is_refused_untouched(cli, tmp_path, tiny):
    mine = tmp_path / "recordings"
    (mine / "angry").mkdir(parents=True)
    (mine / "angry" / "take1.wav").write_bytes(b"RIFF....")
    (mine / "README").write_text("my corpus")
    before = snapshot(mine)
    err = one_line(cli(*quick(tiny, "angry", mine, "overwrite=true")))
    assert "holds files amcli did not write" in err and "hydra.run.dir=DIR" in err
    assert snapshot(mine) == before and not (mine / ".hydra").exists()


def test_of_two_runs_into_one_folder_the_second_refuses_at_once(cli, tmp_path, tiny):
    run = tmp_path / "busy"
    first = subprocess.Popen(
        [sys.executable, "-m", "amcli", "optimize", f"classifier={tiny / 'crnn_mel.json'}",
         "method=mask", "target=angry", "steps=100000", "min_steps=100000", "cues=false",
         "judge=null", "quiet=true", f"hydra.run.dir={run}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        lock = run / ".amcli.lock"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
                lock.is_file() and lock.read_text().strip() == str(first.pid)
                and (run / ".hydra" / "overrides.yaml").is_file()):
            time.sleep(0.2)
        started = time.monotonic()
        err = one_line(cli(*quick(tiny, "sad", run, "overwrite=true")))
        assert time.monotonic() - started < 60  # at once: it does not wait for the first
        assert f"being written by another amcli run (pid {first.pid})" in err
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 128 + signal.SIGTERM
    assert (run / "INTERRUPTED").exists()
    assert "target=sad" not in (run / ".hydra" / "overrides.yaml").read_text()
    metrics = json.loads((run / "metrics.json").read_text())
    assert "target=angry" in metrics["run"]["overrides"]


def test_a_sweep_rerun_redoes_what_is_missing_another_sweep_is_refused(cli, tmp_path, tiny):
    sweep = tmp_path / "sweep"
    args = ("optimize", "-m", f"classifier={tiny / 'crnn_mel.json'}", "method=mask",
            "steps=2", "cues=false", "judge=null", "quiet=true")
    assert cli(*args, "target=angry,sad").code == 0
    (sweep / "1" / "DONE").unlink()  # as if the second job had been killed
    done_first = (sweep / "0" / "DONE").stat().st_mtime_ns

    assert cli(*args, "target=angry,sad").code == 0
    assert (sweep / "0" / "DONE").stat().st_mtime_ns == done_first  # skipped
    assert (sweep / "1" / "DONE").exists()  # redone

    before = snapshot(sweep)
    err = cli(*args, "target=happy").err
    assert "holds another sweep" in err and "overwrite=true" in err
    assert snapshot(sweep) == before

    assert cli(*args, "target=happy", "overwrite=true").code == 0
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0"]
    assert "target=happy" in (sweep / "0" / ".hydra" / "overrides.yaml").read_text()
    assert (sweep / MARKER).is_file()


def test_exit_codes_a_script_can_trust(cli, tmp_path, tiny, monkeypatch):
    import amcli.commands.optimize as optimize
    from amcli.report.run import SignalInterrupt

    err = one_line(cli(*quick(tiny, "angry", tmp_path / "a", "stepz=3")))  # Hydra's own
    assert "config error" in err and "stepz" in err
    assert "steps=-1" in one_line(cli(*quick(tiny, "angry", tmp_path / "b", "steps=-1")))

    def crash(*_args, **_kwargs):
        raise RuntimeError("injected crash")

    monkeypatch.setattr(optimize, "resolve_device", crash)
    err = one_line(cli(*quick(tiny, "angry", tmp_path / "c")), code=1)
    log = tmp_path / "c" / "optimize.log"
    assert "internal error: RuntimeError: injected crash" in err and str(log) in err
    assert "Traceback" in log.read_text() and "injected crash" in log.read_text()
    assert (tmp_path / "c" / "FAILED").exists() and not (tmp_path / "c" / "DONE").exists()

    monkeypatch.setattr(optimize, "done_before", crash)  # before the run's record began
    err = one_line(cli(*quick(tiny, "angry", tmp_path / "e")), code=1)
    assert "internal error: RuntimeError: injected crash" in err
    assert "injected crash" in (tmp_path / "e" / "optimize.log").read_text()
    assert (tmp_path / "e" / "FAILED").read_text().startswith("RuntimeError: injected crash")

    def terminated(*_args, **_kwargs):
        raise SignalInterrupt("SIGTERM")

    monkeypatch.setattr(optimize, "done_before", terminated)  # while the run is starting
    result = cli(*quick(tiny, "angry", tmp_path / "d"))
    assert result.code == 128 + signal.SIGTERM
    assert (tmp_path / "d" / "INTERRUPTED").read_text().startswith("interrupted by SIGTERM")
