"""``report.html`` of a run and ``index.html`` of a sweep: built from the files on disk only.

Self-contained pages: inline CSS, relative links to the run's own WAVs and plots, no scripts,
no CDN. Both are pure functions of what the folders hold (metrics.json, markers, the files the
run wrote), so ``amcli report DIR`` rebuilds them byte for byte.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from amcli.files import atomic_write

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


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return _e(value)


def _median(values: list) -> float | None:
    numbers = sorted(v for v in values if isinstance(v, (int, float)))
    if not numbers:
        return None
    mid = len(numbers) // 2
    return float(numbers[mid]) if len(numbers) % 2 else (numbers[mid - 1] + numbers[mid]) / 2


def _method(name: str | None):
    """The AM method that wrote a run (for its headline), or None."""
    from amcli.am.methods import METHODS

    return METHODS.get(name or "")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
            "</body></html>\n")


def _table(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows) \
        + "</table>"


def _audio(folder: Path, rel: str | None, label: str) -> str:
    if not rel or not (folder / rel).is_file():
        return ""
    return (f"<div class=\"label\">{_e(label)}</div>"
            f"<audio controls preload=\"metadata\" src=\"{_e(rel)}\"></audio>")


def _image(folder: Path, rel: str, alt: str) -> str:
    return f"<img src=\"{_e(rel)}\" alt=\"{_e(alt)}\">" if (folder / rel).is_file() else ""


def _item_card(folder: Path, item: dict[str, Any], headline: str = "") -> str:
    stem = Path(item.get("output") or "").stem
    title = f"{_e(item['target'])} &middot; restart {item.get('restart', 0)}"
    if item.get("variant") and item["variant"] != "all":
        title += f" &middot; {_e(item['variant'])} only"
    if item.get("condition"):
        title += f" &middot; condition {_e(item['condition'])}"
    rows = [("target p", _num(item.get("target_prob"))),
            *([("in words", _e(headline))] if headline else []),
            ("margin", _num(item.get("margin"))),
            ("steps", f"{_num(item.get('steps'))} ({_e(item.get('stop_reason'))})")]
    if item.get("judge_prob") is not None:
        rows.append(("judge p (top-1)", f"{_num(item['judge_prob'])} "
                                        f"({_e(item.get('judge_top1'))})"))
    mask = item.get("mask")
    if mask:
        rows += [("mask area / mean", f"{_num(mask.get('area'))} / {_num(mask.get('mean'))}"),
                 ("binarized p", _num(mask.get("binarized_prob"))),
                 ("uniform-gain p", _num(mask.get("uniform_gain_prob"))),
                 ("shifted-mask p", _num(mask.get("shifted_prob"))),
                 ("masked-out p", _num(mask.get("masked_out_prob")))]
    cues = (item.get("cues") or {}).get("shift")
    if cues:
        rows.append((f"cue shift vs {(item.get('cues') or {}).get('reference_is', 'reference')}",
                     ", ".join(f"{_e(k)} {_num(v, 2)}" for k, v in cues.items())))
    probs = item.get("probs") or {}
    rows.append(("probabilities", ", ".join(f"{_e(c)} {_num(p)}" for c, p in probs.items())))
    media = _audio(folder, item.get("input"), "input") + \
        _audio(folder, item.get("output"), "output")
    plots = sorted(p for p in (folder / "plots").glob(f"{stem}_*")
                   if p.suffix in (".png", ".svg") and p.stem[len(stem) + 1:].isidentifier()) \
        if stem and (folder / "plots").is_dir() else []
    images = "".join(_image(folder, f"plots/{p.name}", p.stem) for p in plots)
    return f"<div class=\"card\"><h3>{title}</h3>{media}{images}{_table(rows)}</div>"


def run_report_html(folder: Path) -> str:
    """The page of one run, from its metrics.json and files."""
    metrics = json.loads((folder / "metrics.json").read_text())
    run = metrics.get("run", {})
    status = metrics.get("status", "running")
    head = [("status", f"<span class=\"{_e(status)}\">{_e(status)}</span>"),
            ("command", f"<code>{_e(run.get('command_line', ''))}</code>")]
    for key in ("method", "device", "seed"):
        if run.get(key) is not None:
            head.append((key, _e(run[key])))
    for key in ("classifier", "judge", "prior"):
        value = run.get(key)
        if isinstance(value, dict):
            head.append((key, _e(value.get("name")) + (f" ({_e(value['kind'])})"
                                                       if value.get("kind") else "")
                         + (f" &mdash; off: {_e(value['off'])}" if value.get("off") else "")))
    if metrics.get("error"):
        head.append(("error", f"<span class=\"failed\">{_e(metrics['error'])}</span>"))
    summary = metrics.get("summary") or {}
    parts = [f"<h1>amcli {_e(metrics.get('kind', ''))}: {_e(folder.name)}</h1>", _table(head)]
    targets = summary.get("targets") or {}
    if targets:
        header = "<tr><th>target</th><th>items</th><th>median p</th><th>min p</th>" \
                 "<th>median judge p</th></tr>"
        body = "".join(f"<tr><td>{_e(t)}</td><td>{_num(v.get('items'))}</td>"
                       f"<td>{_num(v.get('median_target_prob'))}</td>"
                       f"<td>{_num(v.get('min_target_prob'))}</td>"
                       f"<td>{_num(v.get('median_judge_prob'))}</td></tr>"
                       for t, v in targets.items())
        parts.append(f"<h2>Summary</h2><table>{header}{body}</table>")
    extra = []
    if summary.get("transfer_rate") is not None:
        extra.append(("judge transfer rate", _num(summary["transfer_rate"])))
    if summary.get("judge_off"):
        extra.append(("judge off", _e(summary["judge_off"])))
    distance = summary.get("distance_to_real") or {}
    if distance.get("outputs"):
        out, real, noise = (distance[k] for k in ("outputs", "real_at_same_n",
                                                   "noise_at_same_n"))
        extra.append((f"distance to real clips (judge space, n = {distance['n_outputs']})",
                      f"KID {_num(out['kid'], 4)} &plusmn; {_num(out['kid_std'], 4)}, "
                      f"Frechet {_num(out['frechet'], 2)}; real clips at the same n: KID "
                      f"{_num(real['kid'], 4)}, Frechet {_num(real['frechet'], 2)} &plusmn; "
                      f"{_num(real['frechet_std'], 2)}; noise: KID {_num(noise['kid'], 4)}, "
                      f"Frechet {_num(noise['frechet'], 2)}"))
    elif distance.get("note"):
        extra.append(("distance to real clips", _e(distance["note"])))
    for key, value in (summary.get("faithfulness") or {}).items():
        extra.append((f"faithfulness {key}", _num(value)))
    for level, result in (metrics.get("sanity") or {}).items():
        extra.append((f"sanity ({level} randomized: {', '.join(result.get('layers') or [])})",
                      f"median rank correlation with the trained model's explanations "
                      f"{_num(result.get('median_profile_spearman'))}; median target p "
                      f"{_num(_median([r.get('target_prob') for r in result.get('items', [])]))}"
                      ))
    if extra:
        parts.append(_table(extra))
    table = summary.get("attribution")
    if table:
        variants = ["all"] + sorted({v for row in table.values() for v in row} - {"all"})
        header = "<tr><th>target</th>" + "".join(f"<th>{_e(v)}{'' if v == 'all' else ' alone'}"
                                                  "</th>" for v in variants) + "</tr>"
        body = "".join(f"<tr><td>{_e(t)}</td>" + "".join(f"<td>{_num(row.get(v))}</td>"
                                                        for v in variants) + "</tr>"
                       for t, row in table.items())
        chart = "".join(_image(folder, f"plots/attribution.{ext}", "attribution")
                        for ext in ("png", "svg"))
        parts.append("<h2>Which control family moves the model</h2><p>Median reached target "
                     "probability with each family of edits alone, and with all of them "
                     f"together.</p><table>{header}{body}</table>{chart}")
    if metrics.get("note"):
        parts.append(f"<p><b>Note:</b> {_e(metrics['note'])}</p>")
    method = _method(run.get("method"))
    cards = "".join(_item_card(folder, item, method.headline(item) if method else "")
                    for item in metrics.get("items") or [])
    if cards:
        parts.append(f"<h2>Outputs</h2><div class=\"cards\">{cards}</div>")
    return _page(f"amcli {metrics.get('kind', '')} {folder.name}", "\n".join(parts))


def write_run_report(folder: str | os.PathLike) -> Path:
    folder = Path(folder)
    text = run_report_html(folder)
    return atomic_write(folder / "report.html", lambda tmp: Path(tmp).write_text(text))


def sweep_index_html(sweep: Path, rows: list[dict[str, Any]]) -> str:
    """The sweep's page: one row per job (the rows of summary.csv), linked to its report."""
    header = "".join(f"<th>{_e(c)}</th>" for c in ("job", "overrides", "status", "items",
                                                      "min p", "median p", "median judge p",
                                                      "error"))
    body = []
    for row in rows:
        job = row["job"]
        link = f"<a href=\"{_e(job)}/report.html\">{_e(job)}</a>" \
            if (sweep / job / "report.html").is_file() else _e(job)
        body.append(f"<tr><td>{link}</td><td><code>{_e(row['overrides'])}</code></td>"
                    f"<td class=\"{_e(row['status'])}\">{_e(row['status'])}</td>"
                    f"<td>{_e(row['items'])}</td><td>{_e(row['min_target_prob'])}</td>"
                    f"<td>{_e(row['median_target_prob'])}</td>"
                    f"<td>{_e(row['median_judge_prob'])}</td><td>{_e(row['error'])}</td></tr>")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    text = (f"<h1>amcli sweep: {_e(sweep.name)}</h1><p>{len(rows)} job(s): {_e(tally)}. "
            "Rebuilt from the job folders on every job end; <code>amcli report "
            f"{_e(sweep.name)}</code> rebuilds it. Table as CSV: "
            "<a href=\"summary.csv\">summary.csv</a>.</p>"
            f"<table><tr>{header}</tr>{''.join(body)}</table>")
    return _page(f"amcli sweep {sweep.name}", text)
