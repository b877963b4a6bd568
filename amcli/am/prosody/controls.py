"""``Prosody``: the parameterization of method=prosody, edits of real clips' prosody.

Four families of controls, each bounded and each a smooth low-resolution contour or a scalar:

- ``pitch``: an F0 shift in semitones over time (``knots`` points, linearly interpolated) and the
  F0 range (log-F0 scaled around the clip's median: intonation flattened or exaggerated);
- ``loudness``: a gain in dB over time;
- ``tempo``: the speaking rate, a time warp of the analysed frames (global, or over time with
  ``tempo_knots`` > 1);
- ``voice``: the spectral tilt in dB per octave (dark or bright) and the breathiness (the
  aperiodic share).

Every control is ``bound * tanh(raw)`` of an unconstrained parameter (log-domain for the range
and the rate), so bounds hold by construction and every control moves at the same pace under
Adam whatever its unit: a gain in dB and a ratio of rates start equally free. A parameter of zero
is no edit. Families switched off (per item) stay at no edit. ``regularized()`` gives each
family's root-mean-square normalized edit, so L2 on it is a size penalty per family: the least
edit that makes the model say the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from amcli.am.params import Parameterization, item_seeds
from amcli.am.prosody.source import Edits, Source
from amcli.am.prosody.synthesis import edited_frames, synthesize
from amcli.am.random import per_item_normal
from amcli.families import FAMILIES


@dataclass(frozen=True)
class Bounds:
    """How far each control may go (human range)."""

    pitch_st: float = 12.0  # F0 shift, +- semitones
    range_scale: float = 2.0  # F0 range scaled within [1/x, x]
    gain_db: float = 12.0  # +- dB
    rate: float = 1.4  # speaking rate within [1/x, x]
    tilt_db_per_octave: float = 6.0  # +- dB/octave
    breathiness: float = 1.0  # +- (a shift of the aperiodic share's logit by 3 x this)


def _contour(knots: torch.Tensor, frames: int) -> torch.Tensor:
    """[B, k] knots -> [B, frames], linear between knots spread over the whole output."""
    if knots.shape[-1] == 1:
        return knots.expand(-1, frames)
    return F.interpolate(knots.unsqueeze(1), size=frames, mode="linear",
                         align_corners=True).squeeze(1)


class Prosody(Parameterization):
    """Edits of B analysed clips (``source``, one row per item) rendered to waveforms of
    ``length`` samples. ``families`` [B, 4] says which control families each item may use
    (default: all); ``white`` [B, M, K] are the items' fixed noise STFTs."""

    #: measured on the demo models: 0.05 lands more restarts in poor optima
    default_lr = 0.03

    def __init__(
        self,
        source: Source,
        white: torch.Tensor,
        length: int,
        families: torch.Tensor | None = None,
        bounds: Bounds = Bounds(),
        knots: int = 6,
        tempo_knots: int = 1,
        init_noise: float = 0.1,
        seeds: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        batch = source.log_f0.shape[0]
        self.source, self.bounds, self.length = source, bounds, int(length)
        self.frames = self.length // source.hop + 1
        # every buffer starts on the noise's device: a Prosody built from tensors on a GPU
        # runs there without a further .to()
        seeds = item_seeds(seeds, batch)
        self.register_buffer("seeds", seeds.to(white.device))
        self.register_buffer("white", white)
        mask = torch.ones(batch, len(FAMILIES), dtype=torch.bool) if families is None \
            else families.bool()
        mask = mask.to(white.device)
        self.register_buffer("families", mask)
        shapes = {"pitch": (knots,), "range": (1,), "gain": (knots,), "rate": (tempo_knots,),
                  "tilt": (1,), "breath": (1,)}
        start = per_item_normal(seeds.tolist(), (sum(s[0] for s in shapes.values()),))
        start = init_noise * start.to(white.device)
        self._slices, offset = {}, 0
        for name, (size,) in shapes.items():
            self._slices[name] = slice(offset, offset + size)
            offset += size
        self.raw = nn.Parameter(start)

    @classmethod
    def from_clips(cls, clips: torch.Tensor | Sequence[torch.Tensor], sample_rate: int,
                   seeds: Sequence[int] | None = None, families: Sequence[str] | None = None,
                   bounds: Bounds = Bounds(), knots: int = 6, tempo_knots: int = 1,
                   init_noise: float = 0.1, device: torch.device | str = "cpu") -> Prosody:
        """Edits of real clips, built as method=prosody builds them: each clip [T] (or the rows
        of [B, T], or a list of clips of one length) analysed with WORLD and fitted on the
        resynthesis grid, one item per clip with its own noise from its seed (default 0, 1, ...);
        ``families`` the control families the items may move (default all: "pitch",
        "loudness", "tempo", "voice"). The defaults are the method's. Analysis runs on the
        CPU (pyworld); the result lives on ``device``.

        For many items of few clips, fit each clip once (:func:`amcli.am.prosody.fit.fit_clip`)
        and build from ``Source.stack`` and ``select`` as method=prosody does."""
        from amcli.am.prosody.fit import fit_clip
        from amcli.am.prosody.synthesis import synthesis_grid, white_noise_stft

        waves = [clips] if isinstance(clips, torch.Tensor) and clips.dim() == 1 else list(clips)
        if not waves or any(w.dim() != 1 for w in waves):
            raise ValueError("clips: give one mono clip [T], a batch [B, T] or a list of mono "
                             "clips")
        length = waves[0].shape[-1]
        if any(w.shape[-1] != length for w in waves):
            raise ValueError("clips of different lengths: pad or crop them to one length "
                             "(amcli.data.base.crop_or_pad)")
        unknown = sorted(set(families or ()) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown families {unknown}; choose from {list(FAMILIES)}")
        seeds = list(range(len(waves))) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != len(waves):
            raise ValueError(f"{len(seeds)} seeds for {len(waves)} clips")
        n_fft, hop = synthesis_grid(sample_rate)
        source = Source.stack([fit_clip(w, sample_rate) for w in waves]).to(device)
        white = white_noise_stft(seeds, length, n_fft, hop, device)
        allowed = FAMILIES if families is None else tuple(families)
        mask = torch.tensor([[f in allowed for f in FAMILIES]] * len(waves))
        return cls(source.padded(white.shape[1]), white, length, mask, bounds, knots,
                   tempo_knots, init_noise, seeds)

    #: which family each control group belongs to (an index into FAMILIES)
    GROUP_FAMILY = {"pitch": 0, "range": 0, "gain": 1, "rate": 2, "tilt": 3, "breath": 3}

    @torch.no_grad()
    def pick_start(self, score: Callable[[Prosody], torch.Tensor], candidates: int,
                   spread: float = 0.95) -> torch.Tensor | None:
        """Start each item from the best of ``candidates`` edits, ranked by ``score`` (this
        parameterization with the candidate set -> [B], higher is better). The first candidate is
        the plain start; each other one moves a single family of the item's (in turn), every
        control of it (a contour as a whole) to a value within ``spread`` of its bounds, by Latin
        hypercube sampling over that family's candidates (each control's range cut into one
        stratum per candidate, one draw in each, the strata shuffled), on top of the plain
        start's noise. One family at a time, so the families a start leaves alone stay at no
        edit: descent would not bring a stray large edit back where its gradient is noise.

        Returns each item's score at the start it keeps (None with one candidate).

        Why: pitch and tempo act on the classifier through where harmonics and frames land,
        whose gradients are local and oscillate (as an oscillator's frequency does, Hayes et
        al. 2023), so descent from no edit often settles on a small edit that leaves the target
        far away (gt_tempo hears the neutral example clip as sad at rate x0.72, yet descent from
        x1 went to x1.02-1.09). A coarse look over the bounds first finds the basin; descent
        and the size penalty then shrink the edit. Each item's draws come from its seed.
        """
        if candidates <= 1:
            return None
        plain = self.raw.detach().clone()
        offsets = self._candidate_offsets(candidates - 1, spread).to(plain.device)
        best = score(self)
        chosen = plain.clone()
        for k in range(candidates - 1):
            start = plain.clone()
            for j, name in enumerate(self._slices):
                start[:, self._slices[name]] += offsets[:, k, j].unsqueeze(1)
            self.raw.copy_(start)
            value = score(self)
            better = value > best
            best = torch.where(better, value, best)
            chosen[better] = start[better]
        self.raw.copy_(chosen)
        return best

    @torch.no_grad()
    def adopt_start(self, row: int, source: int) -> None:
        """Item ``row`` starts where item ``source`` starts, in the families ``source`` may
        use; every other family of ``row`` starts at no edit. For items of one clip, target and
        seed (attribution's variants), this is exactly ``source``'s start."""
        keep = self.families[source]
        for name, family in self.GROUP_FAMILY.items():
            part = self._slices[name]
            self.raw[row, part] = self.raw[source, part] if keep[family] else 0.0

    def _candidate_offsets(self, count: int, spread: float) -> torch.Tensor:
        """[B, count, groups]: the raw offset of each control group per candidate (see
        :meth:`pick_start`); zero for the groups a candidate leaves alone."""
        groups = list(self._slices)
        width = len(groups)
        draws = per_item_normal([s ^ 0x3C6EF372 for s in self.seeds.tolist()],
                                (count, 2 * width))
        within = 0.5 + 0.5 * torch.erf(draws[..., width:] / math.sqrt(2.0))  # uniform (0, 1)
        offsets = torch.zeros(draws.shape[0], count, width)
        for i, allowed in enumerate(self.families.cpu().tolist()):
            families = [f for f, on in enumerate(allowed) if on]
            for turn, family in enumerate(families):
                picks = list(range(turn, count, len(families)))
                if not picks:
                    continue
                for j, name in enumerate(groups):
                    if self.GROUP_FAMILY[name] != family:
                        continue
                    strata = draws[i, picks, j].argsort().argsort().float()  # a shuffle
                    unit = spread * (2.0 * (strata + within[i, picks, j]) / len(picks) - 1.0)
                    offsets[i, picks, j] = torch.atanh(unit)
        return offsets

    def without(self, raw: torch.Tensor, families: Sequence[int | None]) -> torch.Tensor:
        """A copy of raw parameters ``raw`` [B, P] with, per item, the controls of family
        ``families[i]`` (an index into FAMILIES; None: none) set to no edit (zero)."""
        out = raw.detach().clone()
        for i, family in enumerate(families):
            if family is None:
                continue
            for name, group_family in self.GROUP_FAMILY.items():
                if group_family == family:
                    out[i, self._slices[name]] = 0.0
        return out

    def to(self, *args, **kwargs):
        moved = super().to(*args, **kwargs)
        moved.source = self.source.to(self.raw.device)
        return moved

    def _unit(self, name: str, rows: torch.Tensor | None = None) -> torch.Tensor:
        """tanh of the raw parameters of one control, zeroed where its family is off (of the
        items at ``rows``, or of all)."""
        family = self.GROUP_FAMILY[name]
        raw, families = (self.raw, self.families) if rows is None else \
            (self.raw[rows], self.families[rows])
        return torch.tanh(raw[:, self._slices[name]]) * families[:, family:family + 1]

    def edits(self, rows: torch.Tensor | None = None) -> Edits:
        b, m = self.bounds, self.frames

        def unit(name: str) -> torch.Tensor:
            return self._unit(name, rows)

        return Edits(
            pitch_st=b.pitch_st * _contour(unit("pitch"), m),
            range_scale=torch.exp(math.log(b.range_scale) * unit("range")[:, 0]),
            gain_db=b.gain_db * _contour(unit("gain"), m),
            rate=torch.exp(math.log(b.rate) * _contour(unit("rate"), m)),
            tilt_db_per_octave=b.tilt_db_per_octave * unit("tilt")[:, 0],
            breathiness=b.breathiness * unit("breath")[:, 0],
        )

    def signal(self) -> torch.Tensor:
        return synthesize(self.source, self.edits(), self.white, self.length)

    def signal_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Only the items at ``rows`` are resynthesized (the costly part of a step)."""
        return synthesize(self.source.select(rows), self.edits(rows), self.white[rows],
                          self.length)

    def regularized(self) -> torch.Tensor:
        """[B, 4]: each family's root-mean-square normalized edit (0: none, 1: at its bounds)."""
        groups = (("pitch", "range"), ("gain",), ("rate",), ("tilt", "breath"))
        parts = []
        for names in groups:
            values = torch.cat([self._unit(n) for n in names], 1)
            parts.append(values.pow(2).mean(1).add(1e-12).sqrt())
        return torch.stack(parts, 1)

    def profile(self) -> torch.Tensor:
        """[B, P]: every normalized control, for comparing explanations (sanity check)."""
        return torch.cat([self._unit(n) for n in self._slices], 1)

    @torch.no_grad()
    def summary(self) -> list[dict]:
        """Per item: the edits in units, over the frames where they matter (F0 where the output
        is voiced, gain where it has sound), and the effective rate (input frames spanned by
        the output's frames with sound, per output frame)."""
        edits = self.edits()
        frames = edited_frames(self.source, edits)
        voiced = frames["voicing"] > 0.5
        sounding = frames["density"].sum(-1) > 1e-3 * frames["density"].sum(-1).amax(
            -1, keepdim=True)
        rows = []
        for i in range(self.raw.shape[0]):
            pitch = _stats(edits.pitch_st[i][voiced[i]])
            gain = _stats(edits.gain_db[i][sounding[i]])
            active = sounding[i]
            rate = float(edits.rate[i][active].mean()) if active.any() else 1.0
            rows.append({
                "families": [f for f, on in zip(FAMILIES, self.families[i].tolist(),
                                                strict=True) if on],
                "pitch_shift_st": pitch,
                "range_scale": float(edits.range_scale[i]),
                "gain_db": gain,
                "rate": rate,
                "tilt_db_per_oct": float(edits.tilt_db_per_octave[i]),
                "breathiness": float(edits.breathiness[i]),
            })
        return rows


def _stats(values: torch.Tensor) -> dict[str, float]:
    if values.numel() == 0:
        return {"mean": 0.0, "min": 0.0, "max": 0.0}
    return {"mean": float(values.mean()), "min": float(values.min()),
            "max": float(values.max())}
