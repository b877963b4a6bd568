"""amcli.explain's translation of Python values into the command's options, and its refusals
that need no run."""

from __future__ import annotations

import pytest

from amcli import api
from amcli.errors import UserError


def test_python_values_become_the_overrides_the_cli_reads():
    options = {"restarts": 4, "prosody": {"attribution": True, "families": ["pitch", "voice"]},
               "threshold": None, "mask.area": 0.3}
    assert [f"{k}={api._value(v)}" for k, v in api._flatten(options)] == [
        "restarts=4", "prosody.attribution=true", "prosody.families=[pitch,voice]",
        "threshold=null", "mask.area=0.3"]


def test_refusals_before_any_run(tmp_path):
    with pytest.raises(UserError, match="classes= is for an nn.Module"):
        api.explain("crnn_mel", None, "sad", classes=["a", "b"])
    with pytest.raises(UserError, match="not an amcli optimize run folder"):
        api.Explanations.from_folder(tmp_path)
    with pytest.raises(UserError, match="is not a file"):
        api.explain("crnn_mel", [tmp_path / "a.wav", tmp_path / "b.wav"], "sad")


def test_a_lent_module_is_reachable_only_while_it_is_lent():
    from torch import nn

    net = nn.Linear(2, 2)
    with api._lent(net, ["a", "b"], "raw", 16000) as (args, classes):
        target = next(a for a in args if a.startswith("custom.target=")).split("=", 1)[1]
        assert getattr(api, target.rsplit(".", 1)[1])() is net and classes == ["a", "b"]
    with pytest.raises(AttributeError):
        getattr(api, target.rsplit(".", 1)[1])
