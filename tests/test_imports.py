"""amcli.am, amcli.models and amcli.train import without Hydra, librosa or soundfile: the GPU
machines have none of them (DESIGN.md section 6)."""

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
        "from amcli.models import build_classifier\n"
        "model = build_classifier('crnn_mel', ['a', 'b'], 16000)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
