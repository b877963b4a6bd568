"""A regular (non-editable) install ships conf/ and checkpoints/ and works from another folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # builds and installs a wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    return next(out.glob("amcli-*.whl"))


def test_wheel_contains_configs_checkpoints_and_examples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for config in ("synth", "optimize", "train_classifier", "evaluate", "list", "model/crnn_mel",
                   "data/ravdess"):
        assert f"amcli/conf/{config}.yaml" in names
    # every file the repository ships as a checkpoint or example, transformers folders included
    shipped = [f.relative_to(ROOT / "checkpoints").as_posix()
               for f in (ROOT / "checkpoints").rglob("*")
               if f.suffix in (".json", ".safetensors", ".wav")]
    assert len(shipped) > 30
    missing = [f for f in shipped if f"amcli/checkpoints/{f}" not in names]
    assert not missing, missing
    # every package of the source tree (found, not listed)
    packages = [p.parent.relative_to(ROOT) for p in (ROOT / "amcli").rglob("__init__.py")]
    assert len(packages) > 8
    for package in packages:
        assert f"{package.as_posix()}/__init__.py" in names, package
    for module in ("cli/dispatch.py", "am/prosody/lobes.py"):
        assert f"amcli/{module}" in names
    assert "amcli/checkpoints/__init__.py" in names
    for label in ("neutral", "happy", "sad", "angry"):
        assert f"amcli/checkpoints/examples/{label}.wav" in names


def test_installed_wheel_runs_from_another_directory(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = (
        "import amcli, amcli.resources as r; "
        "print(amcli.__file__); print(r.example_clip('angry').is_file())"
    )
    found = subprocess.run([sys.executable, "-c", probe], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=120, check=True)
    module_file, example_exists = found.stdout.split()
    assert Path(module_file).is_relative_to(site)  # the installed copy, not the checkout
    assert example_exists == "True"
    cfg = subprocess.run(
        [sys.executable, "-m", "amcli", "synth", "--cfg", "job", "n_per_class=3"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
    )
    assert cfg.returncode == 0, cfg.stderr
    assert "n_per_class: 3" in cfg.stdout
    methods = subprocess.run(  # the method plug-ins and their config group ship too
        [sys.executable, "-m", "amcli", "optimize", "--cfg", "job", "method=latent",
         "prior=cgan"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
    )
    assert methods.returncode == 0, methods.stderr
    assert "init_candidates: 8" in methods.stdout and "kind: cgan" in methods.stdout
