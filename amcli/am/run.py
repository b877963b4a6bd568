"""Run an AM method on a list of items: build, optimize, and the per-item records it adds.

This is the whole optimization of ``amcli optimize`` without configs, files or plots, so the
command, the sanity check (the same items on a randomized classifier) and Python users share it::

    from amcli.am import get_method, build_items, run_items, RunSettings
    method = get_method("mask")
    items = build_items(["angry"], ["clip"], restarts=4, seed=0)
    outcome = run_items(method, MaskOptions(), model, items, {"clip": wave}, RunSettings())
    outcome.result.target_prob
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from amcli.am.frozen import frozen
from amcli.am.items import Item
from amcli.am.methods.base import AMMethod, Built, ItemBatch
from amcli.am.objectives import ClassLogit, Objective
from amcli.am.optimize import Result, evaluate_state, optimize
from amcli.am.transforms import Transform
from amcli.models.base import class_probabilities, is_multi_label

log = logging.getLogger(__name__)

Progress = Callable[[int, torch.Tensor], None]

#: the target probability at which an item counts as having reached its target (verdicts,
#: pruning, faithfulness)
REACHED = 0.9


@dataclass
class RunSettings:
    """The loop's settings, shared by every method (see :func:`amcli.am.optimize`)."""

    steps: int = 200
    lr: float | None = None  # None: the method's default
    optimizer: str = "adam"
    threshold: float | None = 0.99
    min_steps: int = 100
    record_every: int = 10
    precision: str = "fp32"
    compile: bool = False
    objective: Objective = field(default_factory=ClassLogit)
    transforms: Transform | None = None
    #: an item has reached its target at this probability (what pruning must keep)
    reached: float = REACHED
    #: stop an item once its best state has not improved for this many steps (None: never)
    patience: int | None = None


@dataclass
class Outcome:
    """What one batch of items gave: the loop's result, what was optimized, and the records the
    method adds per item."""

    items: list[Item]
    batch: ItemBatch
    built: Built
    result: Result
    records: list[dict[str, Any]]


def item_batch(model: torch.nn.Module, items: Sequence[Item],
               clips: dict[str, torch.Tensor] | None, device: torch.device,
               precision: str = "fp32") -> ItemBatch:
    classes = list(model.classes)
    clip_rows = None
    if clips:
        clip_rows = torch.stack([clips[i.clip] for i in items]).to(device)
    return ItemBatch(model=model,
                     targets=torch.tensor([classes.index(i.target) for i in items]),
                     target_names=[i.target for i in items], seeds=[i.seed for i in items],
                     device=device, clips=clip_rows, clip_names=[i.clip for i in items],
                     precision=precision, clip_bank=clips or None,
                     variants=[i.variant for i in items])


def run_items(method: AMMethod, options: Any, model: torch.nn.Module, items: Sequence[Item],
              clips: dict[str, torch.Tensor] | None, settings: RunSettings,
              device: torch.device | str = "cpu", resources: Any = None,
              progress: Progress | None = None) -> Outcome:
    """Optimize ``items`` with ``method`` on ``model`` in one batch."""
    device = torch.device(device)
    batch = item_batch(model, items, clips, device, settings.precision)
    with frozen(model):
        built = method.build(options, batch, resources)
    result = optimize(model, built.param, batch.targets, objective=settings.objective,
                      regularizers=built.regularizers, transforms=settings.transforms,
                      steps=settings.steps, lr=settings.lr, optimizer=settings.optimizer,
                      threshold=settings.threshold, min_steps=settings.min_steps,
                      record_every=settings.record_every, progress=progress,
                      precision=settings.precision, compile=settings.compile,
                      patience=settings.patience)
    pruned = method.prune(options, batch, built, settings.reached)
    if pruned is not None:
        result = _rescored(model, built, result, settings.precision)
    records = method.item_records(options, batch, built, resources)
    if pruned is not None:
        records = [{**r, **p} for r, p in zip(records, pruned, strict=True)]
    return Outcome(list(items), batch, built, result, records)


def _rescored(model: torch.nn.Module, built: Built, result: Result,
              precision: str) -> Result:
    """The result with its signals and scores taken again from ``built.param`` (after a method
    changed the optimized state, e.g. pruned an edit)."""
    with frozen(model):
        signal, logits = evaluate_state(model, built.param, precision)
    return dataclasses.replace(result, signal=signal, logits=logits,
                               probs=class_probabilities(logits, is_multi_label(model)))


def chunk_size(n_items: int, per_item_bytes: float, free_bytes: float,
               share: float = 0.8) -> int:
    """Items per chunk so that a chunk takes at most ``share`` of the free memory."""
    return max(1, min(n_items, int(share * free_bytes / max(per_item_bytes, 1.0))))


def fit_chunk(method: AMMethod, options: Any, model: torch.nn.Module, items: Sequence[Item],
              clips: dict[str, torch.Tensor] | None, settings: RunSettings,
              device: torch.device, resources: Any = None) -> int:
    """On CUDA: as many items as fit 80% of the free memory, measured by a two-step probe on
    two items; elsewhere (or for two items or fewer) every item in one batch. Results do not
    depend on the chunk size (per-item seeds)."""
    if device.type != "cuda" or len(items) <= 2:
        return len(items)
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    probe = dataclasses.replace(settings, steps=2, min_steps=10**6)
    run_items(method, options, model, items[:2], clips, probe, device, resources)
    torch.cuda.synchronize(device)
    per_item = (torch.cuda.max_memory_allocated(device) - base) / 2
    free, _ = torch.cuda.mem_get_info(device)
    size = chunk_size(len(items), per_item, free)
    log.info("%.1f MB per item, %.1f GB free: %d items per chunk", per_item / 2**20,
             free / 2**30, size)
    return size
