"""Shared fixtures: the CLI called in-process, and espeak-ng availability."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from amcli.cli import COMMANDS, main

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two test workers share the two cores: one torch thread each, so neither oversubscribes.
    torch.set_num_threads(1)
from amcli.report.schema import validate_metrics


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``amcli <args>`` in-process with Hydra's output dirs under tmp_path (the first
    call's run folder is tmp_path/run, later calls' run2, run3, ...: a run folder holds one
    run); every metrics.json the call writes is validated against the published schema."""
    calls = []

    def run(*args: str) -> CliResult:
        argv = list(args)
        calls.append(argv)
        if argv and argv[0] in COMMANDS:
            run_name = "run" if len(calls) == 1 else f"run{len(calls)}"
            for key, folder in (("hydra.run.dir", run_name), ("hydra.sweep.dir", "sweep")):
                if not any(a.startswith(f"{key}=") for a in argv):
                    argv.append(f"{key}={tmp_path / folder}")
        capsys.readouterr()
        started = time.time()
        code = main(argv)
        captured = capsys.readouterr()
        _validate_written_metrics(argv, started)
        return CliResult(code, captured.out, captured.err)

    return run


def _validate_written_metrics(argv: list[str], since: float) -> None:
    folders = [Path(a.split("=", 1)[1]) for a in argv
               if a.startswith(("hydra.run.dir=", "hydra.sweep.dir="))]
    for folder in folders:
        for path in folder.rglob("metrics.json") if folder.is_dir() else ():
            if path.stat().st_mtime >= since - 1:
                validate_metrics(strict_json(path.read_text()))


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON (jq and JSON.parse reject it); write null")


def strict_json(text: str):
    """Parse JSON as strict parsers do: NaN, Infinity and -Infinity are refused."""
    return json.loads(text, parse_constant=_not_json)


@pytest.fixture
def espeak() -> None:
    """espeak-ng must be there in CI (.ci/run installs it); elsewhere its tests are skipped."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is missing in CI; .ci/run must install it")
        pytest.skip("espeak-ng is not installed (sudo apt-get install espeak-ng)")


#: tiny random spectrogram transformers (AST, Whisper encoder): the config fields
SPECTROGRAM_TRANSFORMERS = {
    "audio-spectrogram-transformer": dict(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        num_mel_bins=64, max_length=100, patch_size=16, frequency_stride=16, time_stride=16),
    "whisper": dict(
        d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=40,
        max_source_positions=100, classifier_proj_size=16),
}


@pytest.fixture(scope="session")
def spectrogram_transformers(tmp_path_factory) -> dict[str, Path]:
    """{model type: folder} of tiny random AST and Whisper classifiers (neutral, happy, sad)
    with their feature extractors, as save_pretrained writes them."""
    pytest.importorskip("transformers", reason="the dev extra installs transformers")
    from amcli.models.hf_training import init_hf_folder

    root = tmp_path_factory.mktemp("spectrogram_transformers")
    return {kind: init_hf_folder(root / kind, kind, ["neutral", "happy", "sad"], **sizes)
            for kind, sizes in SPECTROGRAM_TRANSFORMERS.items()}


@pytest.fixture(scope="session")
def clap_folder(tmp_path_factory) -> Path:
    """A tiny random CLAP model (HTSAT audio tower, RoBERTa-style text tower) with its feature
    extractor (16 kHz, 2 s window, "rand_trunc") and a word-level tokenizer, as save_pretrained
    writes them."""
    pytest.importorskip("transformers", reason="the dev extra installs transformers")
    from amcli.models.clap import init_clap_folder

    prompts = ["an angry voice", "a calm voice", "a dog barking", "a sad voice"]
    return init_clap_folder(tmp_path_factory.mktemp("clap") / "clap", prompts, tiny=True)


@pytest.fixture(scope="session")
def bench_views():
    """bench/views.py as a module: the renderer of bench result files (bench/ is not a
    package; its scripts import their siblings as when run)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "views.py"
    spec = importlib.util.spec_from_file_location("amcli_bench_views", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
