"""Whether the code a result measures changed in substance between two commits.

A bench result goes stale when the code behind its figures changes (see bench/run_all.sh). A
path-based rule alone also condemns every result after a change that cannot move a figure: a
docstring reworded, a comment in a YAML file, a module split in two. Those are the changes a
codebase needs most often, so the rule would make tidying the core cost hours of re-measuring.

This module compares the *substance* of the measured files at two commits, each found at its
own commit (a bench's ``module:NAME`` entries are the files of the modules NAME runs *then*: see
bench/closure.py), so a module renamed or split between them is followed:

- Python: every statement of every measured module, with docstrings, comments, formatting and
  import statements left out, as a multiset of AST dumps. Which file of the measured paths holds a
  definition does not matter, so moving a function from one measured module to another keeps its
  substance; any change to a body, a default, a constant or a class does not.
- YAML: the parsed data, by path (a comment is not substance; a value is).
- Anything else (checkpoints, ...): the file's content, by path; a new one (a checkpoint added
  after the result) cannot have been measured and does not count.

A ``:(exclude-def)NAME`` entry leaves out the top-level class or function ``NAME`` wherever the
measured files hold it: a definition a measured module carries but the measured command never
runs (another command's schema, registered in the same config package). Excluding its file
instead would fail for the results measured while it still shared a file with measured code.

What it leaves out, knowingly: an import statement that binds the same name to a different
object (for example ``from a import f`` changed to ``from b import f``) counts as no change; a
rename of a module that code looks up by name at run time (``importlib``) is not seen.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bench") not in sys.path:  # bench/ is not a package; its scripts import siblings
    sys.path.insert(0, str(ROOT / "bench"))
from closure import closure  # noqa: E402

#: the substance of some files: a multiset of (kind, path or "", text) entries
Substance = Counter


def _git(*args: str, root: Path = ROOT) -> bytes:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout


def _under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix``, in it, or the module ``prefix`` names (``a/b`` covers
    ``a/b.py`` as well as the package ``a/b/``: a module turned into a package stays measured)."""
    prefix = prefix.rstrip("/")
    return path in (prefix, prefix + ".py") or path.startswith(prefix + "/")


@lru_cache(maxsize=64)
def _listing(commit: str, root: Path) -> dict[str, str]:
    """Every file of ``commit`` (a full hash): path -> blob id."""
    listing = _git("ls-tree", "-r", "--full-tree", commit, root=root).decode()
    files = {}
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        _mode, kind, blob = meta.split()
        if kind == "blob":
            files[path] = blob
    return files


@lru_cache(maxsize=8192)
def _text(blob: str, root: Path) -> str:
    return _git("cat-file", "blob", blob, root=root).decode("utf-8", errors="replace")


def files(commit: str, measures: tuple[str, ...], root: Path = ROOT) -> dict[str, str]:
    """The measured files at ``commit`` (path -> blob id). ``measures`` holds path prefixes,
    ``module:NAME`` entries (the files of the modules NAME runs, found at that commit: see
    bench/closure.py) and ``:(exclude)PATH`` exclusions (git's pathspec magic, the only one
    bench/views.measures_of writes), which also stop the closure from following a module."""
    full = _git("rev-parse", f"{commit}^{{commit}}", root=root).decode().strip()
    listing = _listing(full, root)
    excluded = [m[len(":(exclude)"):] for m in measures if m.startswith(":(exclude)")]
    modules = [m[len("module:"):] for m in measures if m.startswith("module:")]
    prefixes = [m for m in measures if not m.startswith((":(exclude", "module:"))]

    def skip(path: str) -> bool:
        return any(_under(path, e) for e in excluded)

    reached = closure(modules, set(listing), lambda path: _text(listing[path], root), skip)
    return {path: blob for path, blob in listing.items()
            if (path in reached or any(_under(path, p) for p in prefixes)) and not skip(path)}


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


@lru_cache(maxsize=8192)
def _entries(path: str, blob: str, root: Path) -> tuple[tuple[str, str, str], ...]:
    """The substance entries of one file (a blob id names its content, so it caches)."""
    if path.endswith(".py"):
        try:
            return tuple(("python", "", dump) for dump in python_substance(_text(blob, root)))
        except (SyntaxError, UnicodeDecodeError):
            pass
    elif path.endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(_text(blob, root))
            return (("yaml", path, repr(data)),)
        except (yaml.YAMLError, UnicodeDecodeError):
            pass
    return (("file", path, blob),)


#: files whose additions count: code and configuration, which a new file can change (a method
#: plug-in is found by listing its package); any other file that appears after a result was
#: measured cannot have been read by it
COUNTS_WHEN_ADDED = (".py", ".yaml", ".yml")


def _substance(selected: dict[str, str], root: Path) -> Substance:
    found: Substance = Counter()
    for path, blob in selected.items():
        found.update(_entries(path, blob, root))
    return found


#: the measures entry that leaves a top-level definition out, by name
EXCLUDE_DEF = ":(exclude-def)"


def _without_definitions(found: Substance, measures: tuple[str, ...]) -> Substance:
    """``found`` less the top-level classes and functions the ``:(exclude-def)`` entries name."""
    names = [m[len(EXCLUDE_DEF):] for m in measures if m.startswith(EXCLUDE_DEF)]
    heads = tuple(f"{kind}({name!r}," for name in names
                  for kind in ("ClassDef", "FunctionDef", "AsyncFunctionDef"))
    if not heads:
        return found
    return Counter({entry: n for entry, n in found.items()
                    if not (entry[0] == "python" and entry[2].startswith(heads))})


def substance(commit: str, measures: tuple[str, ...], root: Path = ROOT) -> Substance:
    """The substance of the measured files at ``commit`` (see the module's docstring)."""
    return _without_definitions(_substance(files(commit, measures, root), root), measures)


def changed(before: str, after: str, measures: tuple[str, ...], root: Path = ROOT) -> bool:
    """Whether the measured code differs in substance between the two commits of the git
    repository at ``root``. A data file (a checkpoint, a clip) added after ``before`` does not
    count: the measurement cannot have read it; changing or removing one does."""
    old, new = files(before, measures, root), files(after, measures, root)
    new = {path: blob for path, blob in new.items()
           if path in old or path.endswith(COUNTS_WHEN_ADDED)}
    return _without_definitions(_substance(old, root), measures) \
        != _without_definitions(_substance(new, root), measures)
