"""amcli: explain audio classifiers by class-based activation maximization."""

__version__ = "0.1.0"
