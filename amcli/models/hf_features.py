"""transformers' audio feature extractors, re-implemented in torch so that gradients reach the
waveform.

A transformers audio classifier is a feature extractor (NumPy, outside the model) followed by
the model. Activation maximization needs the gradient of the model's output with respect to the
waveform, so the extraction must be part of the differentiable model. Each front end here
computes what its extractor computes, from the extractor's own saved settings
(``preprocessor_config.json``), within a tolerance the tests check against the extractor itself:

- waveform models (wav2vec2, HuBERT, WavLM, data2vec-audio): the optional per-utterance
  normalization, :class:`UtteranceNorm`;
- the Audio Spectrogram Transformer: Kaldi's log-mel filterbank (torchaudio.compliance.kaldi,
  which ASTFeatureExtractor itself calls, one clip at a time), padded with zeros or cut to
  ``max_length`` frames, then ``(x - mean) / (2 std)``, :class:`KaldiFbank`;
- Whisper encoders: the clip padded with zeros to 30 s, a 400-point power STFT (last frame
  dropped), Slaney mel filters, log10 floored 8 decades below the clip's maximum, then
  ``(x + 4) / 4``, :class:`WhisperLogMel`;
- CLAP's audio tower: the clip repeated and padded with zeros to ``max_length_s`` (10 s), a
  centred power STFT, the extractor's mel filters, in dB, :class:`ClapLogMel`.

:func:`front_end` picks the one an extractor needs and names the model input it fills.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from amcli.errors import UserError

#: The feature extractor's variance floor (Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm).
NORM_EPS = 1e-7


class UtteranceNorm(nn.Module):
    """Zero mean and unit variance per clip, in torch: the feature extractor's
    ``zero_mean_unit_var_norm`` ((x - mean) / sqrt(var + 1e-7), population variance) for
    unpadded clips, differentiable."""

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        mean = wave.mean(dim=-1, keepdim=True)
        var = wave.var(dim=-1, unbiased=False, keepdim=True)
        return (wave - mean) / torch.sqrt(var + NORM_EPS)


class KaldiFbank(nn.Module):
    """ASTFeatureExtractor in torch: waveform [B, T] -> input_values [B, max_length, mel bins].

    The extractor calls torchaudio's Kaldi-compatible fbank (Hanning window, 25 ms frames every
    10 ms, pre-emphasis 0.97, DC removal, no dither) on the waveform as given (not scaled to
    16-bit integers), so this does the same, clip by clip (the Kaldi routine takes one)."""

    def __init__(self, sample_rate: int, mel_bins: int, max_length: int, mean: float,
                 std: float, normalize: bool) -> None:
        super().__init__()
        self.sample_rate, self.mel_bins, self.max_length = sample_rate, mel_bins, max_length
        self.mean, self.std, self.normalize = mean, std, normalize

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        from torchaudio.compliance import kaldi

        banks = [kaldi.fbank(clip.unsqueeze(0), sample_frequency=self.sample_rate,
                             window_type="hanning", num_mel_bins=self.mel_bins)
                 for clip in wave]
        fbank = torch.stack([self._fit_length(b) for b in banks])
        if self.normalize:
            fbank = (fbank - self.mean) / (self.std * 2.0)
        return fbank

    def _fit_length(self, bank: torch.Tensor) -> torch.Tensor:
        missing = self.max_length - bank.shape[0]
        if missing > 0:
            return nn.functional.pad(bank, (0, 0, 0, missing))
        return bank[: self.max_length]


class WhisperLogMel(nn.Module):
    """WhisperFeatureExtractor in torch: waveform [B, T] -> input_features [B, mel bins,
    frames] (3000 for the usual 30 s).

    Whisper's encoder takes exactly ``n_samples`` (30 s) of audio: shorter clips are padded with
    zeros, longer ones cut, as the extractor does by default. The floor of the log spectrum is 8
    decades below each clip's own maximum."""

    def __init__(self, n_fft: int, hop: int, n_samples: int, mel_filters: Any) -> None:
        super().__init__()
        self.n_fft, self.hop, self.n_samples = n_fft, hop, n_samples
        self.register_buffer("mel_filters", torch.as_tensor(mel_filters, dtype=torch.float32)
                             .T.contiguous(), persistent=False)  # [mel bins, n_fft // 2 + 1]
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        missing = self.n_samples - wave.shape[-1]
        wave = nn.functional.pad(wave, (0, missing)) if missing > 0 else \
            wave[..., : self.n_samples]
        stft = torch.stft(wave, self.n_fft, self.hop, window=self.window, return_complex=True)
        power = stft[..., :-1].abs().pow(2)
        log_spec = torch.clamp(self.mel_filters @ power, min=1e-10).log10()
        peak = log_spec.amax(dim=(-2, -1), keepdim=True)
        return (torch.maximum(log_spec, peak - 8.0) + 4.0) / 4.0


class ClapLogMel(nn.Module):
    """ClapFeatureExtractor in torch, for clips up to ``max_length_s``: waveform [B, T] ->
    input_features [B, 1 or 4, frames, mel bins] and is_longer [B, 1].

    A clip shorter than the window is repeated as many whole times as fit, then padded with
    zeros ("repeatpad"). A fusion model (``truncation="fusion"``) takes four copies of the mel
    and is told the clip is "longer", as the extractor tells it for a single clip; a longer clip
    is cut to its first ``max_length_s`` (the extractor takes random crops, which would make
    every step random)."""

    def __init__(self, extractor: Any) -> None:
        super().__init__()
        self.n_fft, self.hop = int(extractor.fft_window_size), int(extractor.hop_length)
        self.max_samples = int(extractor.nb_max_samples)
        self.fusion = extractor.truncation == "fusion"
        filters = extractor.mel_filters if self.fusion else extractor.mel_filters_slaney
        self.register_buffer("mel_filters", torch.as_tensor(filters, dtype=torch.float32).T
                             .contiguous(), persistent=False)  # [mel bins, n_fft // 2 + 1]
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        length = wave.shape[-1]
        if length > self.max_samples:
            wave = wave[..., : self.max_samples]
        elif length < self.max_samples:
            repeats = self.max_samples // length
            wave = nn.functional.pad(wave.repeat(1, repeats), (0, self.max_samples -
                                                               repeats * length))
        stft = torch.stft(wave, self.n_fft, self.hop, window=self.window, center=True,
                          pad_mode="reflect", return_complex=True)
        mel = self.mel_filters @ stft.abs().pow(2)  # [B, mel bins, frames]
        db = 10.0 * torch.log10(mel.clamp_min(1e-10)).transpose(1, 2).unsqueeze(1)
        longer = torch.full((wave.shape[0], 1), self.fusion, dtype=torch.bool,
                            device=wave.device)
        return (db.expand(-1, 4, -1, -1) if self.fusion else db), longer


def front_end(extractor: Any, key: str) -> tuple[nn.Module, str]:
    """(the torch module that computes what ``extractor`` computes, the name of the model input
    it fills). Extractors amcli does not know are refused, naming the ones it does."""
    kind = type(extractor).__name__
    inputs = list(getattr(extractor, "model_input_names", ["input_values"]))
    if kind == "ASTFeatureExtractor":
        return KaldiFbank(int(extractor.sampling_rate), int(extractor.num_mel_bins),
                          int(extractor.max_length), float(extractor.mean),
                          float(extractor.std), bool(extractor.do_normalize)), "input_values"
    if kind == "WhisperFeatureExtractor":
        if float(getattr(extractor, "dither", 0.0) or 0.0) != 0.0:
            raise UserError(f"{key}: its WhisperFeatureExtractor adds dither noise "
                            f"(dither={extractor.dither}), which would make every step "
                            "random; set \"dither\": 0.0 in preprocessor_config.json")
        return WhisperLogMel(int(extractor.n_fft), int(extractor.hop_length),
                             int(extractor.n_samples), extractor.mel_filters), "input_features"
    if kind == "ClapFeatureExtractor":
        return ClapLogMel(extractor), "input_features"
    if any(c.__name__ == "Wav2Vec2FeatureExtractor" for c in type(extractor).__mro__):
        # wav2vec2, HuBERT, WavLM, data2vec-audio, SEW, UniSpeech: the waveform itself
        norm = UtteranceNorm() if extractor.do_normalize else nn.Identity()
        return norm, "input_values"
    raise UserError(
        f"{key}: its {kind} computes {inputs[0]} in NumPy, which gradients cannot pass, and "
        "amcli has no torch version of it; amcli explains models whose features it computes in "
        "torch: waveform models (wav2vec2, HuBERT, WavLM, data2vec-audio), the Audio "
        "Spectrogram Transformer, Whisper encoders and CLAP")
