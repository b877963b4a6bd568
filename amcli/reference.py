"""The option reference of every command, generated from the config schemas.

The docs' reference pages are built from here (a MkDocs hook calls :func:`command_reference`),
so an option is described once, next to its field in the schema (a ``#:`` comment above it or a
``#`` comment after it), and its default comes from the composed config the command itself
uses. Nothing here is typed twice: a new option appears in the docs by being added to a schema.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
import textwrap
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

#: command name -> (config name in conf/, the command's one-line purpose)
CONFIG_NAMES = {
    "optimize": "optimize",
    "synth": "synth",
    "train-classifier": "train_classifier",
    "train-prior": "train_prior",
    "evaluate": "evaluate",
    "report": "report",
    "list": "list",
}


@dataclass(frozen=True)
class Option:
    """One key as a user types it, with what the schema says about it."""

    key: str
    default: Any
    values: str
    meaning: str


def compose(command: str, overrides: list[str] | None = None) -> DictConfig:
    """The config ``amcli <command> <overrides> --cfg job`` prints, without running anything."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    import amcli.config  # noqa: F401  (registers the schemas)

    with initialize_config_module(config_module="amcli.conf", version_base="1.3"):
        return hydra_compose(config_name=CONFIG_NAMES[command], overrides=overrides or [])


def options(cfg: DictConfig, prefix: str = "") -> list[Option]:
    """Every leaf key of a composed config, in schema order, with its documentation."""
    kind = OmegaConf.get_type(cfg)
    docs = field_docs(kind) if dataclasses.is_dataclass(kind) else {}
    hints = _type_hints(kind)
    found = []
    for name in cfg.keys():
        key = f"{prefix}{name}"
        node = cfg._get_node(name)
        value = None if node._is_missing() or node._is_none() else cfg[name]
        if isinstance(value, DictConfig) and dataclasses.is_dataclass(OmegaConf.get_type(value)):
            found.extend(options(value, f"{key}."))
            continue
        if value is None and any(dataclasses.is_dataclass(a) for a in _union(hints.get(name))):
            continue  # another method's options node: absent with this method
        found.append(Option(key, _plain(value), _values(hints.get(name), kind, name),
                            docs.get(name) or _hint(kind, name)))
    return found


def command_reference(command: str) -> str:
    """Markdown tables of a command's options; optimize gets one table per method."""
    if command != "optimize":
        return _table(options(compose(command)))
    from amcli.am.methods import METHODS

    per_method = {name: options(compose("optimize", [f"method={name}"])) for name in METHODS}
    common_keys = set.intersection(*({o.key for o in opts} for opts in per_method.values()))
    first = next(iter(per_method.values()))
    parts = ["Common to every method:\n", _table([o for o in first if o.key in common_keys])]
    for name, opts in per_method.items():
        own = [o for o in opts if o.key not in common_keys]
        parts += [f"\nOnly with `method={name}`:\n", _table(own)]
    return "\n".join(parts)


def undocumented(command: str) -> list[str]:
    """Keys of a command whose schema field says nothing (the docs test wants none)."""
    overrides = [[]]
    if command == "optimize":
        from amcli.am.methods import METHODS

        overrides = [[f"method={name}"] for name in METHODS]
    return sorted({o.key for extra in overrides for o in options(compose(command, extra))
                   if not o.meaning})


@functools.cache
def field_docs(kind: type) -> dict[str, str]:
    """``#:`` comments above a dataclass field, or a ``#`` comment after it, by field name;
    inherited fields come from the base classes."""
    docs: dict[str, str] = {}
    for base in reversed(kind.__mro__):
        if dataclasses.is_dataclass(base) and base is not kind:
            docs.update(field_docs(base))
    try:
        lines, _ = inspect.getsourcelines(kind)
    except (OSError, TypeError):
        return docs
    source = textwrap.dedent("".join(lines))
    body = ast.parse(source).body[0]
    text = source.splitlines()
    for stmt in getattr(body, "body", []):
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        above, row = [], stmt.lineno - 2
        while row >= 0 and text[row].strip().startswith("#:"):
            above.insert(0, text[row].strip()[2:].strip())
            row -= 1
        after = text[stmt.end_lineno - 1].partition("  # ")[2].strip()
        if after.startswith("noqa"):
            after = ""
        if above or after:
            docs[stmt.target.id] = " ".join(above) or after
    return docs


def _hint(kind: Any, name: str) -> str:
    """The range's own wording (``bounded(..., hint=...)``) where a field has no comment."""
    from amcli.bounds import METADATA_KEY

    if not dataclasses.is_dataclass(kind):
        return ""
    meta = {f.name: f.metadata for f in dataclasses.fields(kind)}.get(name, {})
    bounds = meta.get(METADATA_KEY)
    return bounds.hint if bounds is not None else ""


def _type_hints(kind: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(kind):
        return {}
    try:
        return typing.get_type_hints(kind)
    except (NameError, TypeError):
        return {}


def _values(hint: Any, kind: Any, name: str) -> str:
    """The accepted values: an Enum's choices, or the type with its declared range."""
    from amcli.bounds import METADATA_KEY

    base = _union(hint)[0]
    if isinstance(base, type) and issubclass(base, Enum):
        return " \\| ".join(m.value for m in base)
    label = {bool: "true/false", int: "integer", float: "number", str: "text"}.get(base, "")
    if typing.get_origin(base) in (list, tuple):
        label = "list"
    elif typing.get_origin(base) is dict:
        label = "mapping"
    if dataclasses.is_dataclass(kind):
        meta = {f.name: f.metadata for f in dataclasses.fields(kind)}.get(name, {})
        bounds = meta.get(METADATA_KEY)
        if bounds is not None:
            label = f"{label}, {bounds.describe()}".strip(", ")
    if hint is not None and type(None) in typing.get_args(hint):
        label = f"{label} or null".strip()
    return label


def _union(hint: Any) -> list[Any]:
    """The members of ``X | None`` (or ``Optional[X]``) other than None; [hint] otherwise."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(hint) if a is not type(None)]
    return [hint]


def _plain(value: Any) -> Any:
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, enum_to_str=True)
    return value.value if isinstance(value, Enum) else value


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        text = json.dumps(value, allow_nan=False).replace('"', "")
    else:
        text = str(value).replace("|", "\\|")
    return f"`{text}`" if text else "`''`"


def _table(opts: list[Option]) -> str:
    rows = ["| key | default | values | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{o.key}` | {_cell(o.default)} | {o.values} | {o.meaning.replace('|', '/')} |"
             for o in opts]
    return "\n".join(rows) + "\n"


#: the order of metrics.json's definitions in its reference (the rest follow by name)
RECORD_ORDER = ("Optimize", "OptimizeRun", "Item", "Summary")


def _schema_type(node: dict[str, Any]) -> str:
    """A JSON Schema node in words: `number`, `string or null`, `list of Item`, ..."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in node or "oneOf" in node:
        return " or ".join(_schema_type(n) for n in node.get("anyOf") or node["oneOf"])
    if "const" in node:
        return f'`"{node["const"]}"`'
    if "enum" in node:
        return " \\| ".join(f'`"{v}"`' for v in node["enum"])
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_schema_type(node.get('items') or {})}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map of {_schema_type(node['additionalProperties'])}"
    limits = [f"{word} {node[key]:g}" for key, word in
              (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
               ("exclusiveMaximum", "<")) if key in node]
    return kind + (f" ({', '.join(limits)})" if limits else "")


def metrics_reference(schema: dict[str, Any]) -> str:
    """metrics.json's fields as tables, one per definition of its JSON Schema: field, type,
    whether every record has it, and what it is."""
    definitions = schema["$defs"]
    names = [n for n in RECORD_ORDER if n in definitions] + sorted(
        n for n in definitions if n not in RECORD_ORDER)
    parts = []
    for name in names:
        definition = definitions[name]
        if "properties" not in definition:
            continue
        required = set(definition.get("required", []))
        rows = ["| field | type | always | what it is |", "|---|---|---|---|"]
        for key, node in definition["properties"].items():
            what = (node.get("description") or "").replace("|", "\\|")
            rows.append(f"| `{key}` | {_schema_type(node)} | {'yes' if key in required else ''} "
                        f"| {what} |")
        parts.append(f"### {name}\n\n{definition.get('description', '')}\n\n" + "\n".join(rows))
    return "\n\n".join(parts) + "\n"
