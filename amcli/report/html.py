"""``report.html`` of a run and ``index.html`` of a sweep: built from the files on disk only.

Self-contained pages: inline CSS, relative links to the run's own WAVs and plots, no scripts,
no CDN. Both are pure functions of what the folders hold (metrics.json, markers, the files the
run wrote), so ``amcli report DIR`` rebuilds them byte for byte.

The pages are Jinja2 templates (amcli/report/templates/) with autoescape on: the Python side
gathers plain text and numbers (never HTML), the template escapes every value, so a target, clip
name, override or error text with ``<``, ``&`` or quotes in it shows as written and never as
markup; links to files are URL-quoted as well.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader

from amcli.files import atomic_write
from amcli.metrics.attribution import table_cells

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1180px;color:#222;
padding:0 1em}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:2px 8px;
text-align:left;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}
.card{border:1px solid #ccc;border-radius:6px;padding:10px}.card h3{margin:0 0 .4em;
font-size:1.05em}.card img{max-width:100%;display:block;margin:.3em 0}
audio{width:100%;margin:.15em 0}.label{color:#666;font-size:.9em}
.done{color:#17692c}.failed{color:#b00020}.interrupted,.running{color:#a15c00}
code{background:#f4f4f4;padding:0 3px}
"""

def _environment() -> Environment:
    """The templates of amcli/report/templates/, every value escaped."""
    return Environment(loader=PackageLoader("amcli.report", "templates"), autoescape=True,
                       keep_trailing_newline=True)


def _num(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _row(label: str, text: Any, css: str | None = None, code: bool = False) -> dict[str, Any]:
    return {"label": label, "text": text, "css": css, "code": code}


def _median(values: list) -> float | None:
    numbers = sorted(v for v in values if isinstance(v, (int, float)))
    if not numbers:
        return None
    mid = len(numbers) // 2
    return float(numbers[mid]) if len(numbers) % 2 else (numbers[mid - 1] + numbers[mid]) / 2


def _method(name: str | None):
    """The AM method that wrote a run (for its headline and rows), or None."""
    from amcli.am.methods import METHODS

    return METHODS.get(name or "")


def _card(folder: Path, item: dict[str, Any], method: Any) -> dict[str, Any]:
    headline = method.headline(item) if method else ""
    stem = Path(item.get("output") or "").stem
    title = f"{item['target']} · restart {item.get('restart', 0)}"
    if item.get("condition"):
        title += f" · condition {item['condition']}"
    if item.get("variant") and item["variant"] != "all":
        title += f" · {item['variant']} only"
    rows = []
    if item.get("verdict"):
        reasons = "; ".join(item.get("verdict_reasons") or [])
        rows.append(_row("verdict", item["verdict"] + (f": {reasons}" if reasons else ""),
                         css="done" if item["verdict"] == "reached" else "failed"))
    rows.append(_row("target p", _num(item.get("target_prob"))))
    if headline:
        rows.append(_row("in words", headline))
    best = item.get("best_step")
    last = item.get("last") or {}
    rows += [_row("margin", _num(item.get("margin"))),
             _row("steps", f"{_num(item.get('steps'))} ({item.get('stop_reason')})"
                  + (f"; best state at step {best}" if best is not None else "")
                  + (f"; last step p {_num(last.get('target_prob'))}"
                     if last.get("target_prob") is not None and best != last.get("step")
                     else ""))]
    if item.get("judge_prob") is not None:
        rows.append(_row("judge p (top-1)", f"{_num(item['judge_prob'])} "
                                            f"({item.get('judge_top1')})"))
    rows += [_row(label, _num(value)) for label, value in
             (method.report_rows(item) if method else [])]
    cues = item.get("cues") or {}
    if cues.get("shift"):
        rows.append(_row(f"cue shift vs {cues.get('reference_is', 'reference')}",
                         ", ".join(f"{k} {_num(v, 2)}" for k, v in cues["shift"].items())))
    probs = item.get("probs") or {}
    rows.append(_row("probabilities", ", ".join(f"{c} {_num(p)}" for c, p in probs.items())))
    audio = [{"label": label, "src": quote(rel)} for label, rel in
             (("input", item.get("input")), ("output", item.get("output")))
             if rel and (folder / rel).is_file()]
    plots = sorted(p for p in (folder / "plots").glob(f"{stem}_*")
                   if p.suffix in (".png", ".svg") and p.stem[len(stem) + 1:].isidentifier()) \
        if stem and (folder / "plots").is_dir() else []
    images = [{"src": quote(f"plots/{p.name}"), "alt": p.stem} for p in plots]
    return {"title": title, "audio": audio, "images": images, "rows": rows}


def _head(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    run = metrics.get("run", {})
    status = metrics.get("status", "running")
    head = [_row("status", status, css=status), _row("command", run.get("command_line", ""),
                                                     code=True)]
    for key in ("method", "device", "seed"):
        if run.get(key) is not None:
            head.append(_row(key, run[key]))
    for key in ("classifier", "judge", "prior"):
        value = run.get(key)
        if isinstance(value, dict):
            text = str(value.get("name")) + (f" ({value['kind']})" if value.get("kind") else "")
            if value.get("off"):
                text += f" — off: {value['off']}"
            head.append(_row(key, text))
    if metrics.get("interrupted_by"):
        head.append(_row("interrupted by", metrics["interrupted_by"], css="interrupted"))
    if metrics.get("error"):
        head.append(_row("error", metrics["error"], css="failed"))
    return head


def _extra(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    summary = metrics.get("summary") or {}
    rows = []
    if summary.get("transfer_rate") is not None:
        rows.append(_row("judge transfer rate", _num(summary["transfer_rate"])))
    if summary.get("judge_off"):
        rows.append(_row("judge off", summary["judge_off"]))
    distance = summary.get("distance_to_real") or {}
    if distance.get("outputs"):
        out, real, noise = (distance[k] for k in ("outputs", "real_at_same_n",
                                                   "noise_at_same_n"))
        rows.append(_row(
            f"distance to real clips (judge space, n = {distance['n_outputs']})",
            f"KID {_num(out['kid'], 4)} ± {_num(out['kid_std'], 4)}, Frechet "
            f"{_num(out['frechet'], 2)}; real clips at the same n: KID {_num(real['kid'], 4)}, "
            f"Frechet {_num(real['frechet'], 2)} ± {_num(real['frechet_std'], 2)}; noise: KID "
            f"{_num(noise['kid'], 4)}, Frechet {_num(noise['frechet'], 2)}"))
    elif distance.get("note"):
        rows.append(_row("distance to real clips", distance["note"]))
    for key, value in (summary.get("faithfulness") or {}).items():
        rows.append(_row(f"faithfulness {key}", _num(value)))
    for level, result in (metrics.get("sanity") or {}).items():
        probs = _median([r.get("target_prob") for r in result.get("items", [])])
        rows.append(_row(
            f"sanity ({level} randomized: {', '.join(result.get('layers') or [])})",
            "median rank correlation with the trained model's explanations "
            f"{_num(result.get('median_profile_spearman'))}; median target p {_num(probs)}"))
    return rows


def _verdicts(counts: dict[str, int] | None) -> str:
    """"2 reached, 1 not reached" (zero counts left out), or "-"."""
    text = ", ".join(f"{n} {name}" for name, n in (counts or {}).items() if n)
    return text or "-"


def _attribution(folder: Path, summary: dict[str, Any]) -> dict[str, Any] | None:
    table = summary.get("attribution")
    if not table:
        return None
    columns, rows = table_cells(table)
    return {"columns": columns[1:], "rows": rows,  # the page writes the "target" heading
            "charts": [f"plots/attribution.{ext}" for ext in ("png", "svg")
                       if (folder / "plots" / f"attribution.{ext}").is_file()]}


def run_report_html(folder: Path) -> str:
    """The page of one run, from its metrics.json and files."""
    metrics = json.loads((folder / "metrics.json").read_text())
    summary = metrics.get("summary") or {}
    targets = [[t, _num(v.get("items")), _verdicts(v.get("verdicts")),
                _num(v.get("median_target_prob")), _num(v.get("min_target_prob")),
                _num(v.get("median_judge_prob"))]
               for t, v in (summary.get("targets") or {}).items()]
    method = _method(metrics.get("run", {}).get("method"))
    cards = [_card(folder, item, method)
             for item in metrics.get("items") or []]
    return _environment().get_template("run.html.j2").render(
        title=f"amcli {metrics.get('kind', '')} {folder.name}", style=STYLE,
        kind=metrics.get("kind", ""), name=folder.name, head=_head(metrics), targets=targets,
        extra=_extra(metrics), attribution=_attribution(folder, summary),
        notes=[metrics["note"]] if metrics.get("note") else [], cards=cards)


def write_run_report(folder: str | os.PathLike) -> Path:
    folder = Path(folder)
    text = run_report_html(folder)
    return atomic_write(folder / "report.html", lambda tmp: Path(tmp).write_text(text))


def sweep_index_html(sweep: Path, rows: list[dict[str, Any]]) -> str:
    """The sweep's page: one row per job (the rows of summary.csv), linked to its report."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    jobs = [{"job": row["job"], "overrides": row["overrides"], "status": row["status"],
             "href": quote(f"{row['job']}/report.html") if (sweep / row["job"] / "report.html")
             .is_file() else None,
             "cells": [row["items"], row.get("reached", ""), row.get("not_reached", ""),
                       row.get("not_an_explanation", ""), row["min_target_prob"],
                       row["median_target_prob"], row["median_judge_prob"], row["error"]]}
            for row in rows]
    return _environment().get_template("sweep.html.j2").render(
        title=f"amcli sweep {sweep.name}", style=STYLE, name=sweep.name, count=len(rows),
        tally=", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
        header=("job", "overrides", "status", "items", "reached", "not reached",
                "not an explanation", "min p", "median p", "median judge p", "error"), rows=jobs)
