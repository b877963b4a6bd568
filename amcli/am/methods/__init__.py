"""AM methods as plug-ins: every module of this package that defines ``METHOD`` is one.

``METHODS`` maps each method's name to its :class:`AMMethod`; :func:`get_method` looks one up.
Adding a method is one module here (its options dataclass, its parameterization and ``METHOD``),
one file ``conf/method/<name>.yaml`` with the options' defaults, and its tests.
"""

from __future__ import annotations

import importlib
import pkgutil

from amcli.am.methods.base import AMMethod, Built, ItemBatch, PlotData


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
    return found


METHODS: dict[str, AMMethod] = _discover()


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


__all__ = ["METHODS", "AMMethod", "Built", "ItemBatch", "PlotData", "get_method",
           "option_owners"]
