"""amcli.am, amcli.models and amcli.train import without Hydra, librosa or soundfile: a machine
with only torch (a bare GPU node) can use them."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_core_packages_import_without_hydra_librosa_soundfile():
    blocked = ["hydra", "omegaconf", "librosa", "soundfile"]
    code = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None  # any import of it now fails\n"
        "import amcli.am, amcli.models, amcli.train, amcli.features\n"
        "import amcli.train.gan, amcli.models.gan, amcli.models.checkpoint\n"
        "from amcli.models import build_classifier\n"
        "from amcli.models.gan import build_gan\n"
        "model = build_classifier('crnn_mel', ['a', 'b'], 16000)\n"
        "gen, disc = build_gan('raw', ['a', 'b'], True, width=2)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


#: import names whose distribution is called otherwise
DISTRIBUTION = {"hydra": "hydra-core", "yaml": "pyyaml", "sklearn": "scikit-learn",
                "pesto": "pesto-pitch"}


def test_every_package_amcli_imports_is_declared():
    """Each third-party module imported anywhere in amcli (at the top of a file or inside a
    function) is a dependency or belongs to an extra of pyproject.toml: nothing works by
    accident of what another package happened to install."""
    import ast
    import re
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"],
                    *(r for extra in project["optional-dependencies"].values() for r in extra)]
    declared = {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}
    imported = set()
    for path in (root / "amcli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"amcli"}
    assert {"torch", "hydra", "yaml", "pyworld"} <= third_party  # the scan sees lazy imports
    undeclared = sorted(m for m in third_party if DISTRIBUTION.get(m, m).lower() not in declared)
    assert not undeclared, f"imported by amcli but not in pyproject.toml: {undeclared}"
