"""How a command's end becomes an exit code and one line: a bug (exit 1, the traceback in the
run's log), a config error, a sweep with unfinished jobs, a scheduler's refusal."""

from __future__ import annotations

import sys
import traceback

from amcli.invocation import PROG


def report_bug(name: str, err: BaseException) -> int:
    """An unexpected failure: its traceback goes into the run's log (printed here when there is
    no run folder), and one line says where; exit 1."""
    from amcli import run_folder

    log = getattr(err, "amcli_log", None)
    if log is None:  # it happened before the run's record began
        run_folder.mark_ended("failed", f"{type(err).__name__}: {err}")
        log = run_folder.append_to_log("".join(traceback.format_exception(err)))
    if log is None:
        traceback.print_exception(err)
        return 1
    print(f"{PROG} {name}: internal error: {type(err).__name__}: {err}; this is a bug in "
          f"{PROG}, not in your input: the traceback is in {log} (please report it with that "
          "file)", file=sys.stderr)
    return 1


def config_error_line(err: BaseException) -> str:
    """Hydra's and OmegaConf's multi-line config errors in one line: what went wrong, and the
    key (the cause's ``full_key``) it went wrong at."""
    parts: list[str] = []
    key = None
    for e in (err, err.__cause__):
        if e is None:
            continue
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        for ln in lines:
            if ln.startswith("full_key:"):
                key = key or ln.split(":", 1)[1].strip()
            elif not ln.startswith(("object_type", "reference_type", "value:",
                                    "To append to your config")) and ln not in parts:
                parts.append(ln)
    text = " ".join(parts) or type(err).__name__
    return text + (f" (key {key})" if key and key not in text else "")


def sweep_outcome(name: str) -> int:
    """After a sweep: 0 when every job ended DONE, else one line naming the others and 1. The
    sweep is the one this invocation launched (:func:`amcli.run_folder.current_sweep`, reset
    at the start of every command)."""
    from amcli import run_folder
    from amcli.report.sweep import unfinished

    sweep = run_folder.current_sweep()
    if sweep is None:
        return 0
    rows = unfinished(sweep)
    if not rows:
        return 0
    jobs = ", ".join(f"{r['job']} {r['status']}" + (f" ({r['error']})" if r["error"] else "")
                     for r in rows)
    print(f"{PROG} {name}: {len(rows)} sweep job(s) did not finish: {jobs}; run the same "
          f"command again to redo only those (see {sweep / 'summary.csv'})",
          file=sys.stderr)
    return 1


def is_failed_job(err: Exception) -> bool:
    try:
        from submitit.core.utils import FailedJobError
    except ImportError:  # the launcher is not installed: no job of it can fail
        return False
    return isinstance(err, FailedJobError)


def failed_job(name: str, text: str) -> int:
    """submitit's FailedJobError in one line: sbatch's refusal (exit 2, the user's settings;
    sbatch says why only in its own words), or the last line of a job's traceback, with exit 2
    when every failed job's record says it was a usage error, else 1."""
    from amcli.report.sweep import failed_error_kinds
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    refusal = next((line for line in lines if "sbatch: error" in line), None)
    if refusal:
        reason = refusal[refusal.index("sbatch: error"):]
        print(f"{PROG} {name}: error: the scheduler refused the job: {reason} (check "
              "hydra.launcher.partition, gpus_per_node, mem_gb, cpus_per_task, timeout_min)",
              file=sys.stderr)
        return 2
    last = lines[-1] if lines else "no details"
    from amcli import run_folder

    print(f"{PROG} {name}: error: a sweep job failed: {last}; the other jobs ran: see "
          "summary.csv and FAILED in the sweep dir", file=sys.stderr)
    kinds = failed_error_kinds(run_folder.current_sweep())
    return 2 if kinds and set(kinds) == {"usage"} else 1


def exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1

