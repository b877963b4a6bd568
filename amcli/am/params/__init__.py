"""What is optimized: a mask over a clip, the signal itself, or a generator's latent.

Every parameterization holds one batch of items (targets x restarts x clips) as leaf tensors
with the batch first, and renders them to the signal the classifier hears: a waveform [B, T]
(``domain == "wave"``) or a log-mel [B, n_mels, frames] fed to the classifier's ``body``
(``domain == "mel"``). Items never interact, and each item draws its random start from its own
seed (``seeds``, one per item; :mod:`amcli.am.random`), so a batched optimization equals per-item
ones whatever the batch.

Each parameterization says what the generic penalties (L1, L2, TV) act on (``regularized``), its
default learning rate (``default_lr``, the one the CLI uses too) and which modules it borrows
(``frozen_modules``: the loop freezes them for the run and hands them back unchanged).
"""


from __future__ import annotations

from amcli.am.params.base import Parameterization, item_seeds
from amcli.am.params.input import Input
from amcli.am.params.latent import Latent
from amcli.am.params.mask import AREA_TOLERANCE, Mask, sorted_area_loss

__all__ = ["AREA_TOLERANCE", "Input", "Latent", "Mask", "Parameterization", "item_seeds",
           "sorted_area_loss"]
