"""Multi-label classifiers (a sigmoid per label): the objective raises the target label and
leaves the others free, probabilities are sigmoids everywhere, and the record says so."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from amcli.am.objectives import ClassLogSoftmax, Context, class_objective
from amcli.models.base import class_probabilities

TAGGER = '''
import torch
from torch import nn


class Tagger(nn.Module):
    """Three labels read from the clip's level: loud and energetic rise with it, quiet falls."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, wave):
        level = torch.log(wave.pow(2).mean(-1) + 1e-6) * self.scale
        return torch.stack([level + 8.0, level + 7.0, -level - 8.0], dim=-1)
'''


def test_the_multi_label_objective_is_the_targets_log_sigmoid_and_leaves_others_free():
    logits = torch.tensor([[2.0, 1.0, -1.0]], requires_grad=True)
    targets = torch.tensor([0])
    multi = ClassLogSoftmax()(Context(logits, targets, multi_label=True))
    assert float(multi.detach()) == pytest.approx(math.log(1 / (1 + math.exp(-2.0))))
    (grad,) = torch.autograd.grad(multi.sum(), logits)
    assert grad[0, 1] == 0 and grad[0, 2] == 0 and grad[0, 0] > 0
    single = ClassLogSoftmax()(Context(logits, targets))
    (grad,) = torch.autograd.grad(single.sum(), logits)
    assert grad[0, 1] < 0 and grad[0, 2] < 0  # a softmax's target rises as the others fall
    # objective.suppress pushes the other labels down for a multi-label model too
    pushed = class_objective("log_softmax", suppress=0.5)(Context(logits, targets,
                                                                   multi_label=True))
    (grad,) = torch.autograd.grad(pushed.sum(), logits)
    assert grad[0, 1] < 0 and grad[0, 2] < 0


def test_multi_label_probabilities_are_sigmoids():
    logits = torch.tensor([[0.0, 2.0, -2.0]])
    torch.testing.assert_close(class_probabilities(logits, True), torch.sigmoid(logits))
    assert float(class_probabilities(logits, False).sum()) == pytest.approx(1.0)


@pytest.mark.slow
def test_a_multi_label_custom_model_raises_its_target_and_records_sigmoids(cli, tmp_path: Path,
                                                                          monkeypatch):
    (tmp_path / "tagmod.py").write_text(TAGGER)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["optimize", "classifier=custom", "custom.target=tagmod.Tagger",
            "custom.classes=[loud,energetic,quiet]", "method=input", "target=loud",
            "steps=30", "min_steps=5", "quiet=true", "cues=false", "judge=null"]
    result = cli(*args, "custom.multi_label=true")
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["run"]["classifier"]["multi_label"] is True
    (item,) = metrics["items"]
    probs = item["probs"]
    assert item["target_prob"] == pytest.approx(probs["loud"]) and probs["loud"] >= 0.9
    # independent labels: energetic rose with loud, and the three do not sum to 1
    assert probs["energetic"] > 0.7 and sum(probs.values()) > 1.5
    single = cli(*args)
    assert single.code == 0, single.err
    metrics = json.loads((tmp_path / "run2" / "metrics.json").read_text())
    assert metrics["run"]["classifier"]["multi_label"] is False
    assert sum(metrics["items"][0]["probs"].values()) == pytest.approx(1.0, abs=1e-4)
