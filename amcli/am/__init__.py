"""Activation maximization as a library: modules and tensors in, tensors out.

No Hydra, files or plots here (amcli.commands wires configs to it; amcli.report writes files)::

    from amcli.am import Mask, optimize, SortedArea, TV, RobustTransforms
    mask = Mask(clips, max_gain=1.0)                       # clips [B, T]
    result = optimize(model, mask, targets, regularizers=[SortedArea(0.3), TV(0.1)],
                      transforms=RobustTransforms())
    result.target_prob, mask.frame_mask()
"""

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
from amcli.am.parameterization import (
    Input,
    Latent,
    Mask,
    Parameterization,
    active_frames,
)
from amcli.am.regularizers import (
    L1,
    L2,
    TV,
    MaskArea,
    Regularizer,
    RobustTransforms,
    SortedArea,
    sorted_area_loss,
)

__all__ = [
    "L1", "L2", "STOP_REASONS", "TV", "ClassLogSoftmax", "ClassLogit", "ClassProbability",
    "Context", "Input", "Latent", "LayerActivation", "Mask", "MaskArea", "Objective",
    "OtherClassesMean", "Parameterization", "Regularizer", "Result", "RobustTransforms",
    "SortedArea", "active_frames", "class_objective", "classify", "optimize", "sorted_area_loss",
]
