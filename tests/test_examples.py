"""The newcomer's examples run as written and say what they claim."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name, *args, cwd=None):
    out = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                         cwd=cwd, env={**os.environ, "MPLBACKEND": "Agg"}, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_examples_are_short():
    for path in EXAMPLES.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 70, path.name


def test_exact_small_solve():
    out = _run("exact_small_solve.py")
    assert out.count("certified at 1e-6: True") == 4 and "False" not in out


@pytest.mark.slow
def test_glsvc_grid_search():
    out = _run("glsvc_grid_search.py")
    assert "best parameters" in out and "accuracy" in out


@pytest.mark.slow
def test_torch_losses(tmp_path):
    pytest.importorskip("torch")
    png = tmp_path / "losses.png"
    _run("torch_losses.py", str(png))
    with open(png, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
