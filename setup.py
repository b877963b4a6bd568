"""The packages setuptools cannot find on its own: the metadata is in pyproject.toml.

The code's packages are found (every folder of amcli/ with an __init__.py); the configs and the
shipped checkpoints live at the top of the repository and install as amcli.conf and
amcli.checkpoints (the package-dir of pyproject.toml), which a search of amcli/ cannot see.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["amcli", "amcli.*"]), "amcli.conf", "amcli.checkpoints"])
