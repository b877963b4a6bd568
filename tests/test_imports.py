"""amcli.am, amcli.models and amcli.train import without Hydra, librosa or soundfile: a machine
with only torch (a bare GPU node) can use them."""

from __future__ import annotations

import subprocess
import sys


def test_core_packages_import_without_hydra_librosa_soundfile():
    blocked = ["hydra", "omegaconf", "librosa", "soundfile"]
    code = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None  # any import of it now fails\n"
        "import amcli.am, amcli.models, amcli.train, amcli.features\n"
        "import amcli.train.gan, amcli.models.gan, amcli.models.checkpoint\n"
        "from amcli.models import build_classifier\n"
        "from amcli.models.gan import build_gan\n"
        "model = build_classifier('crnn_mel', ['a', 'b'], 16000)\n"
        "gen, disc = build_gan('raw', ['a', 'b'], True, width=2)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
