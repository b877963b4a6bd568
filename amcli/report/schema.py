"""The JSON Schema of ``metrics.json``: one file shipped with the package, used by the docs
(printed in the reference) and by the tests (every kind of run is validated against it)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def metrics_schema() -> dict[str, Any]:
    """The schema as a dict (JSON Schema draft 2020-12)."""
    return json.loads(resources.files("amcli.report").joinpath("metrics.schema.json").read_text())


def validate_metrics(record: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if a metrics.json record breaks the schema
    (needs the ``jsonschema`` package, which the dev extra installs)."""
    import jsonschema

    jsonschema.validate(record, metrics_schema(), cls=jsonschema.Draft202012Validator)
