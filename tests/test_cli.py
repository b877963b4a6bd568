"""The dispatcher: commands, Hydra's flags per command, errors and exit codes, completion."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from amcli.cli import COMMANDS, main


def test_no_command_prints_the_command_list_and_exits_2(cli):
    result = cli()
    assert result.code == 2
    assert "commands:" in result.err and "synth" in result.err


def test_unknown_command_exits_2_and_names_it(cli):
    result = cli("optimise")
    assert result.code == 2
    assert "unknown command 'optimise'" in result.err
    assert "synth" in result.err


def test_help_lists_only_registered_commands(cli):
    result = cli("--help")
    assert result.code == 0
    block = result.out.split("commands:\n")[1].split("\n\n")[0]
    listed = [line.split()[0] for line in block.splitlines()]
    assert listed == list(COMMANDS)
    assert {"optimize", "synth", "train-classifier", "train-prior", "evaluate", "report",
            "list"} == set(COMMANDS)


def test_command_help_shows_its_own_schema(cli):
    result = cli("synth", "--help")
    assert result.code == 0
    assert "amcli synth" in result.out
    assert "n_per_class: 100" in result.out and "engine: espeak" in result.out


def test_cfg_job_prints_the_composed_config_with_overrides(cli):
    result = cli("synth", "--cfg", "job", "n_per_class=7", "engine=numpy")
    assert result.code == 0
    config = yaml.safe_load(result.out)
    assert config["n_per_class"] == 7
    assert config["engine"] == "numpy"
    assert config["classes"] == ["neutral", "happy", "sad", "angry"]


def test_info_works_per_command(cli):
    result = cli("synth", "--info", "searchpath")
    assert result.code == 0
    assert "pkg://amcli.conf" in result.out


def test_multirun_runs_one_job_per_point(cli, tmp_path):
    result = cli("synth", "-m", "engine=numpy", "n_per_class=1", "quiet=true", "seed=1,2",
                 "classes=[angry]")
    assert result.code == 0, result.err
    corpora = sorted((tmp_path / "sweep").glob("*/corpus/metadata.csv"))
    assert len(corpora) == 2
    assert corpora[0].read_text() != corpora[1].read_text()  # different seeds


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("engine=espek", "expected one of [espeak, numpy]"),
        ("n_per_class=many", "n_per_class"),
        ("jitter=loud", "jitter"),
        ("no_such_key=1", "no_such_key"),
    ],
)
def test_schema_errors_fail_before_any_work_in_one_line_exit_2(cli, tmp_path, override,
                                                               message):
    result = cli("synth", override, f"out={tmp_path / 'corpus'}")
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("n_per_class=0", "n_per_class=0; it must be at least 1"),
        ("classes=[furious]", "no class ['furious']"),
        ("speakers=[nobody]", "unknown speaker(s) ['nobody']"),
        ("jitter=-1", "jitter=-1"),
        ("workers=-1", "workers=-1"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(cli, tmp_path, override, message):
    result = cli("synth", "engine=numpy", override, f"out={tmp_path / 'corpus'}")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("amcli synth: error: ") and message in lines[0]
    assert not (tmp_path / "corpus").exists()


def test_completion_install_serves_every_command(cli):
    result = cli("-sc", "install=bash")
    assert result.code == 0
    assert "complete -o nospace -o default -F hydra_bash_completion amcli" in result.out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("amcli ", "synth"),
        ("amcli sy", "synth"),
        ("amcli synth n_per", "n_per_class="),
        ("amcli synth engine=numpy ov", "overwrite="),
        ("amcli nosuch ", ""),
    ],
)
def test_completion_query_reads_the_command_from_comp_line(
    monkeypatch, capsys, line, expected
):
    monkeypatch.setenv("COMP_LINE", line)
    monkeypatch.setenv("COMP_POINT", str(len(line)))
    assert main(["-sc", "query=bash"]) == 0
    out = capsys.readouterr().out.split()
    assert (expected in out) if expected else out == []


@pytest.mark.slow
def test_completion_through_bash_and_the_installed_hook(tmp_path):
    """The real hook: bash sources `amcli -sc install=bash` and completes `amcli synth n_`."""
    import shutil

    if shutil.which("amcli") is None or shutil.which("bash") is None:
        pytest.skip("needs the installed console script and bash")
    script = (
        'eval "$(amcli -sc install=bash)"\n'
        'COMP_LINE="amcli synth n_per"; COMP_POINT=${#COMP_LINE}; COMP_CWORD=2\n'
        "hydra_bash_completion\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert "n_per_class=" in out.stdout.split(), out.stderr


@pytest.mark.slow
def test_console_script_exit_codes(tmp_path):
    """One subprocess check of the installed entry point (others run in-process)."""
    ok = subprocess.run([sys.executable, "-m", "amcli", "synth", "--cfg", "job"],
                        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert ok.returncode == 0 and "engine: espeak" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "amcli", "synth", "engine=numpy", "n_per_class=-3",
         f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "amcli synth: error: n_per_class=-3; it must be at least 1"


def test_a_label_map_entry_is_typed_without_a_plus(cli):
    """data.label_map is an open mapping: new labels need no Hydra '+' prefix."""
    result = cli("train-classifier", "--cfg", "job", "data=ravdess",
                 "data.label_map.calm=neutral", "data.label_map.fearful=null")
    assert result.code == 0, result.err
    mapping = yaml.safe_load(result.out)["data"]["label_map"]
    assert mapping == {"calm": "neutral", "fearful": None}
