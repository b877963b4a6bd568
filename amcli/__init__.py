"""amcli: explain audio classifiers by class-based activation maximization."""

__version__ = "0.1.0"


#: the Python API, imported on first use (``import amcli`` stays light; the CLI never needs it)
_LAZY = {"explain": "amcli.api", "Explanation": "amcli.api",
         "Explanations": "amcli.api"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'amcli' has no attribute {name!r}")
