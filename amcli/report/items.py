"""From an optimization's outcome to item records and files.

For every item: its WAV and plots (amcli.report.outputs), and its record for metrics.json: the
target, probabilities and margin, how it stopped, what its method adds (mask controls, the
prior's condition, ...), what the judge hears, and its acoustic cues against its reference.

The reference of a cue shift is the item's input clip or, for outputs made from noise or a
latent, the shipped neutral example clip. Outputs that exist as log-mel (mel priors,
``signal.domain=mel``) reach their WAV through a vocoder, which moves cues by itself (Griffin-Lim
loses voicing and reads F0 high), so their reference goes through the same vocoder first, and
``reference_is`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from amcli.am import Outcome
from amcli.am.methods import AMMethod
from amcli.audio import read_audio
from amcli.features import FeatureParams, LogMel
from amcli.metrics.cues import cue_records
from amcli.metrics.judge import judge_scores
from amcli.metrics.summary import margin
from amcli.report.outputs import write_item_files
from amcli.resources import example_clip


@dataclass
class RunOutputs:
    """What turning outcomes into records needs; fixed for one run."""

    folder: Path
    model: nn.Module
    method: AMMethod
    vocoder: nn.Module
    vocoder_name: str
    clips: dict[str, torch.Tensor]
    input_paths: dict[str, str]
    judge: nn.Module | None = None
    cues: bool = True
    plot_format: str = "png"
    resources: Any = None  # the method's, for its own cue reference
    _references: dict[str, np.ndarray] = field(default_factory=dict)
    _labels: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> FeatureParams:
        return getattr(self.model, "feature_params", None) or \
            FeatureParams(sample_rate=self.model.sample_rate)

    def waves_and_mels(self, outcome: Outcome) -> tuple[torch.Tensor, torch.Tensor]:
        """The outputs as waveforms (vocoded when they are log-mels) and as log-mels."""
        signal = outcome.result.signal.detach().cpu()
        if outcome.built.param.domain == "mel":
            with torch.no_grad():
                return self.vocoder(signal), signal
        return signal, LogMel(self.features)(signal)

    def reference_keys(self, outcome: Outcome) -> list[str]:
        """Each item's cue reference (measured once per run), by key."""
        vocoded = outcome.built.param.domain == "mel"
        keys = []
        for item in outcome.items:
            key = f"{item.clip or '<neutral example>'}{' (vocoded)' if vocoded else ''}"
            own = self.method.cue_reference(self.resources, item.clip) if item.clip else None
            if own is not None:
                key = f"{item.clip} ({own[1]})"
            if key not in self._references:
                if own is not None:
                    wave, label = own
                elif item.clip:
                    wave, label = self.clips[item.clip], "input"
                else:
                    wave = read_audio(example_clip("neutral"), self.model.sample_rate)[0]
                    label = "neutral example"
                if vocoded:
                    with torch.no_grad():
                        wave = self.vocoder(LogMel(self.features)(wave.unsqueeze(0)),
                                            length=wave.shape[-1])[0]
                    label += f", through the same vocoder ({self.vocoder_name})"
                self._references[key] = wave.numpy()
                self._labels[key] = label
            keys.append(key)
        return keys

    def cue_rows(self, outcome: Outcome, waves: torch.Tensor) -> list[dict]:
        keys = self.reference_keys(outcome)
        return cue_records([w.numpy() for w in waves], keys,
                           {k: self._references[k] for k in set(keys)}, self._labels,
                           self.model.sample_rate)

    def records(self, outcome: Outcome) -> list[dict[str, Any]]:
        """Write every item's files and return its record."""
        result, items = outcome.result, outcome.items
        waves, mels = self.waves_and_mels(outcome)
        judged = judge_scores(self.judge, waves, [i.target for i in items]) \
            if self.judge is not None else None
        cues = self.cue_rows(outcome, waves) if self.cues else None
        name = self.model.checkpoint.get("name", "classifier")
        befores = {c: LogMel(self.features)(w) for c, w in self.clips.items()}
        rows = []
        for i, item in enumerate(items):
            title = (f"{name}: {item.target} (restart {item.restart}), "
                     f"p = {float(result.target_prob[i]):.3f}")
            gain = write_item_files(
                self.folder, item.name, waves[i], mels[i], befores.get(item.clip),
                self.model.sample_rate, self.features, title, self.plot_format,
                self.method.plot_data(outcome.built, i, outcome.batch))
            history = {key: [row[i] if isinstance(row, list) else row for row in values]
                       for key, values in result.history.items()}
            history["step"] = result.history["step"]
            rows.append({
                "target": item.target,
                "restart": item.restart,
                **({"variant": item.variant} if item.variant else {}),
                "answer": self.method.is_answer(item.variant),
                "input": self.input_paths.get(item.clip),
                "output": f"wav/{item.name}.wav",
                "output_gain": gain,
                "seed": item.seed,
                "probs": {c: float(p) for c, p in
                          zip(self.model.classes, result.probs[i], strict=True)},
                "target_prob": float(result.target_prob[i]),
                "margin": margin(result.logits[i], self.model.classes.index(item.target)),
                "steps": result.steps[i],
                "stop_reason": result.stop_reason[i],
                "best_step": result.best_step[i] if result.best_step else result.steps[i],
                "last": result.last[i] if result.last else None,
                **outcome.records[i],
                **(judged[i] if judged else {}),
                "cues": cues[i] if cues else None,
                "history": history,
            })
        return rows
