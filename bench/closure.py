"""The amcli modules some code runs: the import closure of entry modules, read from a tree.

A bench names what its figures depend on. Listing files by hand misses dependencies (a bench that
ran mel models but did not list the feature extraction) and keeps ones it no longer has; the
modules a command runs are what it imports, directly or not. This follows every ``amcli`` import
statement of every module reached, wherever it stands (a lazy import inside a function is still a
dependency), the packages above each module (importing ``a.b.c`` runs ``a/__init__`` and
``a/b/__init__``), and, for a package that discovers its modules at run time
(``pkgutil.iter_modules(__path__)``, as ``amcli.am.methods`` does), every module in it.

Modules looked up by a string at run time elsewhere (the dispatcher's command table, a user's
``custom.target``) are not followed: an entry names the command module itself.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from functools import lru_cache

PACKAGE = "amcli"
DISCOVERS = "pkgutil.iter_modules(__path__)"


def module_path(name: str, paths: set[str]) -> str | None:
    """The file of module ``name`` among ``paths`` (a module file, or a package's __init__)."""
    base = name.replace(".", "/")
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if candidate in paths:
            return candidate
    return None


@lru_cache(maxsize=8192)
def imported(source: str, name: str, is_package: bool) -> tuple[str, ...]:
    """The amcli module names an import statement of module ``name`` may bring in (a name
    imported from a package may be a submodule: both are offered, and only real files count)."""
    package = name if is_package else name.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found += [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return tuple(found)


def closure(entries: Iterable[str], paths: set[str], read: Callable[[str], str],
            skip: Callable[[str], bool] = lambda path: False) -> set[str]:
    """The files of the modules ``entries`` run, among ``paths`` (a tree's files), reading a
    file's text with ``read``; a file for which ``skip`` is true is neither counted nor
    followed (the own files of AM methods a result did not run)."""
    found: set[str] = set()
    todo = list(entries)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or not (name == PACKAGE or name.startswith(PACKAGE + ".")):
            continue
        seen.add(name)
        path = module_path(name, paths)
        if path is None or skip(path):
            continue
        found.add(path)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        source = read(path)
        is_package = path.endswith("/__init__.py")
        todo.extend(imported(source, name, is_package))
        if is_package and DISCOVERS in source:
            folder = path.rpartition("/")[0]
            todo.extend(f"{name}.{p[len(folder) + 1:-3]}" for p in paths
                        if p.startswith(folder + "/") and p.endswith(".py")
                        and "/" not in p[len(folder) + 1:] and not p.endswith("/__init__.py"))
    return found
