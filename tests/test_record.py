"""metrics.json's types (amcli.report.record): the shipped schema is the one the types render,
the writer refuses records that break them, and a method's own fields join them."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from amcli.am.methods import METHODS, AMMethod
from amcli.invocation import RunContext
from amcli.report import record as rec
from amcli.report.run import run_record
from amcli.run_folder import MARKERS


def item(**changes) -> dict:
    base = {"target": "angry", "restart": 0, "answer": True, "input": "input.wav",
            "output": "wav/angry_r0.wav", "output_gain": 1.0, "seed": 7,
            "probs": {"angry": 0.9, "sad": 0.1}, "target_prob": 0.9, "margin": 2.2,
            "steps": 10, "stop_reason": "threshold", "best_step": 9, "baseline_prob": 0.3,
            "mask": {"mean": 0.5, "area": 0.5, "tv": 0.1, "binarized_prob": 0.9,
                     "uniform_gain_prob": 0.2, "shifted_prob": 0.4, "original_prob": 0.3,
                     "masked_out_prob": 0.1, "same_top1": True}}
    base.update(changes)
    return base


def optimize_record(**changes) -> dict:
    base = {"kind": "optimize", "status": "done",
            "run": {"amcli_version": "1", "torch_version": "2", "device": "cpu", "seed": 0,
                    "command_line": "amcli optimize", "overrides": [], "started": "t",
                    "method": "mask"},
            "items": [item()],
            "summary": {"targets": {"angry": {"items": 1, "median_target_prob": 0.9,
                                              "min_target_prob": 0.9}},
                        "verdicts": {"reached": 1, "not reached": 0, "not an explanation": 0},
                        "faithfulness": None, "faithfulness_note": "none reached"}}
    base.update(changes)
    return base


def shape(schema: dict) -> dict:
    """What the schema says, without how a pydantic version spells it: per definition its
    fields, which are required, and every description."""
    def descriptions(node, out):
        if isinstance(node, dict):
            if isinstance(node.get("description"), str):
                out.add(node["description"])
            for value in node.values():
                descriptions(value, out)
        elif isinstance(node, list):
            for value in node:
                descriptions(value, out)
        return out

    return {name: (sorted(d.get("properties", {})), sorted(d.get("required", [])),
                   sorted(descriptions(d, set())))
            for name, d in schema["$defs"].items()}


def test_the_shipped_schema_is_the_one_the_types_render():
    shipped = json.loads(resources.files("amcli.report").joinpath("metrics.schema.json")
                         .read_text())
    assert shape(shipped) == shape(rec.metrics_json_schema()), (
        "amcli/report/metrics.schema.json is stale: run python -m amcli.report.record")
    assert {"Item", "MaskControls", "ProsodyEdit", "PriorRecord", "Summary"} <= set(
        shipped["$defs"])


def test_a_record_that_keeps_its_types_passes_and_each_break_is_named():
    rec.check_record(optimize_record())
    for broken, where in [
        (optimize_record(items=[item(colour="red")]), "items.0.colour"),
        (optimize_record(items=[item(target_prob=1.2)]), "items.0.target_prob"),
        (optimize_record(items=[item(stop_reason="tired")]), "items.0.stop_reason"),
        (optimize_record(items=[{k: v for k, v in item().items() if k != "answer"}]),
         "items.0.answer"),
        (optimize_record(items=[item(mask={**item()["mask"], "binarized_prob": -0.1})]),
         "items.0.mask.binarized_prob"),
    ]:
        with pytest.raises(rec.RecordError, match=where.replace(".", r"\.")):
            rec.check_record(broken)
    finished = optimize_record()
    del finished["summary"]
    with pytest.raises(rec.RecordError, match="lacks summary"):
        rec.check_record(finished)
    running = copy.deepcopy(finished)
    running["status"] = "running"
    rec.check_record(running)  # a run in progress has no summary yet
    rec.check_record({"kind": "evaluate", "status": "done", "run": optimize_record()["run"],
                      "accuracy": 0.9})  # other commands add their own keys


def test_the_writer_refuses_a_finished_record_that_breaks_its_types(tmp_path):
    folder = tmp_path / "run"
    with pytest.raises(rec.RecordError, match="items.0.colour"):
        with run_record(RunContext(folder, [], "amcli optimize"), "optimize",
                        optimize_record()["run"]) as record:
            record.update(items=[item(colour="red")], summary=optimize_record()["summary"])
    written = json.loads((folder / "metrics.json").read_text())
    assert (written["status"], written["error_kind"]) == ("failed", "bug")
    assert (folder / MARKERS["failed"]).exists() and not (folder / MARKERS["done"]).exists()


def test_methods_that_disagree_on_a_field_are_an_error(monkeypatch):
    from typing_extensions import TypedDict

    class Clash(TypedDict):
        target: int  # every item's field, redeclared

    class Clashing(AMMethod):
        name = "clash"
        record_type = Clash

    monkeypatch.setitem(METHODS, "clash", Clashing())
    rec.record_types.cache_clear()
    try:
        with pytest.raises(TypeError, match="redeclares the common field 'target'"):
            rec.record_types()
    finally:
        monkeypatch.undo()
        rec.record_types.cache_clear()
        rec._adapter.cache_clear()


def test_the_reference_page_lists_every_field_with_its_type_and_meaning():
    from amcli.reference import metrics_reference

    page = metrics_reference(rec.metrics_json_schema())
    assert ("| `answer` | boolean | yes | the item is an answer of the run; false: evidence "
            "for one") in page
    assert "| `binarized_prob` | number (>= 0, <= 1) | yes | target p with the mask's top" in page
    assert "| `items` | list of [Item](#item) |  | one record per (clip, target, restart)" in page
    item = page[page.index("### Item\n"):page.index("###", page.index("### Item\n") + 5)]
    fields = rec.metrics_json_schema()["$defs"]["Item"]["properties"]
    assert item.count("\n| `") == len(fields)
