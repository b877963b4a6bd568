"""Nothing outside ``amcli/am/methods/`` names a method: the command, the report, the summaries
and the library ask the method (``AMMethod``) instead of branching on its name, so adding a
method is one module (and its YAML) and nothing else.

What counts as naming a method, in amcli's code outside that package: a string that is a
method's name, its config key, its record key or its library name, used to look something up or
to decide (compared, subscripted, a dict key, a ``.get``/``get_method`` argument, a default
value). A word that is also a field of every item (``input``: the item's input clip) is only
caught where it is compared with a method."""

from __future__ import annotations

import ast
from pathlib import Path

from amcli.am.methods import METHODS
from amcli.report.record import ItemCore

PACKAGE = Path(__file__).resolve().parents[1] / "amcli"
OWN = PACKAGE / "am" / "methods"


def method_words() -> tuple[set[str], set[str]]:
    """(words caught anywhere they decide, words caught only when compared with a method)."""
    words = {w for m in METHODS.values()
             for w in (m.name, m.config_key, m.record_key, m.library_name) if w}
    shared = words & set(ItemCore.__annotations__)
    return words - shared, shared


def _strings(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _mentions_method(node: ast.AST) -> bool:
    return "method" in ast.unparse(node).lower()


def namings(tree: ast.AST, anywhere: set[str], compared: set[str]) -> list[tuple[int, str]]:
    """(line, word) of every place ``tree`` decides by a method's name."""
    found: list[ast.Constant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            words = anywhere | (compared if any(_mentions_method(s) for s in sides) else set())
            found += [c for s in sides for c in _strings(s) if c.value in words]
        elif isinstance(node, ast.Subscript):
            found += [c for c in _strings(node.slice) if c.value in anywhere]
        elif isinstance(node, ast.Dict):
            found += [k for k in node.keys if isinstance(k, ast.Constant) and k.value in anywhere]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", "")
            if name in ("get", "pop", "setdefault", "get_method") and node.args:
                words = anywhere | (compared if name == "get_method" else set())
                found += [c for c in _strings(node.args[0]) if c.value in words]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defaults = [*node.args.defaults, *node.args.kw_defaults]
            found += [d for d in defaults if isinstance(d, ast.Constant)
                      and d.value in anywhere | compared]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant):
            if node.value.value in anywhere | compared:
                found.append(node.value)
    return sorted({(c.lineno, c.value) for c in found})


def test_no_module_outside_the_methods_names_a_method():
    anywhere, compared = method_words()
    assert {"mask", "prosody", "latent", "signal"} <= anywhere  # the scan knows the methods
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if OWN in path.parents:
            continue
        for line, word in namings(ast.parse(path.read_text()), anywhere, compared):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} names '{word}'")
    assert not offenders, "\n".join(offenders)


def test_the_scan_catches_each_way_of_naming_a_method():
    anywhere, compared = method_words()
    code = '''
if run["method"] == "mask": pass
x = item.get("prosody")
y = record["latent"]
z = {"mask": 1}
def f(method="prosody"): pass
class C:
    method: str = "input"
ok = item.get("input")  # the item's input clip, not the method
also_ok = label == "input"
'''
    assert [word for _, word in namings(ast.parse(code), anywhere, compared)] == [
        "mask", "prosody", "latent", "mask", "prosody", "input"]
