"""method=latent: a generator's noise z, x = G(z) (DGN-AM, Nguyen et al. 2016).

The output stays what the prior can say: it asks what the classifier wants to hear among the
things the generator can make. The objective is the seed's family (the target logit, minus
``objective.suppress`` times the other classes' mean logit, minus lambda_1 mean|z| and lambda_2
mean z^2), with z kept in the prior's typical set (norm at most ``max_norm`` x sqrt(d)). The
prior is the config group ``prior`` (gan | cgan, resolving to the shipped
``<prior>_<classifier representation>``, or ``prior.checkpoint=PATH``); it exists only with this
method. A conditional prior is told each item's target (``condition: target``) or one class for
all, which separates what the generator was told from what the optimizer found.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

import torch
from typing_extensions import NotRequired, TypedDict

from amcli.am.methods.base import STRICT, AMMethod, Built, ItemBatch, described
from amcli.am.optimize import classify
from amcli.am.params import Latent
from amcli.am.regularizers import L1, L2
from amcli.bounds import bounded
from amcli.errors import UserError


class Prior(Enum):
    gan = "gan"
    cgan = "cgan"


@dataclass
class PriorConfig:
    """``prior=gan|cgan`` (config group conf/prior/) resolves to the shipped checkpoint
    ``<kind>_<representation of the classifier>``; ``prior.checkpoint=PATH`` names another.
    train-prior shares the group (``prior=cgan`` trains a conditional GAN)."""

    #: gan or cgan (set by prior=)
    kind: Prior = Prior.gan
    #: a prior checkpoint (.json) to use instead of the shipped <kind>_<representation>
    checkpoint: str | None = None


@dataclass
class LatentOptions:
    """Options of method=latent (the config key ``latent``)."""

    #: z's norm is kept at most max_norm * sqrt(latent_dim) (the prior's typical set); null: free
    max_norm: float | None = bounded(1.0, gt=0, hint="a multiple of sqrt(latent_dim)")
    l1: float = bounded(0.0, ge=0)  # lambda_1 * mean |z|
    l2: float = bounded(0.0, ge=0)  # lambda_2 * mean z^2
    init_std: float = bounded(1.0, gt=0)  # z starts from N(0, init_std^2 I)
    #: each item starts from the best of this many draws of z (by its target logit); 1: the first
    init_candidates: int = bounded(8, ge=1)
    #: cgan: what the generator is told: null/target = each item's target, or one class for all
    condition: str | None = None


@dataclass
class LatentSetup:
    """method=latent's options together with its prior."""

    options: LatentOptions
    prior: PriorConfig


@dataclass
class PriorResources:
    generator: Any
    conditions: list[str] | None  # per target, for a conditional prior


class LatentItem(TypedDict):
    """What method=latent adds to an item's record."""

    __pydantic_config__ = STRICT
    condition: NotRequired[described(str, "cgan: the class the generator was told")]


class PriorRecord(TypedDict):
    """The generator a latent run optimized the noise of."""

    __pydantic_config__ = STRICT
    kind: Literal["gan", "cgan"]
    name: str
    sha256: str
    condition: NotRequired[described(str | None, "cgan: 'target' or the one class every item "
                                     "was told")]


class LatentRun(TypedDict):
    """What method=latent adds to the run's record."""

    __pydantic_config__ = STRICT
    prior: NotRequired[described(PriorRecord | None, "method=latent: the generator")]


class LatentMethod(AMMethod):
    name = "latent"
    options_type = LatentOptions
    config_key = "latent"
    param_type = Latent
    groups = {"prior": PriorConfig}
    record_type = LatentItem
    run_type = LatentRun
    table_columns = ("condition",)
    summary = ("optimizes a GAN prior's noise z (DGN-AM): prior=gan or prior=cgan; outputs "
               "sound like the prior's speech")

    def options_from(self, config: Any) -> LatentSetup:
        return LatentSetup(config.latent, config.prior)

    def validate(self, setup: LatentSetup, model) -> None:
        if setup.options.condition not in (None, "target") and setup.prior.kind != Prior.cgan:
            raise UserError(f"latent.condition={setup.options.condition} needs a conditional "
                            "prior: use prior=cgan or drop the condition")

    def prepare(self, setup: LatentSetup, model, targets: list[str],
                device: torch.device) -> PriorResources:
        generator = load_prior(setup.prior, model, device)
        conditions = None
        if generator.conditional:
            conditions = conditions_for(setup.options.condition, generator, targets)
        return PriorResources(generator, conditions)

    def run_info(self, setup: LatentSetup, resources: PriorResources) -> dict[str, Any]:
        gen = resources.generator
        return {"prior": {"kind": setup.prior.kind.value, "name": gen.checkpoint["name"],
                          "sha256": gen.checkpoint["sha256"],
                          "condition": (setup.options.condition or "target")
                          if gen.conditional else None}}

    def build(self, setup: LatentSetup, batch: ItemBatch, resources: PriorResources) -> Built:
        options, gen = setup.options, resources.generator
        labels = None
        if gen.conditional:
            wanted = conditions_for(options.condition, gen, batch.target_names)
            labels = torch.tensor([gen.classes.index(c) for c in wanted])
        param = Latent(gen, len(batch), labels, max_norm=options.max_norm,
                       init_std=options.init_std, seeds=batch.seeds)
        targets = batch.targets.to(param.device)

        def target_logit(signal: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
            logits = classify(batch.model, signal, param.domain, batch.precision)
            return logits.gather(1, targets[item].view(-1, 1))[:, 0]

        param.pick_start(target_logit, options.init_candidates)
        regs = [r for r in (L1(options.l1) if options.l1 else None,
                            L2(options.l2) if options.l2 else None) if r]
        return Built(param, regs)

    def item_records(self, setup: LatentSetup, batch: ItemBatch, built: Built,
                     resources: PriorResources) -> list[dict]:
        param: Latent = built.param
        if param.labels is None:
            return [{} for _ in range(len(batch))]
        return [{"condition": param.generator.classes[int(y)]} for y in param.labels]

    def table_row(self, record: dict) -> dict:
        return {"condition": record.get("condition")}


def load_prior(prior: PriorConfig, model, device: torch.device):
    """The generator of ``prior=``: ``<kind>_<classifier representation>`` or
    ``prior.checkpoint``; refused when its representation, rate or log-mel parameters differ
    from the classifier's, or when its conditioning is not what ``prior=`` says."""
    from amcli.models.checkpoint import load_generator

    kind = prior.kind.value
    gen = load_generator(prior.checkpoint or f"{kind}_{model.representation}", device)
    name, classifier = gen.checkpoint["name"], model.checkpoint.get("name", "the classifier")
    if gen.representation != model.representation:
        raise UserError(f"prior {name} makes {gen.representation} but classifier {classifier} "
                        f"takes {model.representation}: use a {model.representation} prior "
                        f"(prior.checkpoint=) or a {gen.representation} classifier")
    if gen.sample_rate != model.sample_rate:
        raise UserError(f"prior {name} runs at {gen.sample_rate} Hz, classifier {classifier} "
                        f"at {model.sample_rate} Hz; train the prior at the classifier's rate")
    if gen.representation == "mel" and gen.feature_params != model.feature_params:
        raise UserError(f"prior {name} and classifier {classifier} use different log-mel "
                        f"parameters ({gen.feature_params} vs {model.feature_params}); train "
                        "the prior with the classifier's features")
    if gen.conditional != (kind == "cgan"):
        which = "a conditional" if gen.conditional else "an unconditional"
        raise UserError(f"prior={kind} but {name} is {which} generator; use "
                        f"prior={'cgan' if gen.conditional else 'gan'} with it")
    return gen


def conditions_for(condition: str | None, generator, targets: list[str]) -> list[str]:
    """The class a cgan is told to make for each target (condition=target: the target)."""
    wanted = targets if condition in (None, "target") else [condition] * len(targets)
    unknown = sorted({c for c in wanted if c not in generator.classes})
    if unknown:
        raise UserError(f"condition {unknown[0]} is not a class of prior "
                        f"{generator.checkpoint['name']} ({', '.join(generator.classes)}); use "
                        "latent.condition=target or one of those")
    return wanted


METHOD = LatentMethod()
