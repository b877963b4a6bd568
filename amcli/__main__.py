"""``python -m amcli`` = ``amcli``."""

from amcli.cli import run

if __name__ == "__main__":
    run()
