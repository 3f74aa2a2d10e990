"""benchmarks/bench_svm_large.py: its sets, its certified workers and its page, on a small run."""
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_svm_large.py"
sys.path.insert(0, str(SCRIPT.parent))

import bench_svm_large as bench  # noqa: E402


def test_sets_are_standardized_binary_with_gamma_one_over_d():
    X, y, gamma = bench.load("synthetic-600")
    assert X.shape == (600, 20) and set(np.unique(y)) == {-1.0, 1.0}
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-12)
    assert gamma == 1.0 / 20
    Xk, yk, gk = bench.load("banana")
    assert set(np.unique(yk)) == {-1.0, 1.0} and gk == 1.0 / Xk.shape[1]


def test_workers_certify_their_answers():
    # glopt's and scikit-learn's answers to the same problem: certified, the same dual objective
    ours = bench.worker("synthetic-600", "glopt", certify=True)
    peer = bench.worker("synthetic-600", "sklearn", certify=True)
    dc = bench.worker("synthetic-600", "glopt-dc", certify=True)
    assert dc["phases"].startswith("1: ") and abs(dc["dual"] - ours["dual"]) <= 1e-6 * abs(ours["dual"])
    for out in (ours, peer, dc):
        assert out["n"] == 600 and out["time"] > 0 and out["kkt"] <= 1e-3
    assert abs(ours["dual"] - peer["dual"]) <= 1e-6 * abs(peer["dual"])
    # LIBSVM's pairs (SVC(working_set=None)) and the blocked path at this size, its phases shown
    pairs = bench.worker("synthetic-600", "glopt-pairs", certify=True)
    blocked = bench.worker("synthetic-600", "glopt-blocked", certify=True)
    assert pairs["dual"] == ours["dual"] and " x 512, " in blocked["phases"]
    assert abs(blocked["dual"] - ours["dual"]) <= 1e-6 * abs(ours["dual"]) and blocked["kkt"] <= 1e-3


def test_C_reaches_every_solver():
    ours = bench.worker("synthetic-600", "glopt", certify=True, C=10.0)
    peer = bench.worker("synthetic-600", "sklearn", certify=True, C=10.0)
    default = bench.worker("synthetic-600", "sklearn", certify=True)
    assert abs(ours["dual"] - peer["dual"]) <= 1e-6 * abs(peer["dual"])
    assert abs(peer["dual"] - default["dual"]) > 1e-3 * abs(default["dual"])


def test_a_small_run_writes_its_page(tmp_path):
    out = tmp_path / "page.md"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--sets", "", "--sizes", "500", "--repeats", "1",
                           "--solvers", "sklearn,glopt", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = out.read_text()
    assert page.startswith("# glopt's SVC against the CPU peers") and "bench_svm_large.py" in page
    assert "| synthetic-500 | 500 |" in page and "glopt / sklearn" in page


def test_unknown_solver_is_a_usage_error():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--solvers", "glopt,svmlight", "--out", ""],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown solvers ['svmlight']" in proc.stderr


def test_without_glopt_the_first_solver_is_the_reference(tmp_path):
    out = tmp_path / "page.md"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--sets", "", "--sizes", "400", "--repeats", "1",
                           "--solvers", "glopt-pairs,sklearn", "--C", "10", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = out.read_text()
    assert "glopt-pairs / sklearn" in page and "relative to glopt-pairs's" in page and "C = 10 (RBF," in page
    row = next(line for line in page.splitlines() if line.startswith("| synthetic-400 |"))
    assert "0.0e+00, " in row       # the reference's own difference, with its KKT violation
