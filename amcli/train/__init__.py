"""Training loops (classifiers now, priors with their issue). No Hydra, librosa or soundfile:
the loops take modules and tensor datasets, so they also run on the GPU machines."""

from amcli.train.classifier import TrainResult, TrainSettings, augment, train_classifier

__all__ = ["TrainResult", "TrainSettings", "augment", "train_classifier"]
