"""The package's layers only point down: a module may import from its own layer and the layers
below it, never from one above (the contract docs/design.md draws). Imports inside functions
count too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "amcli"

#: top to bottom; a module belongs to the layer of its longest matching prefix
LAYERS: list[tuple[str, ...]] = [
    ("amcli.__main__", "amcli.cli", "amcli.commands", "amcli.api"),
    ("amcli.report", "amcli.reference"),
    ("amcli.config",),
    ("amcli.am.methods",),  # a method may use the metrics that judge it (its controls)
    ("amcli.metrics",),
    ("amcli.train",),
    ("amcli.am", "amcli.am.methods.base"),  # the loop, and the interface methods implement
    ("amcli.models", "amcli.data"),
    ("amcli.features", "amcli.audio", "amcli.activity", "amcli.bounds", "amcli.run_folder",
     "amcli.resources", "amcli.device", "amcli.invocation", "amcli.workers", "amcli.families"),
    ("amcli.files", "amcli.errors"),
    ("amcli",),  # the package's own __init__ (its version)
]


#: package facades that re-export a higher layer: their __init__ sits with it
FACADES = {"amcli.am": "amcli.am.methods"}


def layer_of(module: str) -> int:
    """The layer of ``module`` (a facade package's is the layer of what it re-exports: importing
    it imports that)."""
    module = FACADES.get(module, module)
    matches = [(len(prefix), i) for i, layer in enumerate(LAYERS) for prefix in layer
               if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def amcli_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "amcli" or name.startswith("amcli.")}


def test_every_import_points_down_or_sideways():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for imported in amcli_imports(path):
            if layer_of(imported) < layer_of(module):
                upward.append(f"{module} imports {imported}")
    assert not upward, "\n".join(upward)


def test_the_contract_catches_an_upward_import(tmp_path):
    assert layer_of("amcli.metrics.masks") < layer_of("amcli.am.optimize")
    assert layer_of("amcli.am.methods.mask") < layer_of("amcli.metrics.masks")
    assert layer_of("amcli.files") > layer_of("amcli.models.hf")
    fake = tmp_path / "m.py"
    fake.write_text("def f():\n    from amcli.report.html import render\n")
    assert amcli_imports(fake) == {"amcli.report.html"}


def test_the_library_below_the_commands_and_schemas_never_imports_hydra():
    """Hydra is the commands' business: the library under them (reports, methods, metrics, the
    AM core, models, data, ...) works from Python without it; what a run needs of Hydra's state
    (its folder, overrides, sweep) reaches it as a RunContext. amcli.reference renders the
    commands' option reference from their Hydra configs: it is the commands' too."""
    config = layer_of("amcli.config")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        if layer_of(module) == config or layer_of(module) < config - 1 or \
                module == "amcli.reference":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{module} imports {n}" for n in names
                      if n.split(".")[0] in ("hydra", "omegaconf")]
    assert not found, "\n".join(found)
