"""A method added from outside amcli (an ``amcli.methods`` entry point of another package)
reaches every output that presents methods: its fields in metrics.json (checked against the
types it declares), its rows in report.html, its columns in the run's summary.csv, its answers
and its evidence counted apart in the sweep's summary.csv. Nothing in amcli names it: this
proves that adding a method touches no file outside its own module."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

TOY = '''
"""A toy AM method: one gain per item on its input clip (the answer), and a variant that may
only make the clip quieter (evidence, not an answer)."""
from dataclasses import dataclass

import torch
from typing_extensions import NotRequired, TypedDict

from amcli.am.methods.base import STRICT, AMMethod, Built, ItemBatch, described
from amcli.am.params import Parameterization
from amcli.am.params.base import item_seeds


@dataclass
class ToyOptions:
    start_db: float = 0.0


class Gain(Parameterization):
    default_lr = 0.1

    def __init__(self, clips, start_db, quieter, seeds):
        super().__init__()
        self.clips, self.seeds = clips, item_seeds(seeds, clips.shape[0])
        self.db = torch.nn.Parameter(torch.full((clips.shape[0],), float(start_db)))
        self.quieter = quieter

    def gains_db(self):
        return torch.where(self.quieter, -self.db.abs(), self.db)

    def signal(self):
        return self.clips * (10 ** (self.gains_db() / 20)).unsqueeze(1)

    def regularized(self):
        return self.db.unsqueeze(1)


class ToyItem(TypedDict):
    __pydantic_config__ = STRICT
    toy_gain: NotRequired[described(dict, "the toy's gain")]


class ToySummary(TypedDict):
    __pydantic_config__ = STRICT
    toy_median_db: NotRequired[float]


class ToyMethod(AMMethod):
    name = "toygain"
    options_type = ToyOptions
    config_key = "toygain"
    param_type = Gain
    summary = "a gain on the clip (a test's toy)"
    record_type = ToyItem
    summary_type = ToySummary
    record_key = "toy_gain"
    library_name = "gain"
    table_columns = ("gain_db",)

    def needs_clip(self, options):
        return True

    def variants(self, options):
        return ["", "quieter"]

    def is_answer(self, variant):
        return variant == ""

    def build(self, options, batch: ItemBatch, resources):
        quieter = torch.tensor([v == "quieter" for v in batch.variants or [""] * len(batch)])
        return Built(Gain(batch.clips, options.start_db, quieter, batch.seeds).to(batch.device), [])

    def item_records(self, options, batch, built, resources):
        return [{"toy_gain": {"db": float(g)}} for g in built.param.gains_db()]

    def summarize(self, answers, reached):
        values = sorted(r["toy_gain"]["db"] for r in answers)
        return {"toy_median_db": values[len(values) // 2]} if values else {}

    def table_row(self, record):
        return {"gain_db": record["toy_gain"]["db"]}

    def report_rows(self, record):
        return [("toy gain (dB)", record["toy_gain"]["db"])]

    def headline(self, record):
        return f"the toy turned the clip by {record['toy_gain']['db']:+.2f} dB"


METHOD = ToyMethod()
'''


def install_toy(root: Path) -> dict[str, str]:
    """The toy as an installed package would be: its module and its entry point."""
    root.mkdir(parents=True)
    (root / "toy_amcli_method.py").write_text(TOY)
    info = root / "toy_amcli_method-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-amcli-method\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text("[amcli.methods]\ntoygain = toy_amcli_method:METHOD\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}


def amcli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "amcli", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_toy_method_from_another_package_reaches_every_output(tmp_path):
    env = install_toy(tmp_path / "site")
    common = ["classifier=cnn_raw", "judge=null", "steps=3", "min_steps=1", "cues=false",
              "quiet=true", "target=[angry,sad]", "toygain.start_db=1.5"]
    run = tmp_path / "run"
    done = amcli(env, "optimize", "method=toygain", *common, f"hydra.run.dir={run}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "method=toygain" in amcli(env, "optimize", "--help").stdout

    metrics = json.loads((run / "metrics.json").read_text())
    items = metrics["items"]
    assert [(i["target"], i.get("variant", ""), i["answer"]) for i in items] == [
        ("angry", "", True), ("angry", "quieter", False), ("sad", "", True),
        ("sad", "quieter", False)]
    assert all(i["toy_gain"]["db"] <= 0 for i in items if not i["answer"])
    answers_db = sorted(i["toy_gain"]["db"] for i in items if i["answer"])
    assert metrics["summary"]["toy_median_db"] == answers_db[1]
    assert sum(metrics["summary"]["verdicts"].values()) == 2  # answers only

    with open(run / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["answer"] for r in rows] == ["True", "False", "True", "False"]
    assert [float(r["gain_db"]) for r in rows] == [i["toy_gain"]["db"] for i in items]

    page = (run / "report.html").read_text()
    assert "toy gain (dB)" in page and "the toy turned the clip by" in page

    sweep = tmp_path / "sweep"
    swept = amcli(env, "optimize", "-m", "method=toygain", *common, "restarts=1,2",
                  f"hydra.sweep.dir={sweep}")
    assert swept.returncode == 0, swept.stderr[-3000:]
    with open(sweep / "summary.csv") as handle:
        jobs = list(csv.DictReader(handle))
    assert [(j["status"], j["items"], j["evidence_items"]) for j in jobs] == [
        ("done", "2", "2"), ("done", "4", "4")]


def test_a_plug_in_that_breaks_is_left_out_with_a_warning(tmp_path):
    root = tmp_path / "site"
    env = install_toy(root)
    (root / "toy_amcli_method.py").write_text("raise ImportError('no torchvision here')\n")
    listed = amcli(env, "optimize", "--help")
    assert listed.returncode == 0
    assert "method=toygain" not in listed.stdout
    assert "AM method plug-in toygain" in listed.stderr and "no torchvision here" in listed.stderr
