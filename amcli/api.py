"""amcli in one call, for notebooks and scripts: ``explain(model, audio, target)``.

:func:`explain` runs the ``amcli optimize`` pipeline itself, in this process, with the CLI's
defaults: the options it is given become the command's overrides, so an explanation and a CLI run
with the same options and seed give the same result (the tests check it). The run is written to
a folder as the CLI writes it (WAVs, plots, metrics.json, report.html); what it found comes back
as an :class:`Explanation` per answer, which a notebook shows with audio players, the plot and
the table, and :meth:`Explanation.save` copies the folder where it should stay.

The model may be a shipped checkpoint's name, a checkpoint or transformers folder's path, or any
``torch.nn.Module`` that maps waveforms ``[B, T]`` (or amcli's log-mel) to logits; a module is
lent to the run as ``classifier=custom`` and handed back in the mode and on the device it came in.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import itertools
import json
import shutil
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from amcli.am.methods import DEFAULT_EXPLAIN_METHOD
from amcli.errors import UserError
from amcli.scratch import make_scratch

__all__ = ["Explanation", "Explanations", "explain"]

#: in-memory modules lent to a run: custom.target = "amcli.api.registered_<n>"
_REGISTERED: dict[str, nn.Module] = {}
_COUNTER = itertools.count()


def __getattr__(name: str):
    """``registered_<n>``: a factory of the module lent to a run (what custom.target builds)."""
    key = name.removeprefix("registered_")
    if name.startswith("registered_") and key in _REGISTERED:
        module = _REGISTERED[key]
        return lambda: module
    raise AttributeError(name)


def explain(model: str | Path | nn.Module, audio: Any = None, target: Any = None,
            method: str = DEFAULT_EXPLAIN_METHOD, sample_rate: int | None = None, *,
            classes: Sequence[str] | None = None, representation: str = "raw",
            folder: str | Path | None = None, progress: bool = False,
            **options: Any) -> Explanation | Explanations:
    """Explain ``model``'s ``target`` class(es) with ``method`` (mask, input, latent, prosody).

    ``model``: a shipped checkpoint name ("crnn_mel"), a path to a checkpoint or a transformers
    folder, or an ``nn.Module`` (then ``classes`` in output order and ``sample_rate`` are
    needed, and ``representation="mel"`` if it takes amcli's log-mel instead of waveforms).
    ``audio``: a path, a NumPy array or a tensor (mono, or channels first), or a list of them;
    arrays are taken at ``sample_rate`` (required for arrays unless the model is a module, whose
    rate it is). None: the methods that start from no clip, or each target's example clip.
    ``target``: a class name or index, or a list of them; None: every class.
    ``options``: any ``amcli optimize`` option, as keywords (``restarts=4``, ``seed=1``) or nested
    mappings (``prosody={"attribution": True}``, same as ``**{"prosody.attribution": True}``).
    ``folder``: where the run is written (default: a new temporary folder, removed when the
    last explanation of the run is garbage-collected; use :meth:`Explanation.save` to keep it).
    ``progress``: show the progress bar and the CLI's summary.

    Returns an :class:`Explanation` for a single answer (one clip, one target, one restart) and
    an :class:`Explanations` list otherwise. Bad input raises :class:`amcli.errors.UserError`
    with the same one-line message the CLI prints.
    """
    from amcli.cli import invoke

    scratch = Scratch()
    run = Path(folder).expanduser() if folder is not None else scratch.path / "run"
    args = [f"method={method}"]
    try:
        with _lent(model, classes, representation, sample_rate) as (model_args, known):
            args += model_args
            if audio is not None:
                args.append(f"input={_audio_path(audio, scratch.path, sample_rate, model)}")
            if target is not None:
                args.append(f"target={_value(_target_names(target, known, model))}")
            args += [f"{key}={_value(value)}" for key, value in _flatten(options)]
            if not progress and "quiet" not in dict(_flatten(options)):
                args.append("quiet=true")
            args.append(f"hydra.run.dir={run}")
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink) if not progress else contextlib.nullcontext():
                invoke("optimize", args)
        answers = Explanations.from_folder(run)
    except BaseException:
        scratch.remove()  # a failed run leaves nothing behind in the temporary folder
        raise
    if folder is not None:
        scratch.remove()  # the run is where the user asked; the inputs were copied into it
    else:
        answers.keep(scratch)
    return answers[0] if len(answers) == 1 else answers


class Scratch:
    """A temporary folder of explain's (the inputs it wrote, the run unless the user named a
    folder), removed when nothing refers to it any more: the explanations that read their
    audio and arrays from it hold it."""

    def __init__(self) -> None:
        self.path = make_scratch("amcli-explain-")
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, True)

    def remove(self) -> None:
        self._finalizer()


@contextlib.contextmanager
def _lent(model: Any, classes: Sequence[str] | None, representation: str,
          sample_rate: int | None) -> Iterator[tuple[list[str], list[str] | None]]:
    """The classifier overrides for ``model`` and its classes where known without loading it;
    a module is registered for the run, then handed back as it came (mode, device)."""
    if not isinstance(model, nn.Module):
        if classes is not None:
            raise UserError("classes= is for an nn.Module; a checkpoint or folder names its own")
        yield [f"classifier={model}"], None
        return
    if not classes:
        raise UserError("explain(module, ...) needs classes=[...]: the module's classes in the "
                        "order of its outputs")
    if not sample_rate:
        raise UserError("explain(module, ...) needs sample_rate=: the rate the module expects")
    key = str(next(_COUNTER))
    modes = [(sub, sub.training) for sub in model.modules()]
    devices = {p.device for p in model.parameters()}
    _REGISTERED[key] = model
    try:
        yield ["classifier=custom", f"custom.target=amcli.api.registered_{key}",
               f"custom.classes={_value(list(classes))}",
               f"custom.representation={representation}",
               f"custom.sample_rate={int(sample_rate)}"], list(classes)
    finally:
        del _REGISTERED[key]
        for sub, mode in modes:
            sub.training = mode
        if len(devices) == 1:
            model.to(devices.pop())


def _target_names(target: Any, known: list[str] | None, model: Any) -> list[str]:
    """Names for the command: indices become the classifier's class names."""
    wanted = list(target) if isinstance(target, (list, tuple)) else [target]
    if not any(isinstance(t, (int, np.integer)) for t in wanted):
        return [str(t) for t in wanted]
    if known is None:
        from amcli.models import load_classifier

        known = list(load_classifier(str(model), "cpu").classes)
    names = []
    for t in wanted:
        if isinstance(t, (int, np.integer)):
            if not 0 <= int(t) < len(known):
                raise UserError(f"target index {t} is out of range: the classifier has "
                                f"{len(known)} classes ({', '.join(known)})")
            names.append(known[int(t)])
        else:
            names.append(str(t))
    return names


def _audio_path(audio: Any, work: Path, sample_rate: int | None, model: Any) -> Path:
    """A path the command can read: a given file as it is; arrays and several clips in a
    folder of float WAVs (the values exactly as given), one per clip."""
    clips = list(audio) if isinstance(audio, (list, tuple)) else [audio]
    if len(clips) == 1 and isinstance(clips[0], (str, Path)):
        return Path(clips[0]).expanduser()
    if any(not isinstance(c, (str, Path)) for c in clips) and not sample_rate:
        raise UserError("give sample_rate= with audio as an array or tensor: the rate it was "
                        "recorded at")
    folder = work / "input"
    folder.mkdir()
    names: set[str] = set()
    for i, clip in enumerate(clips):
        if isinstance(clip, (str, Path)):
            source = Path(clip).expanduser()
            if not source.is_file():
                raise UserError(f"audio {source} is not a file")
            if source.stem in names:
                raise UserError(f"two clips are named {source.stem}; rename one")
            names.add(source.stem)
            (folder / source.name).symlink_to(source.resolve())
            continue
        wave = clip.detach().cpu().numpy() if isinstance(clip, torch.Tensor) else np.asarray(clip)
        if wave.ndim == 2:
            wave = wave.T  # channels first -> frames x channels for soundfile
        elif wave.ndim != 1:
            raise UserError(f"audio clip {i} has shape {wave.shape}; give [samples] or "
                            "[channels, samples]")
        name = f"clip{i}" if len(clips) > 1 else "clip"
        names.add(name)
        _write_float_wav(folder / f"{name}.wav", wave.astype(np.float32), int(sample_rate))
    return folder


def _write_float_wav(path: Path, wave: np.ndarray, rate: int) -> None:
    import soundfile

    soundfile.write(str(path), wave, rate, subtype="FLOAT")


def _flatten(options: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in options.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out += _flatten(value, name + ".")
        else:
            out.append((name, value))
    return out


def _value(value: Any) -> str:
    """A Python value as an override's value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v) for v in value) + "]"
    return str(value)


class Explanation:
    """One answer of a run: a (clip, target, restart) item and what the method found.

    ``audio`` and ``input_audio`` (tensors, ``sample_rate``), ``p_before`` (the target's
    probability of the input as the method renders it without an edit; None where there is no
    input) and ``p_after``, ``verdict`` and its ``reasons``, ``in_words`` (the method's
    headline: the edit, the mask's controls), ``details`` (the method's own numbers, also under
    the method's word for them: ``edits`` for prosody, ``controls`` for a mask),
    ``attribution`` (prosody attribution's row for the target: baseline, each family's best and
    second best, leader or tie), ``arrays`` (the numbers behind the method's
    plot), ``record`` (the item's metrics.json record) and ``run`` (the run's)."""

    def __init__(self, folder: Path, run: dict[str, Any], item: dict[str, Any],
                 summary: dict[str, Any]) -> None:
        self.folder, self.run, self.record, self._summary = folder, run, item, summary

    # what it found ----------------------------------------------------------------------
    @property
    def target(self) -> str:
        return self.record["target"]

    @property
    def method(self) -> str:
        return self.run["method"]

    @property
    def stem(self) -> str:
        return Path(self.record["output"]).stem

    @property
    def p_before(self) -> float | None:
        return self.record.get("baseline_prob")

    @property
    def p_after(self) -> float:
        return self.record["target_prob"]

    @property
    def verdict(self) -> str:
        return self.record["verdict"]

    @property
    def reasons(self) -> list[str]:
        return list(self.record.get("verdict_reasons") or [])

    @property
    def in_words(self) -> str:
        from amcli.am.methods import get_method

        return get_method(self.method).headline(self.record)

    @property
    def details(self) -> dict[str, Any] | None:
        """The method's own part of the record (a mask's controls, a prosody edit), or None."""
        from amcli.am.methods import get_method

        key = get_method(self.method).record_key
        return self.record.get(key) if key else None

    def __getattr__(self, name: str) -> Any:
        """``edits``, ``controls``, ...: what each method calls its part of the record
        (``AMMethod.library_name``): this one's for its own method, None for another's."""
        from amcli.am.methods import METHODS

        if name.startswith("_") or name in ("record", "run"):
            raise AttributeError(name)
        for method in METHODS.values():
            if method.library_name == name:
                return self.details if method.name == self.method else None
        raise AttributeError(f"'Explanation' object has no attribute '{name}'")

    @property
    def attribution(self) -> dict[str, Any] | None:
        return (self._summary.get("attribution") or {}).get(self.target)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        path = self.folder / "arrays" / f"{self.stem}.npz"
        if not path.is_file():
            return {}
        with np.load(path) as data:
            return {key: data[key] for key in data.files}

    @property
    def sample_rate(self) -> int:
        import soundfile

        return soundfile.info(str(self.folder / self.record["output"])).samplerate

    @property
    def audio(self) -> torch.Tensor:
        """The output as written (scaled down only where it would clip; the gain is
        ``record["output_gain"]``), ``[1, samples]``."""
        return _read_mono(self.folder / self.record["output"])

    @property
    def input_audio(self) -> torch.Tensor | None:
        given = self.record.get("input")
        return _read_mono(self.folder / given) if given else None

    def attribution_map(self) -> torch.Tensor:
        """A mask explanation as an attribution aligned with the input clip, ``[1, samples]``
        (Captum's convention: the shape of the model's input): each sample gets the mask's
        gain over its frame (a time-frequency mask: its mean over frequency), so Captum's and
        Quantus' metrics can score it like any attribution of this model and clip."""
        from amcli.am.methods import METHODS, AMMethod, get_method

        per_sample = get_method(self.method).attribution_map(self.arrays)
        if per_sample is None:
            which = [m.name for m in METHODS.values()
                     if type(m).attribution_map is not AMMethod.attribution_map]
            raise UserError(f"attribution_map() is for method={' or method='.join(which)}; "
                            f"this is method={self.method}")
        return torch.from_numpy(np.asarray(per_sample, dtype=np.float32)).unsqueeze(0)

    # keeping and showing it --------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Copy the run's folder (the CLI's layout: WAVs, plots, arrays, metrics.json,
        report.html) to ``folder``, which must not exist yet or be empty."""
        return _copy_run(self.folder, folder)

    def plot(self):
        """A matplotlib figure of the item's plots as the run drew them (the method's own plot,
        then the spectrograms)."""
        import matplotlib.pyplot as plt
        from matplotlib.image import imread

        images = self._plot_files()
        if not images:
            raise UserError("this run wrote no plots for the item")
        fig, axes = plt.subplots(len(images), 1, figsize=(9, 3.6 * len(images)), squeeze=False)
        for ax, path in zip(axes[:, 0], images, strict=True):
            ax.imshow(imread(path))
            ax.set_axis_off()
        fig.tight_layout()
        return fig

    def _plot_files(self) -> list[Path]:
        plots = self.folder / "plots"
        spec = sorted(plots.glob(f"{self.stem}_spec.png"))
        own = [p for p in sorted(plots.glob(f"{self.stem}_*.png")) if p not in spec]
        return own + spec

    def summary_row(self) -> dict[str, Any]:
        return {"target": self.target, "restart": self.record.get("restart"),
                "p before": self.p_before, "p after": self.p_after, "verdict": self.verdict,
                "in words": self.in_words}

    def __repr__(self) -> str:
        before = "" if self.p_before is None else f"{self.p_before:.3f} -> "
        return (f"Explanation({self.method}, {self.target}: p {before}{self.p_after:.3f}, "
                f"{self.verdict}{': ' + self.in_words if self.in_words else ''})")

    def _repr_html_(self) -> str:
        players = []
        if self.input_audio is not None:
            players.append(("before", self.folder / self.record["input"]))
        players.append(("after", self.folder / self.record["output"]))
        audio = "".join(f"<div><b>{label}</b><br>{_player(path)}</div>" for label, path in players)
        images = "".join(f'<img style="max-width:100%" src="data:image/png;base64,'
                         f'{_b64(path)}">' for path in self._plot_files()[:1])
        parts = [f"<div><b>{html.escape(repr(self))}</b></div>",
                 _table([self.summary_row()]),
                 f'<div style="display:flex;gap:1em">{audio}</div>', images]
        if self.attribution:
            parts.append(_attribution_table({self.target: self.attribution}))
        return "<div class=\"amcli-explanation\">" + "".join(parts) + "</div>"


class Explanations(list):
    """Several answers of one run (clips x targets x restarts), shown as one table with a
    player per row; ``save`` copies the run's folder; ``attribution`` is the run's table."""

    folder: Path
    run: dict[str, Any]
    attribution: dict[str, Any] | None

    @classmethod
    def from_folder(cls, folder: str | Path) -> Explanations:
        """The answers of a finished ``amcli optimize`` run folder (one the CLI wrote too)."""
        from amcli.metrics.summary import primary

        folder = Path(folder)
        path = folder / "metrics.json"
        if not path.is_file():
            raise UserError(f"{folder} holds no metrics.json: not an amcli optimize run folder")
        record = json.loads(path.read_text())
        if record.get("status") != "done":
            raise UserError(f"the run in {folder} is {record.get('status')}, not done")
        summary = record.get("summary") or {}
        found = cls(Explanation(folder, record["run"], item, summary)
                    for item in primary(record["items"]))
        found.folder, found.run = folder, record["run"]
        found.attribution = summary.get("attribution")
        return found

    def keep(self, scratch: Scratch) -> None:
        """Keep ``scratch`` (the temporary folder the run is in) while any of these answers,
        or this list, is alive."""
        self._scratch = scratch
        for answer in self:
            answer._scratch = scratch

    def save(self, folder: str | Path) -> Path:
        return _copy_run(self.folder, folder)

    def _repr_html_(self) -> str:
        rows = [{**e.summary_row(), "output": _player(e.folder / e.record["output"])}
                for e in self]
        parts = [_table(rows, raw=("output",))]
        if self.attribution:
            parts.append(_attribution_table(self.attribution))
        return "<div class=\"amcli-explanations\">" + "".join(parts) + "</div>"


def _copy_run(source: Path, folder: str | Path) -> Path:
    target = Path(folder).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{target} exists and is not empty; amcli never writes over what it "
                        "did not write: give a new folder")
    if target.exists():
        target.rmdir()
    shutil.copytree(source, target, symlinks=False)
    return target


def _read_mono(path: Path) -> torch.Tensor:
    """A run's WAV (amcli writes them mono) as ``[1, samples]``."""
    from amcli.audio import read_audio

    return read_audio(path)[0].unsqueeze(0)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _player(path: Path) -> str:
    return f'<audio controls src="data:audio/wav;base64,{_b64(path)}"></audio>'


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else html.escape(str(value))


def _table(rows: list[dict[str, Any]], raw: tuple[str, ...] = ()) -> str:
    if not rows:
        return "<p>no answers</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{v if k in raw else _cell(v)}</td>"
                                    for k, v in row.items()) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _attribution_table(table: Mapping[str, Any]) -> str:
    """Prosody attribution as the terminal prints it: the no-edit baseline, each family's best
    restart (second best in brackets) and the reading."""
    from amcli.metrics.attribution import stats_cell

    variants = sorted({v for row in table.values() for v in row["variants"]},
                      key=lambda v: (v == "all", v))
    rows = [{"target": target, "no edit": row.get("baseline"),
             **{f"{v} alone" if v != "all" else "all": stats_cell(row["variants"].get(v))
                for v in variants},
             "reading": row.get("reading")} for target, row in table.items()]
    return _table(rows)
