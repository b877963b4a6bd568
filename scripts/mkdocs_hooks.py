"""MkDocs hook: fills the generated parts of the docs from the code, so nothing is typed twice.

``<!-- amcli:options COMMAND -->`` becomes the option tables of ``amcli COMMAND`` (from the
config schemas, :mod:`amcli.reference`); ``<!-- amcli:metrics-schema -->`` becomes the JSON
Schema of ``metrics.json`` that the tests validate real runs against.
"""

from __future__ import annotations

import json
import re

MARKER = re.compile(r"<!-- amcli:(options|metrics-schema)\s*([\w-]*)\s*-->")


def on_page_markdown(markdown: str, **_) -> str:
    return MARKER.sub(_expand, markdown)


def _expand(match: re.Match) -> str:
    from amcli import reference
    from amcli.report.schema import metrics_schema

    what, arg = match.group(1), match.group(2)
    if what == "options":
        return reference.command_reference(arg)
    return "```json\n" + json.dumps(metrics_schema(), indent=2) + "\n```\n"
