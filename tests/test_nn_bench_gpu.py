"""benchmarks/bench_nn_gpu.py: without CUDA it says so and exits 0; its parts run (on the CPU)."""
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_nn_gpu.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present: the benchmark runs for real")
def test_without_cuda_it_says_so_and_exits_0():
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "CUDA is not available" in proc.stdout


def test_its_checks_and_tables_run_on_the_cpu():
    """``--device cpu`` runs the agreement check (CPU against itself), the sync count and the step table."""
    proc = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--batch", "32", "--repeats", "1",
                           "--check-batch", "8"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for title in ("## Agreement with the CPU", "## Host synchronizations", "## Training step"):
        assert title in out
    assert "| ISM3Loss | none | 0 | 0 | 0 | 0 |" in out and "| 32 | " in out
    assert " NO |" not in out and out.rstrip().endswith("0 check(s) failed")
