"""MkDocs hook: fills the generated parts of the docs from the code, so nothing is typed twice.

``<!-- amcli:options COMMAND -->`` becomes the option tables of ``amcli COMMAND`` (from the
config schemas, :mod:`amcli.reference`); ``<!-- amcli:metrics-schema -->`` becomes the tables of
``metrics.json``'s fields and its JSON Schema (both rendered from the record's types);
``<!-- amcli:bench NAME -->`` becomes the table of the bench result bench/results/NAME.json
(bench/views.py), with when, where and by which command it was measured;
``<!-- amcli:bench-index -->`` becomes the list of every bench result, its age and state.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

MARKER = re.compile(r"<!-- amcli:(options|metrics-schema|bench-index|bench)\s*([\w:-]*)\s*-->")
VIEWS = Path(__file__).resolve().parent.parent / "bench" / "views.py"


def on_page_markdown(markdown: str, **_) -> str:
    return MARKER.sub(_expand, markdown)


def _expand(match: re.Match) -> str:
    from amcli import reference
    from amcli.report.schema import metrics_schema

    what, arg = match.group(1), match.group(2)
    if what == "bench":
        return _views().render(arg)
    if what == "bench-index":
        return _views().index()
    if what == "options":
        return reference.command_reference(arg)
    schema = metrics_schema()
    return ("## Fields\n\n" + reference.metrics_reference(schema)
            + "\n## The JSON Schema\n\n```json\n"
            + json.dumps(schema, indent=2) + "\n```\n")


def _views():
    """bench/views.py (bench/ is scripts, not an installed package)."""
    spec = importlib.util.spec_from_file_location("amcli_bench_views", VIEWS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
