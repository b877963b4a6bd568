"""The docs cannot rot: the site builds with --strict, the option reference lists every key a
command composes, and the tutorials' code blocks run, in order, in an empty folder.

A tutorial page's blocks are run like this: a ``python title="file.py"`` block is written to that
file; any other ``python`` block is executed (one namespace per page); each command of a ``bash``
block must be ``amcli ...`` (optionally after ``PYTHONPATH=.``), run in-process and expected to
exit 0. A block that must not run here (it needs a cluster, a dataset you have and the tests do
not) is preceded by ``<!-- docs-test: skip -->``; anything else in a bash block is an error, so
a page cannot quietly skip a step.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from amcli import reference
from amcli.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted([DOCS / "getting-started.md", *(DOCS / "tutorials").glob("*.md")])
FENCE = re.compile(r"(<!-- docs-test: skip -->\s*\n)?```(\w+)([^\n]*)\n(.*?)\n```", re.S)


def blocks(page: Path) -> list[tuple[str, str, str]]:
    """(language, info, code) of every fenced block that is to run."""
    return [(lang, info, code) for skip, lang, info, code in FENCE.findall(page.read_text())
            if not skip]


def commands(code: str) -> list[str]:
    """A bash block's commands: continuation lines joined, comments and blanks dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line.split("  #")[0].strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def run_command(line: str) -> None:
    words = shlex.split(line)
    extra_path = None
    if words and words[0] == "PYTHONPATH=.":
        extra_path, words = os.getcwd(), words[1:]
    assert words and words[0] == "amcli", (
        f"only amcli commands run in a tested bash block: {line!r}; mark the block "
        "<!-- docs-test: skip --> if it must not run in the tests")
    if extra_path:
        sys.path.insert(0, extra_path)
    try:
        code = main(words[1:])
    finally:
        if extra_path:
            sys.path.remove(extra_path)
    assert code == 0, f"{line} exited {code}"


@pytest.mark.slow
@pytest.mark.parametrize("page", TUTORIALS, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_tutorial_code_runs(page: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict[str, object] = {"__name__": "__tutorial__"}
    runnable = blocks(page)
    assert runnable, f"{page.name} has no code that the tests run"
    for lang, info, code in runnable:
        title = re.search(r'title="([^"]+)"', info)
        if lang == "python" and title:
            Path(title.group(1)).write_text(code + "\n")
        elif lang == "python":
            exec(compile(code, f"{page.name}", "exec"), namespace)  # noqa: S102
        elif lang == "bash":
            for line in commands(code):
                run_command(line)
    for name in [m for m in sys.modules if (tmp_path / f"{m}.py").exists()]:
        del sys.modules[name]


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """Broken links, missing pages in the nav and bad markers fail the build."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                             "-d", str(tmp_path / "site")], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    page = (tmp_path / "site" / "reference" / "commands" / "index.html").read_text()
    assert "<!-- amcli:" not in page and "mask.area" in page
    schema_page = (tmp_path / "site" / "reference" / "metrics-json" / "index.html").read_text()
    assert "binarized_prob" in schema_page


def _leaf_keys(node: object, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [k for key, value in node.items() for k in _leaf_keys(value, f"{prefix}{key}.")]
    return [prefix[:-1]]


@pytest.mark.parametrize("command,overrides", [
    *((name, []) for name in reference.CONFIG_NAMES),
    *(("optimize", [f"method={m}"]) for m in ("input", "latent", "prosody")),
    ("train-classifier", ["model=hf"]),
])
def test_the_reference_lists_every_key_of_cfg_job(command, overrides, capsys) -> None:
    capsys.readouterr()
    assert main([command, *overrides, "--cfg", "job"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    page = reference.command_reference(command)
    # a null node of another method (signal: null with method=mask) is documented as its keys
    missing = [key for key in _leaf_keys(printed)
               if f"| `{key}` |" not in page and f"| `{key}." not in page]
    assert not missing, missing


@pytest.mark.parametrize("command", list(reference.CONFIG_NAMES))
def test_every_option_says_what_it_does(command) -> None:
    assert reference.undocumented(command) == []


def test_no_page_points_outside_the_project() -> None:
    outside = ("DESIGN" + ".md", "METHODS" + ".md")
    files = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "setup.py", *DOCS.rglob("*.md")]
    files += [p for folder in ("amcli", "tests", "bench", "scripts")
              for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".sh", ".yaml", ".md")]
    assert not [str(p) for p in files if any(name in p.read_text() for name in outside)]


def test_the_pesto_example_is_the_one_the_tutorial_shows() -> None:
    page = (DOCS / "tutorials" / "own-model.md").read_text()
    shown = [code for lang, info, code in blocks(DOCS / "tutorials" / "own-model.md")
             if 'title="pesto_bands.py"' in info]
    assert page and shown == [(ROOT / "examples" / "pesto_bands.py").read_text().rstrip("\n")]
