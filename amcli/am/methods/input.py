"""method=input: the signal itself (Simonyan, Vedaldi & Zisserman 2013).

Optimizes the waveform (through a tanh, optionally in a 1/f Fourier parameterization) or, for
mel classifiers, the log-mel fed to the classifier's body, from noise or from a clip. It is the
unconstrained baseline: it reaches any target as an adversarial perturbation, and every run says
so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from amcli.am.methods.base import AMMethod, Built, ItemBatch
from amcli.am.params import Input
from amcli.am.regularizers import L2, TV
from amcli.bounds import bounded
from amcli.errors import UserError
from amcli.features import LogMel


class SignalDomain(Enum):
    wave = "wave"  # the waveform
    mel = "mel"  # the log-mel fed to a mel classifier's body


class SignalStart(Enum):
    noise = "noise"
    clip = "clip"


@dataclass
class InputOptions:
    """Options of method=input (the config key ``signal``)."""

    #: wave (optimize the waveform) or mel (the log-mel fed to a mel classifier's body, vocoded for
    #: the WAV)
    domain: SignalDomain = SignalDomain.wave
    #: noise or clip (the input clip)
    start: SignalStart = SignalStart.noise
    #: a 1/f Fourier parameterization of the signal
    spectral: bool = False
    #: weight of the signal's mean square
    l2: float = bounded(0.0, ge=0)
    #: weight of the signal's total variation
    tv: float = bounded(0.0, ge=0)
    seconds: float = bounded(3.0, gt=0, hint="the length of a signal started from noise")


ADVERSARIAL_NOTE = ("method=input is unconstrained: it reaches any target as an adversarial "
                    "perturbation; read it as such, not as an explanation")


class InputMethod(AMMethod):
    name = "input"
    options_type = InputOptions
    config_key = "signal"
    param_type = Input
    summary = ("optimizes the waveform (or log-mel) itself: an unconstrained baseline that "
               "reaches any target as an adversarial perturbation")
    note = ADVERSARIAL_NOTE

    def needs_clip(self, options: InputOptions) -> bool:
        return options.start == SignalStart.clip

    def validate(self, options: InputOptions, model) -> None:
        if options.domain == SignalDomain.mel and model.representation != "mel":
            raise UserError(f"signal.domain=mel needs a mel classifier; "
                            f"{model.checkpoint.get('name', 'this classifier')} takes raw "
                            "audio: use signal.domain=wave")

    def build(self, options: InputOptions, batch: ItemBatch, resources: None) -> Built:
        features = batch.features
        mel = options.domain == SignalDomain.mel
        init = None
        if options.start == SignalStart.clip:
            init = batch.clips.detach().cpu()
            if mel:
                init = LogMel(features)(init)
        if init is not None:
            length = init.shape[-1]
        else:
            samples = int(options.seconds * batch.model.sample_rate)
            length = features.n_frames(samples) if mel else samples
        param = Input(len(batch), length, domain=options.domain.value, init=init,
                      spectral=options.spectral, n_mels=features.n_mels,
                      mel_floor=float(math.log(features.log_floor)), seeds=batch.seeds)
        regs = [r for r in (L2(options.l2) if options.l2 else None,
                            TV(options.tv) if options.tv else None) if r]
        return Built(param.to(batch.device), regs)


METHOD = InputMethod()
