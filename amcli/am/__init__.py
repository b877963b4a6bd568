"""Activation maximization as a library: modules and tensors in, tensors out.

No Hydra, files or plots here (amcli.commands wires configs to it; amcli.report writes files)::

    from amcli import am
    mask = am.Mask(clips, area_target=0.5, init_noise=0.5, seeds=[1, 2, 3, 4])   # clips [4, T]
    result = am.optimize(model, mask, targets, regularizers=[am.SortedArea(), am.TV(0.01)],
                         transforms=am.default_transforms())
    result.target_prob, mask.time_profile()

The methods of ``amcli optimize`` are plug-ins (:mod:`amcli.am.methods`), run on lists of items
by :func:`run_items`.
"""

from amcli.activity import active_frames
from amcli.am.frozen import frozen, rnn_backward_allowed
from amcli.am.items import Item, build_items, resolve_targets
from amcli.am.methods import METHODS, AMMethod, Built, ItemBatch, PlotData, get_method
from amcli.am.objectives import (
    ClassLogit,
    ClassLogSoftmax,
    ClassProbability,
    Context,
    LayerActivation,
    Objective,
    OtherClassesMean,
    class_objective,
)
from amcli.am.optimize import STOP_REASONS, Result, classify, optimize
from amcli.am.params import Input, Latent, Mask, Parameterization
from amcli.am.prosody.controls import Bounds, Prosody
from amcli.am.random import Draws, item_seed
from amcli.am.regularizers import (
    L1,
    L2,
    TV,
    MaskArea,
    Regularizer,
    SortedArea,
    sorted_area_loss,
)
from amcli.am.run import Outcome, RunSettings, chunk_size, fit_chunk, run_items
from amcli.am.transforms import (
    AddNoise,
    Compose,
    RandomGain,
    RandomShift,
    compose,
    default_transforms,
)

__all__ = [
    "L1", "L2", "METHODS", "STOP_REASONS", "TV", "AMMethod", "AddNoise", "Bounds", "Built",
    "ClassLogSoftmax", "ClassLogit", "ClassProbability", "Compose", "Context", "Draws", "Input",
    "Item", "ItemBatch", "Latent", "LayerActivation", "Mask", "MaskArea", "Objective",
    "OtherClassesMean", "Outcome", "Parameterization", "PlotData", "Prosody", "RandomGain",
    "RandomShift",
    "Regularizer", "Result", "RunSettings", "SortedArea", "active_frames", "build_items",
    "chunk_size", "class_objective", "classify", "compose", "default_transforms", "fit_chunk",
    "frozen", "get_method", "item_seed", "optimize", "resolve_targets", "rnn_backward_allowed",
    "run_items", "sorted_area_loss",
]
