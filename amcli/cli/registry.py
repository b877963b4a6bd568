"""The registered commands: each is the module holding its ``@hydra.main`` function ``main``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from amcli import __version__
from amcli.invocation import PROG


@dataclass(frozen=True)
class Command:
    """A registered command: the module holding its ``@hydra.main`` function ``main``."""

    module: str
    summary: str


#: Only commands that really work are registered; later issues add theirs here.
COMMANDS: dict[str, Command] = {
    "optimize": Command(
        "amcli.commands.optimize",
        "activation maximization: what does the classifier need to hear to say <target>?",
    ),
    "synth": Command(
        "amcli.commands.synth",
        "write the synthetic emotional-speech corpus (espeak-ng or NumPy engine)",
    ),
    "train-classifier": Command(
        "amcli.commands.train_classifier",
        "train a CNN/CRNN emotion classifier (raw or mel) on a dataset",
    ),
    "train-prior": Command(
        "amcli.commands.train_prior",
        "train a GAN or conditional-GAN prior (mel or raw) for method=latent",
    ),
    "evaluate": Command(
        "amcli.commands.evaluate",
        "accuracy, macro-F1 and confusion matrix of a checkpoint on a dataset",
    ),
    "report": Command(
        "amcli.commands.report",
        "rebuild a sweep's summary.csv, summarize a run, or measure the cues of a folder of WAVs",
    ),
    "list": Command(
        "amcli.commands.list_checkpoints",
        "the shipped checkpoints (and any folder given) with their metadata",
    ),
}


def usage() -> str:
    """The command list printed by ``amcli``, ``amcli --help`` and after an unknown command."""
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: {PROG} <command> [hydra overrides and flags]",
        "",
        "Explain audio classifiers by class-based activation maximization.",
        "",
        "commands:",
        *(f"  {name.ljust(width)}  {cmd.summary}" for name, cmd in COMMANDS.items()),
        "",
        "Every command takes Hydra overrides (key=value) and Hydra's flags:",
        f"  {PROG} <command> --help        the command's options and defaults",
        f"  {PROG} <command> --cfg job     print the composed config and exit",
        f"  {PROG} <command> --info        Hydra's view of the command's config search path",
        f"  {PROG} <command> -m a=1,2      a multirun sweep",
        f'  eval "$({PROG} -sc install=bash)"   shell completion for all commands',
        "",
        f"{PROG} {__version__}",
    ]
    return "\n".join(lines)


def load_command(name: str) -> Callable[[], None]:
    return importlib.import_module(COMMANDS[name].module).main

