"""A method's defaults are written twice, in its YAML (what the CLI composes) and in its
options dataclass (what the library and `amcli.explain` users get when they build options in
Python); the two must say the same, or the CLI and the library explain differently."""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path

import pytest
import yaml

from amcli.am.methods import get_method

CONF = Path(__file__).resolve().parents[1] / "conf" / "method"


def plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(p.stem for p in CONF.glob("*.yaml")))
def test_the_yaml_defaults_are_the_options_defaults(name):
    method = get_method(name)
    composed = yaml.safe_load((CONF / f"{name}.yaml").read_text())[method.config_key]
    fields = {f.name: f for f in dataclasses.fields(method.options_type)}
    unknown = sorted(set(composed) - set(fields))
    assert not unknown, f"conf/method/{name}.yaml sets keys its options do not have: {unknown}"
    for key, value in composed.items():
        field = fields[key]
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            continue
        if dataclasses.is_dataclass(default):
            default = dataclasses.asdict(default)
        assert plain(default) == value, (f"{name}.{key}: conf/method/{name}.yaml says {value!r}, "
                                         f"{method.options_type.__name__} says {default!r}")
