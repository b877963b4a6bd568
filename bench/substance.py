"""Whether the code a result measures changed in substance between two commits.

A bench result goes stale when the code behind its figures changes (see bench/run_all.sh). A
path-based rule alone also condemns every result after a change that cannot move a figure: a
docstring reworded, a comment in a YAML file, a module split in two. Those are the changes a
codebase needs most often, so the rule would make tidying the core cost hours of re-measuring.

This module compares the *substance* of the measured files at two commits:

- Python: every statement of every measured module, with docstrings, comments, formatting and
  import statements left out, as a multiset of AST dumps. Which file of the measured paths holds a
  definition does not matter, so moving a function from one measured module to another keeps its
  substance; any change to a body, a default, a constant or a class does not.
- YAML: the parsed data, by path (a comment is not substance; a value is).
- Anything else (checkpoints, ...): the file's content, by path.

What it leaves out, knowingly: an import statement that binds the same name to a different
object (for example ``from a import f`` changed to ``from b import f``) counts as no change; a
rename of a module that code looks up by name at run time (``importlib``) is not seen.
"""

from __future__ import annotations

import ast
import subprocess
from collections import Counter
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

#: the substance of some files: a multiset of (kind, path or "", text) entries
Substance = Counter


def _git(*args: str, root: Path = ROOT) -> bytes:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout


def _selected(path: str, measures: tuple[str, ...]) -> bool:
    """Whether ``path`` is under one of ``measures`` and under none of its exclusions (git
    pathspecs of the form ":(exclude)PATH", the only magic bench/views.measures_of writes)."""
    def under(prefix: str) -> bool:
        prefix = prefix.rstrip("/")
        return path == prefix or path.startswith(prefix + "/")

    included = [m for m in measures if not m.startswith(":(exclude)")]
    excluded = [m[len(":(exclude)"):] for m in measures if m.startswith(":(exclude)")]
    return any(under(m) for m in included) and not any(under(m) for m in excluded)


def _tree(commit: str, measures: tuple[str, ...], root: Path) -> list[tuple[str, str]]:
    """(path, blob id) of every measured file at ``commit``."""
    listing = _git("ls-tree", "-r", "--full-tree", commit, root=root).decode()
    files = []
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        _mode, kind, blob = meta.split()
        if kind == "blob" and _selected(path, measures):
            files.append((path, blob))
    return files


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


class _Normalize(ast.NodeTransformer):
    """Drops docstrings and import statements, wherever they are (the result is only dumped,
    never compiled, so a body left empty stays empty)."""

    def visit_Import(self, node: ast.AST) -> None:
        return None

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node: ast.AST) -> ast.AST:
        if node.body and _is_docstring(node.body[0]):
            node.body = node.body[1:]
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef


def python_substance(source: str) -> list[str]:
    """The module's statements without docstrings, imports, comments or layout, one AST dump
    each (``__all__`` is left out too: it lists names, it computes nothing)."""
    body = ast.parse(source).body
    if body and _is_docstring(body[0]):
        body = body[1:]
    entries = []
    for stmt in body:
        stmt = _Normalize().visit(stmt)
        if stmt is None or (isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets)):
            continue
        entries.append(ast.dump(stmt, annotate_fields=False))
    return entries


@lru_cache(maxsize=4096)
def _entries(path: str, blob: str, root: Path) -> tuple[tuple[str, str, str], ...]:
    """The substance entries of one file (a blob id names its content, so it caches)."""
    if path.endswith(".py"):
        try:
            return tuple(("python", "", dump) for dump in
                         python_substance(_git("cat-file", "blob", blob, root=root).decode()))
        except (SyntaxError, UnicodeDecodeError):
            pass
    elif path.endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(_git("cat-file", "blob", blob, root=root).decode())
            return (("yaml", path, repr(data)),)
        except (yaml.YAMLError, UnicodeDecodeError):
            pass
    return (("file", path, blob),)


def substance(commit: str, measures: tuple[str, ...], root: Path = ROOT) -> Substance:
    """The substance of the measured files at ``commit`` (see the module's docstring)."""
    found: Substance = Counter()
    for path, blob in _tree(commit, measures, root):
        found.update(_entries(path, blob, root))
    return found


def changed(before: str, after: str, measures: tuple[str, ...], root: Path = ROOT) -> bool:
    """Whether the measured code differs in substance between the two commits of the git
    repository at ``root``."""
    return substance(before, measures, root) != substance(after, measures, root)
