"""AM methods as plug-ins: every module of this package that defines ``METHOD`` is one, and so
is every ``amcli.methods`` entry point of an installed package (``name = "module:METHOD"``).

``METHODS`` maps each method's name to its :class:`AMMethod`; :func:`get_method` looks one up.
Adding a method is one module here (its options dataclass, its parameterization and ``METHOD``),
one file ``conf/method/<name>.yaml`` with the options' defaults, and its tests; a method from
another package needs no YAML (its options dataclass's defaults are its config).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from importlib.metadata import entry_points

from amcli.am.methods.base import AMMethod, Built, ItemBatch, PlotData

#: the entry-point group through which other packages add methods
ENTRY_POINTS = "amcli.methods"


def _discover() -> dict[str, AMMethod]:
    found: dict[str, AMMethod] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        method = getattr(module, "METHOD", None)
        if isinstance(method, AMMethod):
            if method.name in found:
                raise RuntimeError(f"two AM methods are named '{method.name}'")
            found[method.name] = method
    for entry in sorted(entry_points(group=ENTRY_POINTS), key=lambda e: e.name):
        try:
            method = entry.load()
        except Exception as err:  # noqa: BLE001 - another package's bug must not stop amcli
            logging.getLogger("amcli").warning("AM method plug-in %s (%s) does not load, left "
                                               "out: %s", entry.name, entry.value, err)
            continue
        if not isinstance(method, AMMethod) or method.name in found:
            logging.getLogger("amcli").warning(
                "AM method plug-in %s (%s) left out: %s", entry.name, entry.value,
                f"the name '{method.name}' is taken" if isinstance(method, AMMethod)
                else "not an amcli.am.methods.AMMethod instance")
            continue
        found[method.name] = method
    return found


METHODS: dict[str, AMMethod] = _discover()

#: ``method=`` when the command line gives none: the cheapest question, on any classifier
DEFAULT_METHOD = "mask"
#: ``amcli.explain``'s default: an edit of a real clip reads as an answer on any speech model
DEFAULT_EXPLAIN_METHOD = "prosody"


def get_method(name: str) -> AMMethod:
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown AM method '{name}'; known: {', '.join(METHODS)}") from None


def option_owners() -> dict[str, str]:
    """Config key (or group) -> the method it belongs to: mask -> mask, signal -> input, ..."""
    owners = {m.config_key: m.name for m in METHODS.values()}
    owners.update({g: m.name for m in METHODS.values() for g in m.groups})
    return owners


__all__ = ["DEFAULT_EXPLAIN_METHOD", "DEFAULT_METHOD", "METHODS", "AMMethod", "Built",
           "ItemBatch", "PlotData", "get_method", "option_owners"]
