"""The batched activation-maximization loop.

All items (targets x restarts x clips) are one batch: one forward and one backward per step.
Items never interact (their parameters are separate rows, the model is in eval mode, Adam's
update is elementwise, and every random draw is the item's own: :mod:`amcli.am.random`), so the
batch computes what per-item loops would, only faster. An item
stops on its own when its target probability on the clean signal reaches ``threshold`` after
``min_steps`` and its parameterization's constraint holds, or (with ``patience``) once its best
state has not improved for that many steps; an item whose loss or gradient turns NaN/inf is
stopped and reported; the others go on. Stopped items are frozen (their rows restored after every
optimizer step).

An optimizer's last iterate is not its answer: a size penalty can shrink an edit that reached the
target until it no longer does. At every clean evaluation the loop ranks each item's state by
the method's own criterion (:func:`rank`) and returns, per item, the best state it saw, with the
step it was found at; the last step's figures stay beside it (``Result.last``).

The model and any module the parameterization borrows are frozen for the run and handed back
exactly as they were (training flags, ``requires_grad``); recurrent layers get gradients on CUDA
in eval mode (:func:`amcli.am.frozen.rnn_backward_allowed`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

import torch
from torch import nn

from amcli.am.frozen import frozen, rnn_backward_allowed
from amcli.am.objectives import ClassLogit, Context, Hooks, Objective
from amcli.am.params import Parameterization
from amcli.am.random import Draws
from amcli.am.regularizers import Regularizer
from amcli.am.transforms import Transform, for_model
from amcli.models.base import class_probabilities, is_multi_label

STOP_REASONS = ("threshold", "max_steps", "nonfinite", "interrupted", "plateau")

#: an improvement of the ranking value smaller than this does not reset ``patience``
MIN_IMPROVEMENT = 1e-3


@dataclass
class Result:
    """What the loop returns: final clean signals and scores, per-item stops, histories."""

    signal: torch.Tensor
    logits: torch.Tensor
    probs: torch.Tensor
    targets: torch.Tensor
    steps: list[int]
    stop_reason: list[str]
    history: dict[str, list] = field(default_factory=dict)
    interrupted: bool = False
    #: the KeyboardInterrupt (or a signal's subclass of it) that stopped the loop, to re-raise
    interrupt: KeyboardInterrupt | None = field(default=None, repr=False)
    #: per item, the step whose state the result holds (the best state seen)
    best_step: list[int] = field(default_factory=list)
    #: per item, the last evaluated state's figures: {"step", "target_prob", "objective"}
    last: list[dict] = field(default_factory=list)

    @property
    def target_prob(self) -> torch.Tensor:
        return self.probs.gather(1, self.targets.view(-1, 1)).squeeze(1)


def classify(model: nn.Module, signal: torch.Tensor, domain: str,
             precision: str = "fp32", forward: Callable | None = None) -> torch.Tensor:
    """Logits of a waveform (through the whole model) or of a log-mel (through ``body``);
    ``forward`` replaces that function (a compiled copy of it)."""
    with torch.autocast(signal.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        if forward is not None:
            logits = forward(signal)
        else:
            logits = model(signal) if domain == "wave" else model.body(signal)
    return logits.float()


@torch.no_grad()
def evaluate_state(model: nn.Module, param: Parameterization,
          precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
    """The parameterization's signal as it stands, and the model's logits for it: what a
    result reports (after the loop, and again after a method changed the state)."""
    signal = param.signal().detach()
    return signal, classify(model, signal, param.domain, precision)


def compiled_forward(model: nn.Module, domain: str, device: torch.device) -> Callable:
    """``torch.compile`` of what the loop calls every step. On CUDA with mode "reduce-overhead",
    which captures the step's kernels in CUDA graphs; elsewhere inductor's default mode. The
    first steps pay for compilation; each new batch size compiles again."""
    target = model if domain == "wave" else model.body
    mode = "reduce-overhead" if device.type == "cuda" else "default"
    return torch.compile(target, mode=mode, dynamic=False)


def goal_of(objective: Objective, threshold: float | None) -> float | None:
    """The target probability at which an item counts as having reached its target when
    states are ranked: a capped objective's cap (its least-edit regime starts there), else the
    stop threshold."""
    cap = getattr(objective, "cap", None)
    return float(cap) if cap is not None else threshold


def rank(p_t: torch.Tensor, value: torch.Tensor, constraint: torch.Tensor,
         goal: float | None) -> torch.Tensor:
    """The tier of each item's state; within a tier a higher ``value`` (objective minus the
    penalties at their final weights) is better. Tiers, best first: the parameterization's
    constraint holds and the target reaches ``goal``; the constraint holds; neither holds.
    For a capped (least-edit) objective the value of states at the cap is minus the penalty, so
    among the states that reach the target the smallest edit wins; otherwise the best
    objective. A non-finite value ranks below everything (tier -1)."""
    reached = p_t >= goal if goal is not None else torch.zeros_like(constraint)
    tier = 2 * constraint.long() + (reached & constraint).long()
    return torch.where(torch.isfinite(value), tier, torch.full_like(tier, -1))


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"unknown optimizer '{name}'; use adam or sgd")


def optimize(
    model: nn.Module,
    param: Parameterization,
    targets: torch.Tensor | Sequence[int],
    objective: Objective | None = None,
    regularizers: Sequence[Regularizer] = (),
    transforms: Transform | None = None,
    steps: int = 200,
    lr: float | None = None,
    optimizer: str = "adam",
    threshold: float | None = 0.99,
    min_steps: int = 0,
    record_every: int = 10,
    progress: Callable[[int, torch.Tensor], None] | None = None,
    precision: str = "fp32",
    compile: bool = False,
    patience: int | None = None,
) -> Result:
    """Maximize ``objective`` minus ``regularizers`` for every item of ``param``.

    ``targets`` are class indices per item; ``transforms`` a callable ``(signal, domain,
    draws)`` (:func:`amcli.am.transforms.default_transforms`, or your own composition);
    ``lr`` None takes the parameterization's ``default_lr``; ``progress(step, target_prob)`` is
    called after every clean evaluation. Ctrl-C stops all running items ("interrupted") and
    returns. ``precision="bf16"`` runs the classifier under bfloat16 autocast; ``compile=True``
    runs it through ``torch.compile`` (not with layer objectives, whose forward hooks it would
    bypass). ``patience`` stops an item (after ``min_steps``) once its best state has not
    improved for that many steps. ``model`` (and what ``param`` borrows) come back in the state
    they were given; ``param`` holds each item's best state (see :func:`rank`).
    """
    device = param.device
    targets = torch.as_tensor(targets, dtype=torch.long, device=device).view(-1)
    batch = param.batch_size
    if targets.numel() != batch:
        raise ValueError(f"{targets.numel()} targets for {batch} items")
    with ExitStack() as stack:
        stack.enter_context(frozen(model, *param.frozen_modules()))
        stack.enter_context(rnn_backward_allowed(model, device))
        return _run(model, param, targets, objective or ClassLogit(), regularizers, transforms,
                    steps, param.default_lr if lr is None else lr, optimizer, threshold,
                    min_steps, record_every, progress, precision, compile, patience)


def _run(model, param, targets, objective, regularizers, transforms, steps, lr, optimizer,
         threshold, min_steps, record_every, progress, precision, compile, patience) -> Result:
    device = param.device
    batch = param.batch_size
    seeds = param.seeds.to(device)
    if transforms is not None:  # a shift in seconds is the model's samples or frames
        transforms = for_model(transforms, model)
    params = list(param.parameters())
    opt = make_optimizer(optimizer, params, lr)
    running = torch.ones(batch, dtype=torch.bool, device=device)
    # the same on the host: asking the device whether items run would wait for it every step
    running_host = [True] * batch
    running_rows: list[torch.Tensor] = []  # the running items' indices, on the device (cache)
    frozen = [p.detach().clone() for p in params]  # stopped items' final state
    good = [p.detach().clone() for p in params]  # each item's last state with a finite loss
    reasons = ["max_steps"] * batch
    taken = [steps] * batch
    history: dict[str, list] = {"step": [], "objective": [], "target_prob": [], "penalty": []}
    hooks = Hooks(model, objective.layers) if objective.layers else None
    multi_label = is_multi_label(model)
    forward = compiled_forward(model, param.domain, device) if compile and not hooks else None
    interrupted, interrupt = False, None
    last_score = torch.zeros(batch, device=device)
    last_penalty = torch.zeros(batch, device=device)
    goal = goal_of(objective, threshold)
    best = [p.detach().clone() for p in params]  # each item's best state so far
    best_tier = torch.full((batch,), -2, dtype=torch.long, device=device)
    best_value = torch.full((batch,), -math.inf, device=device)
    best_step = [0] * batch
    # the clean logits each best state was ranked by: what the result reports for it, so the
    # loop needs no extra forward pass at the end
    best_logits: dict[str, torch.Tensor] = {}
    improved_at = torch.zeros(batch, dtype=torch.long, device=device)
    last_seen: list[dict] = [{"step": 0, "target_prob": None, "objective": None}
                        for _ in range(batch)]

    def keep_best(step: int, logits: torch.Tensor, p_t: torch.Tensor) -> None:
        """Rank the clean state after ``step`` updates against each item's best so far."""
        with torch.no_grad():
            ctx = Context(logits.detach().float(), targets,
                          hooks.activations if hooks else {}, multi_label)
            objective_value = objective(ctx).detach().float()
            final = sum((reg(param, steps - 1, steps).detach() for reg in regularizers),
                        torch.zeros(batch, device=device))
            value = objective_value - final
            tier = rank(p_t, value, param.constraint_met(), goal)
            better = (tier > best_tier) | ((tier == best_tier) & (value > best_value))
            if better.any():
                for keep, p in zip(best, params, strict=True):
                    keep[better] = p.detach()[better]
                if "logits" in best_logits:
                    best_logits["logits"] = torch.where(better.view(-1, 1), logits,
                                                        best_logits["logits"])
                else:  # the first ranking: every item's state is its best so far
                    best_logits["logits"] = logits.clone()
                gain = (tier > best_tier) | (value > best_value + MIN_IMPROVEMENT)
                improved_at[better & gain] = step
                best_tier.copy_(torch.where(better, tier, best_tier))
                best_value.copy_(torch.where(better, value, best_value))
                for i in better.nonzero().flatten().tolist():
                    best_step[i] = step
        # the last step's figures, for the items that were still moving (one copy to the host:
        # reading item by item would wait for the device once per item)
        p_host, objective_host = p_t.tolist(), objective_value.tolist()
        for i in range(batch):
            if running_host[i]:
                last_seen[i] = {"step": step, "target_prob": p_host[i],
                                "objective": objective_host[i]}

    def stop(rows: torch.Tensor, reason: str, step: int) -> None:
        for i in rows.nonzero().flatten().tolist():
            reasons[i], taken[i] = reason, step
            running_host[i] = False
        running[rows] = False
        running_rows.clear()

    def any_running() -> bool:
        return any(running_host)

    # Once items stop, the loop renders and classifies only those still running (their
    # results do not depend on which others run); a stopped item's state is frozen, so its last
    # clean logits stand for it. Not with layer objectives (hooks see the whole batch) or a
    # compiled forward (each new batch size would compile again).
    compact = hooks is None and forward is None
    clean: dict[str, torch.Tensor] = {}

    def active_rows() -> torch.Tensor | None:
        """The running items' rows, or None when all run (or rows are not compacted)."""
        if not compact or all(running_host) or not clean:
            return None
        if not running_rows:
            running_rows.append(torch.tensor([i for i in range(batch) if running_host[i]],
                                             dtype=torch.long, device=device))
        return running_rows[0]

    def check(step: int, logits: torch.Tensor | None = None,
              score: torch.Tensor | None = None, penalty: torch.Tensor | None = None,
              rows: torch.Tensor | None = None) -> None:
        """Record and test the clean state after ``step`` updates (``logits`` of it, if
        already computed; of the items at ``rows`` only, when given)."""
        if logits is None:
            rows = active_rows()
        if rows is not None and rows.numel() == 0:  # nothing runs: nothing changed to check
            logits = clean["logits"]
            rows = None
        if logits is None:
            with torch.no_grad():
                signal = param.signal() if rows is None else param.signal_rows(rows)
                # eager: a compiled forward would compile again for no-grad mode (and, with
                # each batch size, soon reach dynamo's recompile limit and fall back to eager)
                logits = classify(model, signal, param.domain, precision)
        logits = logits.detach().float()
        if rows is None:
            clean["logits"] = logits
        else:
            clean["logits"] = clean["logits"].index_put((rows,), logits)
            logits = clean["logits"]
        probs = class_probabilities(logits, multi_label)
        p_t = probs.gather(1, targets.view(-1, 1)).squeeze(1)
        was_running = running.clone()
        keep_best(step, logits, p_t)  # before the stops below: a stopping item is ranked too
        history["step"].append(step)
        history["target_prob"].append(p_t.tolist())
        history["objective"].append((last_score if score is None else score).tolist())
        history["penalty"].append((last_penalty if penalty is None else penalty).tolist())
        if threshold is not None and step >= min_steps:
            reached = running & (p_t >= threshold) & param.constraint_met()
            if reached.any():
                stop(reached, "threshold", step)
                for keep, p in zip(frozen, params, strict=True):
                    keep[reached] = p.detach()[reached]
        if patience is not None and step >= min_steps:
            stale = was_running & running & (step - improved_at >= patience)
            if stale.any():
                stop(stale, "plateau", step)
                for keep, p in zip(frozen, params, strict=True):
                    keep[stale] = p.detach()[stale]
        if progress:
            progress(step, p_t)

    # Without transforms the step's own forward sees the clean signal: its logits serve the
    # check of the previous state, and no extra forward pass is needed.
    reuse = transforms is None
    done = 0
    try:
        if not reuse:
            check(0)
        for step in range(1, steps + 1):
            if not any_running():
                break
            rows = active_rows()
            signal = param.signal() if rows is None else param.signal_rows(rows)
            draws = Draws(seeds if rows is None else seeds[rows], step)
            heard = transforms(signal, param.domain, draws) if transforms else signal
            logits = classify(model, heard, param.domain, precision, forward)
            ctx = Context(logits.float(), targets if rows is None else targets[rows],
                          hooks.activations if hooks else {}, multi_label)
            score = objective(ctx)
            computed = running.clone() if rows is not None else torch.ones_like(running)
            if rows is not None:  # stopped items keep their last score; they get no gradient
                score = last_score.index_put((rows,), score)
            penalty = sum((reg(param, step - 1, steps) for reg in regularizers),
                          torch.zeros(batch, device=device))
            if reuse and (step - 1) % record_every == 0:
                check(step - 1, logits, score.detach(), penalty.detach(), rows)
                if not any_running():
                    break
            loss = penalty - score
            finite = torch.isfinite(loss)
            opt.zero_grad(set_to_none=False)
            # the items whose loss counts: masked, not indexed, so that no step waits for the
            # device to say which they are (the gradients are the same: zero for the others)
            use = running & finite
            torch.where(use, loss, torch.zeros_like(loss)).sum().backward()
            for p in params:
                if p.grad is None:  # nothing was backpropagated: no item had a finite loss
                    p.grad = torch.zeros_like(p)
                finite &= torch.isfinite(p.grad.reshape(batch, -1)).all(dim=1)
            ok = running & finite
            everyone = bool(ok.all())  # the common case: no masking or restoring needed
            with torch.no_grad():
                for last, p in zip(good, params, strict=True):
                    if everyone:
                        last.copy_(p)
                    else:
                        p.grad[~ok] = 0.0
                        last[ok] = p[ok]
                if not everyone:
                    broken = running & ~finite
                    if broken.any():
                        for keep, last in zip(frozen, good, strict=True):
                            keep[broken] = last[broken]
                        stop(broken, "nonfinite", step - 1)
            opt.step()
            if not everyone:
                with torch.no_grad():
                    for keep, p in zip(frozen, params, strict=True):
                        p[~running] = keep[~running]
            done = step
            last_score = torch.where(finite & computed, score.detach(), last_score)
            last_penalty = torch.where(finite & computed, penalty.detach(), last_penalty)
            if not reuse and (step % record_every == 0 or step == steps):
                check(step)
        if reuse and (not history["step"] or history["step"][-1] < done):
            check(done)
    except KeyboardInterrupt as err:
        interrupted, interrupt = True, err
        with torch.no_grad():
            for keep, p in zip(frozen, params, strict=True):
                p[~running] = keep[~running]
        stop(running.clone(), "interrupted", history["step"][-1] if history["step"] else 0)
    finally:
        if hooks:
            hooks.remove()
    with torch.no_grad():
        if history["step"]:  # every item goes back to its best state
            for keep, p in zip(best, params, strict=True):
                p.copy_(keep)
    kept = best_logits.get("logits")
    if kept is not None and bool(torch.isfinite(kept).all()):
        with torch.no_grad():
            signal, logits = param.signal().detach(), kept
    else:  # never evaluated (stopped before the first check), or evaluated as NaN/inf
        signal, logits = evaluate_state(model, param, precision)
    for i in range(batch):
        if reasons[i] == "max_steps":
            taken[i] = min(taken[i], history["step"][-1] if history["step"] else 0)
    return Result(signal=signal, logits=logits, probs=class_probabilities(logits, multi_label),
                  targets=targets, steps=taken, stop_reason=reasons, history=history,
                  interrupted=interrupted, interrupt=interrupt, best_step=best_step,
                  last=last_seen)
