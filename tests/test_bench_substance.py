"""The staleness rule's comparison of code in substance (bench/substance.py): a change that
cannot move a figure (docstrings, comments, layout, imports, which measured file holds a
definition) keeps a result current; a change of a value or a body does not."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def substance():
    spec = importlib.util.spec_from_file_location("amcli_bench_substance",
                                                  ROOT / "bench" / "substance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULE = '''"""A module."""
from __future__ import annotations

import math

__all__ = ["area", "Circle"]


def area(radius: float, scale: float = 1.0) -> float:
    """The area."""
    return scale * math.pi * radius ** 2  # by hand


class Circle:
    """A circle."""

    def __init__(self, radius):
        import torch  # lazy
        self.radius = torch.tensor(radius)
'''

REWORDED = '''from math import pi as _unused  # an import changed
import math


def area(radius: float,
         scale: float = 1.0) -> float:
    """The area of a disc, reworded."""
    # a new comment
    return scale * math.pi * radius ** 2


class Circle:
    def __init__(self, radius):
        from torch import tensor  # another lazy import
        import torch
        self.radius = torch.tensor(radius)
'''


def test_docstrings_comments_layout_and_imports_are_not_substance(substance):
    assert substance.python_substance(MODULE) == substance.python_substance(REWORDED)


@pytest.mark.parametrize("edit", [("scale: float = 1.0", "scale: float = 2.0"),
                                  ("radius ** 2", "radius ** 3"),
                                  ("self.radius = torch", "self.r = torch")])
def test_a_value_or_a_body_is_substance(substance, edit):
    assert substance.python_substance(MODULE) != \
        substance.python_substance(MODULE.replace(*edit))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout.strip()


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD")


def test_moving_code_between_measured_files_keeps_the_substance(substance, tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "conf").mkdir()
    git(tmp_path, "init", "-q")
    (tmp_path / "pkg" / "shapes.py").write_text(MODULE)
    (tmp_path / "conf" / "run.yaml").write_text("steps: 300  # the default\nlr: 0.05\n")
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    first = commit_all(tmp_path, "first")
    measures = ("pkg", "conf", "weights.bin")

    # split the module in two, reword, re-comment the YAML: nothing that can move a figure
    head, _, circle = MODULE.partition("class Circle:")
    (tmp_path / "pkg" / "shapes.py").write_text(head.replace("The area.", "Area."))
    (tmp_path / "pkg" / "circle.py").write_text('"""Split off."""\nclass Circle:' + circle)
    (tmp_path / "conf" / "run.yaml").write_text("# comments only\nsteps: 300\nlr: 0.05\n")
    tidy = commit_all(tmp_path, "tidy")
    assert not substance.changed(first, tidy, measures, root=tmp_path)

    # a value in the YAML, a default in the code, a changed weight file: each one counts
    for path, before, after in [("conf/run.yaml", "lr: 0.05", "lr: 0.1"),
                                ("pkg/shapes.py", "scale: float = 1.0", "scale: float = 2.0")]:
        text = (tmp_path / path).read_text()
        (tmp_path / path).write_text(text.replace(before, after))
        edited = commit_all(tmp_path, f"edit {path}")
        assert substance.changed(first, edited, measures, root=tmp_path), path
        (tmp_path / path).write_text(text)
        commit_all(tmp_path, f"undo {path}")
    # a new weight file cannot have been read by a result measured before it existed
    (tmp_path / "new_model.bin").write_bytes(b"\x07")
    added = commit_all(tmp_path, "a new model")
    assert not substance.changed(first, added, ("pkg", "conf", "weights.bin", "new_model.bin"),
                                 root=tmp_path)
    # new code does count: a plug-in is found by listing its package
    (tmp_path / "pkg" / "plugin.py").write_text("def extra():\n    return 1\n")
    plugin = commit_all(tmp_path, "a plug-in")
    assert substance.changed(added, plugin, measures, root=tmp_path)
    (tmp_path / "pkg" / "plugin.py").unlink()
    commit_all(tmp_path, "no plug-in")
    (tmp_path / "weights.bin").write_bytes(b"\x00\x02")
    retrained = commit_all(tmp_path, "retrain")
    assert substance.changed(first, retrained, measures, root=tmp_path)
    # a file outside the measured paths is not looked at; an excluded one neither
    assert not substance.changed(first, retrained, ("pkg", "conf"), root=tmp_path)
    assert not substance.changed(first, retrained, ("pkg", "conf", "weights.bin",
                                                    ":(exclude)weights.bin"), root=tmp_path)


def test_the_closure_follows_lazy_imports_packages_and_plugins(tmp_path):
    """bench/closure.py: what an entry module runs includes what it imports inside functions,
    the packages above each module, and every module of a package that discovers its modules;
    a skipped file is neither counted nor followed; a module nobody imports is not counted."""
    spec = importlib.util.spec_from_file_location("amcli_bench_closure",
                                                  ROOT / "bench" / "closure.py")
    closure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(closure)
    files = {
        "amcli/__init__.py": "",
        "amcli/cmd.py": "from amcli.core import run\ndef main():\n    from .lazy import x\n",
        "amcli/core/__init__.py": "from .loop import run\n",
        "amcli/core/loop.py": "import amcli.plugins\n",
        "amcli/lazy.py": "x = 1\n",
        "amcli/plugins/__init__.py": "import pkgutil\nfor i in pkgutil.iter_modules(__path__):\n"
                                     "    pass\n",
        "amcli/plugins/a.py": "from amcli.only_a import y\n",
        "amcli/plugins/b.py": "",
        "amcli/only_a.py": "y = 2\n",
        "amcli/unused.py": "",
    }
    found = closure.closure(["amcli.cmd"], set(files), files.__getitem__)
    assert found == set(files) - {"amcli/unused.py"}
    skipping_a = closure.closure(["amcli.cmd"], set(files), files.__getitem__,
                                 skip=lambda path: path == "amcli/plugins/a.py")
    assert skipping_a == set(files) - {"amcli/unused.py", "amcli/plugins/a.py", "amcli/only_a.py"}


def test_a_module_turned_into_a_package_stays_measured(substance, tmp_path):
    """A measured path without its suffix names the module and the package alike, so a module
    split into a package of the same name keeps its substance."""
    (tmp_path / "pkg").mkdir()
    git(tmp_path, "init", "-q")
    (tmp_path / "pkg" / "shapes.py").write_text(MODULE)
    first = commit_all(tmp_path, "a module")
    head, _, circle = MODULE.partition("class Circle:")
    (tmp_path / "pkg" / "shapes.py").unlink()
    (tmp_path / "pkg" / "shapes").mkdir()
    (tmp_path / "pkg" / "shapes" / "__init__.py").write_text(head)
    (tmp_path / "pkg" / "shapes" / "circle.py").write_text("class Circle:" + circle)
    split = commit_all(tmp_path, "a package")
    assert set(substance.files(first, ("pkg/shapes",), root=tmp_path)) == {"pkg/shapes.py"}
    assert not substance.changed(first, split, ("pkg/shapes",), root=tmp_path)


def test_an_excluded_definition_is_left_out_wherever_it_lives(substance, tmp_path):
    """Another command's schema, registered in a measured package, is left out by name: its
    edits and its move to a file of its own change nothing; the code around it still counts."""
    (tmp_path / "pkg").mkdir()
    git(tmp_path, "init", "-q")
    config = ("class RunConfig:\n    steps: int = 300\n\n\n"
              "class SynthConfig:\n    clips: int = 100\n")
    (tmp_path / "pkg" / "config.py").write_text(config)
    first = commit_all(tmp_path, "one file")
    measures = ("pkg", ":(exclude-def)SynthConfig")
    (tmp_path / "pkg" / "config.py").write_text("class RunConfig:\n    steps: int = 300\n")
    (tmp_path / "pkg" / "synth.py").write_text(
        "class SynthConfig:\n    clips: int = 100\n    stretch: float = 0.3\n")
    moved = commit_all(tmp_path, "own module, new field")
    assert not substance.changed(first, moved, measures, root=tmp_path)
    assert substance.changed(first, moved, ("pkg",), root=tmp_path)
    (tmp_path / "pkg" / "config.py").write_text("class RunConfig:\n    steps: int = 200\n")
    edited = commit_all(tmp_path, "run default")
    assert substance.changed(first, edited, measures, root=tmp_path)
