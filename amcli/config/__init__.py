"""Structured configs: one dataclass schema per command (one module each: ``synth``,
``train_classifier``, ``evaluate``, ``optimize``, ``train_prior``, ``report``; the nodes they
share in ``models``), registered in Hydra's ConfigStore.

Hydra validates types and enum choices against these schemas while it composes the config, so a
mistyped value fails before any work starts (Hydra's error, exit 1). Numeric ranges are declared
on the fields (:func:`amcli.bounds.bounded`) and checked in one place
(:func:`amcli.bounds.check_bounds`, exit 2); checks that need names known only at run time live
in the commands and methods. The YAML files in ``conf/`` hold the defaults a user sees in
``--help`` and name their schema in their defaults list.

``amcli optimize``'s schema gets one optional field per AM method (``mask``, ``signal``,
``latent``, ... from :mod:`amcli.am.methods`) and per config group a method owns (``prior``):
the chosen ``conf/method/<name>.yaml`` fills its own, the others stay null, so an option of
another method is refused while the config is composed.
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from amcli.config.classes import DEFAULT_CLASSES
from amcli.config.evaluate import EvalSplit, EvaluateConfig
from amcli.config.models import (
    CustomClassifierConfig,
    HFClassifierConfig,
    HFFolderConfig,
    HFTrainConfig,
    ModelConfig,
)
from amcli.config.optimize import (
    ObjectiveConfig,
    ObjectiveKind,
    OptimizeConfig,
    Optimizer,
    OptimizeSettings,
    PlotFormat,
    Precision,
    TransformConfig,
    VocoderConfig,
    methods_help,
)
from amcli.config.report import ListConfig, ReportConfig
from amcli.config.synth import OtherCues, SynthConfig, SynthEngine
from amcli.config.train_classifier import TrainClassifierConfig
from amcli.config.train_prior import TrainPriorConfig

__all__ = ["CustomClassifierConfig", "DEFAULT_CLASSES", "EvalSplit", "EvaluateConfig",
           "HFClassifierConfig", "HFFolderConfig", "HFTrainConfig", "ListConfig", "ModelConfig",
           "ObjectiveConfig", "ObjectiveKind", "OptimizeConfig", "OptimizeSettings", "Optimizer",
           "OtherCues", "PlotFormat", "Precision", "ReportConfig", "SynthConfig", "SynthEngine",
           "TrainClassifierConfig", "TrainPriorConfig", "TransformConfig", "VocoderConfig",
           "methods_help", "register_configs"]


def register_configs() -> None:
    """Register every command's schema and amcli's resolvers (idempotent)."""
    if not OmegaConf.has_resolver("amcli_methods"):
        OmegaConf.register_new_resolver("amcli_methods", methods_help)
    store = ConfigStore.instance()
    store.store(name="synth_schema", node=SynthConfig)
    store.store(name="train_classifier_schema", node=TrainClassifierConfig)
    store.store(name="evaluate_schema", node=EvaluateConfig)
    store.store(name="list_schema", node=ListConfig)
    store.store(name="optimize_schema", node=OptimizeConfig)
    store.store(name="report_schema", node=ReportConfig)
    store.store(name="train_prior_schema", node=TrainPriorConfig)
    _store_method_defaults(store)


def _store_method_defaults(store: ConfigStore) -> None:
    """``method=<name>`` for methods without a shipped conf/method/<name>.yaml (those added by
    another package): their options dataclass's defaults are the config."""
    from amcli.am.methods import METHODS
    from amcli.resources import conf_dir

    shipped = {p.stem for p in (conf_dir() / "method").glob("*.yaml")}
    for name, method in METHODS.items():
        if name not in shipped:
            store.store(group="method", name=name, package="_global_",
                        node={"method": name, method.config_key: method.options_type})


register_configs()
