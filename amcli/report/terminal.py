"""What a finished optimize run says in the terminal: every item with its verdict, the verdict
counts, the attribution table with its baseline and spread, and the sanity check's verdict.

``amcli optimize`` prints it when a run ends and ``amcli report RUN`` prints it again from
metrics.json, so what a researcher reads in the terminal is what the record holds.
"""

from __future__ import annotations

import statistics
from typing import Any

from amcli.am.methods import AMMethod
from amcli.metrics.attribution import table_cells


def item_line(record: dict[str, Any], method: AMMethod | None) -> str:
    """One item: output, reached probability, verdict, how it stopped, the method's words."""
    headline = method.headline(record) if method is not None else ""
    best = record.get("best_step")
    stop = f"{record.get('stop_reason')} @ {record.get('steps')}"
    if best is not None and best != record.get("steps"):
        stop += f", best @ {best}"
    verdict = record.get("verdict")
    text = (f"{record.get('output', ''):<28} p({record['target']}) = "
            f"{record['target_prob']:.3f}" + (f"  {verdict:<18}" if verdict else "")
            + f"  [{stop}]")
    judge = record.get("judge_prob")
    if judge is not None:
        text += f"  judge {judge:.3f}"
    if headline:
        text += f"\n{'':<30}{headline}"
    if record.get("variant") in (None, "", "all"):  # an answer; variants are evidence
        for reason in record.get("verdict_reasons") or []:
            text += f"\n{'':<30}- {reason}"
    return text


def verdict_line(summary: dict[str, Any]) -> str | None:
    counts = summary.get("verdicts")
    if not counts:
        return None
    return "verdicts: " + ", ".join(f"{n} {name}" for name, n in counts.items())


def attribution_lines(table: dict[str, Any]) -> list[str]:
    """The attribution table: per target the no-edit baseline, each variant's best restart (the
    second best in brackets), and which family leads (or which tie)."""
    columns, rows = table_cells(table)
    width = max(len(columns[0]), *(len(r[0]) for r in rows))
    widths = [width, 7, *(max(len(c), 17) for c in columns[2:-1])]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join([cells[0].ljust(widths[0]),
                                 *(c.rjust(w) for c, w in zip(cells[1:-1], widths[1:],
                                                              strict=True)), cells[-1]])

    return ["attribution (the probability each family reaches alone: the best restart, the "
            "second best in brackets):", line(columns), *(line(r) for r in rows)]


def sanity_lines(sanity: dict[str, Any]) -> list[str]:
    lines = []
    for level, result in sanity.items():
        if not isinstance(result, dict):
            continue
        rho = result.get("median_profile_spearman")
        probs = [r["target_prob"] for r in result.get("items") or []
                 if r.get("target_prob") is not None]
        median = statistics.median(probs) if probs else None
        lines.append(f"sanity ({level} layers randomized): median rank correlation with the "
                     f"trained explanations {'-' if rho is None else f'{rho:.2f}'}, median "
                     f"target p {'-' if median is None else f'{median:.3f}'}")
    return lines


def print_run(record: dict[str, Any], method: AMMethod | None) -> None:
    """Print a run's items, verdicts, attribution table and sanity verdict."""
    for item in record.get("items") or []:
        print(item_line(item, method))
    summary = record.get("summary") or {}
    line = verdict_line(summary)
    if line:
        print(line)
    if summary.get("attribution"):
        print("\n".join(attribution_lines(summary["attribution"])))
    if summary.get("faithfulness_note"):
        print(f"faithfulness: {summary['faithfulness_note']}")
    if record.get("sanity"):
        print("\n".join(sanity_lines(record["sanity"])))
