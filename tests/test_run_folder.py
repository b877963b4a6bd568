"""Run folders amcli owns: refused when foreign, busy or holding an earlier run; an overwrite
removes exactly what the earlier run wrote."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amcli import run_folder
from amcli.errors import UserError
from amcli.files import read_marker


@pytest.fixture(autouse=True)
def _released():
    yield
    run_folder.reset()


def fake_run(folder: Path, target: str, finished: bool = True) -> None:
    """What a run leaves: claimed, outputs written, the list of its files recorded."""
    run_folder.claim(folder, overwrite=True)
    (folder / "wav").mkdir(exist_ok=True)
    (folder / "wav" / f"{target}.wav").write_bytes(b"RIFF")
    (folder / "metrics.json").write_text("{}")
    if finished:
        (folder / "DONE").write_text("\n")
        run_folder.finish(folder)
    run_folder.release(folder)


def test_a_new_folder_is_claimed_and_marked(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "run"
    run_folder.claim(folder, overwrite=False)
    assert read_marker(folder)["kind"] == "run"
    assert read_marker(folder)["foreign"] == []
    assert (folder / run_folder.LOCK).read_text().strip().isdigit()


def test_a_folder_of_the_users_files_is_refused_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    (folder / "angry").mkdir(parents=True)
    (folder / "angry" / "take1.wav").write_bytes(b"mine")
    with pytest.raises(UserError, match="files amcli did not write.*angry/take1.wav"):
        run_folder.claim(folder, overwrite=True)
    assert run_folder.files_in(folder) == ["angry/take1.wav"]
    assert not (folder / run_folder.LOCK).exists()


def test_a_corpus_is_not_a_run_folder(tmp_path: Path) -> None:
    from amcli.files import write_marker

    folder = tmp_path / "corpus"
    folder.mkdir()
    write_marker(folder, "corpus")
    (folder / "metadata.csv").write_text("path,label\n")
    with pytest.raises(UserError, match="holds an amcli corpus"):
        run_folder.claim(folder, overwrite=True)


def test_an_earlier_run_is_refused_without_overwrite(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    fake_run(folder, "angry")
    before = run_folder.files_in(folder)
    with pytest.raises(UserError, match=r"holds an earlier run \(done\); add overwrite=true"):
        run_folder.claim(folder, overwrite=False)
    assert run_folder.files_in(folder) == before


def test_overwrite_removes_only_what_the_earlier_run_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    fake_run(folder, "angry")
    (folder / "my_notes.txt").write_text("the user's, written after the run")
    run_folder.claim(folder, overwrite=True)
    assert run_folder.files_in(folder) == [".amcli", "my_notes.txt"]
    assert not (folder / "wav").exists()  # emptied by the clearing, so removed
    assert read_marker(folder)["foreign"] == ["my_notes.txt"]


def test_overwrite_of_a_killed_run_keeps_what_was_there_before_it(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    fake_run(folder, "angry")
    (folder / "kept.txt").write_text("the user's")
    fake_run(folder, "sad", finished=False)  # killed: no list of its files
    assert "files" not in read_marker(folder)
    run_folder.claim(folder, overwrite=True)
    assert run_folder.files_in(folder) == [".amcli", "kept.txt"]


def test_a_folder_another_process_writes_is_refused_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    fake_run(folder, "angry")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import fcntl, os, sys
            fd = os.open({str(folder / run_folder.LOCK)!r}, os.O_RDWR)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.pwrite(fd, b"4242\\n", 0)
            print("locked", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = run_folder.files_in(folder)
        with pytest.raises(UserError, match="being written by another amcli run .pid 4242"):
            run_folder.claim(folder, overwrite=True)
        assert run_folder.files_in(folder) == before  # the overwrite did not start
    finally:
        holder.communicate("")
    run_folder.claim(folder, overwrite=True)  # the lock ended with its process


def test_a_sweep_rerun_is_welcome_another_sweep_is_refused(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    run_folder.check_sweep(sweep, ["target=angry,sad"], overwrite=False)
    (sweep / "0").mkdir()
    (sweep / "0" / "DONE").write_text("\n")
    run_folder.check_sweep(sweep, ["target=angry,sad", "overwrite=false"], overwrite=False)
    assert (sweep / "0" / "DONE").exists()
    with pytest.raises(UserError, match="holds another sweep .target=angry,sad.; run that"):
        run_folder.check_sweep(sweep, ["target=happy"], overwrite=False)
    run_folder.check_sweep(sweep, ["target=happy"], overwrite=True)
    assert run_folder.files_in(sweep) == [".amcli"]
    assert read_marker(sweep)["overrides"] == ["target=happy"]


def test_a_foreign_folder_is_no_sweep_folder(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("mine")
    with pytest.raises(UserError, match="choose a new or empty sweep folder"):
        run_folder.check_sweep(tmp_path, [], overwrite=True)
    assert run_folder.files_in(tmp_path) == ["x.txt"]


def test_a_job_that_ends_before_its_record_gets_a_marker(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    run_folder.started(folder)
    run_folder.mark_ended("interrupted", "interrupted by SIGTERM while starting")
    assert (folder / "INTERRUPTED").read_text() == "interrupted by SIGTERM while starting\n"
    run_folder.mark_ended("failed", "later")  # one marker only
    assert not (folder / "FAILED").exists()


def test_a_failed_sweep_job_exits_by_what_its_record_says(tmp_path: Path, capsys) -> None:
    import json

    from amcli.cli.outcome import failed_job as _failed_job

    sweep = tmp_path / "sweep"
    run_folder.check_sweep(sweep, ["target=angry,sad"], overwrite=False)
    for job, kind in (("0", "usage"), ("1", None)):
        (sweep / job / ".hydra").mkdir(parents=True)
        (sweep / job / "FAILED").write_text("\n")
        if kind:
            (sweep / job / "metrics.json").write_text(json.dumps({"error_kind": kind}))
    text = "Traceback (most recent call last):\n  ...\nValueError: in the job"
    assert _failed_job("optimize", text) == 1  # job 1 left no record: counted a bug
    (sweep / "1" / "metrics.json").write_text(json.dumps({"error_kind": "usage"}))
    assert _failed_job("optimize", text) == 2
    err = capsys.readouterr().err
    assert "a sweep job failed: ValueError: in the job" in err


def test_a_sweep_with_unfinished_jobs_ends_with_one_line_and_exit_1(tmp_path: Path,
                                                                    capsys) -> None:
    """The dispatcher's closing line names the jobs of the sweep this invocation launched
    that did not end DONE; the next invocation starts with no sweep of its own."""
    from amcli.cli.outcome import sweep_outcome

    sweep = tmp_path / "sweep"
    run_folder.reset()
    run_folder.check_sweep(sweep, ["target=angry,sad,happy"], overwrite=False)
    for job, marker in (("0", "DONE"), ("1", "INTERRUPTED"), ("2", None)):
        (sweep / job / ".hydra").mkdir(parents=True)
        if marker:
            (sweep / job / marker).write_text("\n")
    assert sweep_outcome("optimize") == 1
    err = capsys.readouterr().err
    assert "2 sweep job(s) did not finish: 1 interrupted, 2 running" in err
    assert str(sweep / "summary.csv") in err
    for job in ("1", "2"):
        (sweep / job / "INTERRUPTED").unlink(missing_ok=True)
        (sweep / job / "DONE").write_text("\n")
    assert sweep_outcome("optimize") == 0
    (sweep / "1" / "DONE").unlink()
    run_folder.reset()  # a new invocation: the earlier sweep is not its outcome
    assert sweep_outcome("optimize") == 0
