"""`glopt validate`: the report is complete and reproducible, failures surface, Dask runs the grids."""
import csv
import os

import numpy as np
import pytest

from glopt.cli import main
from glopt.experiments import SECTIONS

SECTION_TITLES = ("1. Solver certification", "2. Paper reproduction", "3. Regression", "4. Multi-class",
                  "5. gamma_s sweep")
TABLES = ("certification", "certification_mm", "binary", "binary_folds", "regression", "regression_nn",
          "multiclass", "sweep", "neural", "peers")
PLOTS = ("certification", "binary_f1", "regression_mse", "multiclass_accuracy", "sweep_gamma_s")


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """The README's main job (`glopt validate --quick`), run twice with the same seed."""
    outs = [str(tmp_path_factory.mktemp(f"report{i}")) for i in range(2)]
    codes = [main(["validate", "--quick", "--seed", "3", "--out", out, "--n-jobs", "2", "--no-progress"])
             for out in outs]
    return codes, outs


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_quick_report_is_complete(quick_runs, capsys):
    codes, outs = quick_runs
    assert codes == [0, 0]
    report = open(os.path.join(outs[0], "report.md")).read()
    assert "**0 failures.**" in report
    for title in SECTION_TITLES:
        assert f"## {title}" in report
    for table in TABLES:
        rows = _rows(os.path.join(outs[0], f"{table}.csv"))
        assert rows, table
        assert all(row.get("verdict", "ok") in ("ok", "") for row in rows), table
        assert "time_s" not in rows[0]
    for plot in PLOTS:
        path = os.path.join(outs[0], f"{plot}.png")
        with open(path, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n", plot
        import matplotlib.image

        img = matplotlib.image.imread(path)
        assert img.ndim == 3 and min(img.shape[:2]) > 100 and img.std() > 0, plot
        assert f"({plot}.png)" in report
    # real numbers, not placeholders: every certificate small, F1 and accuracies in (0, 1]
    cert = _rows(os.path.join(outs[0], "certification.csv"))
    assert all(float(r["kkt"]) <= float(r["tol"]) for r in cert)
    binary = _rows(os.path.join(outs[0], "binary.csv"))
    assert all(0 < float(r["gl_f1"]) <= 1 and 0 < float(r["svm_f1"]) <= 1 for r in binary)
    assert {r["S"] for r in binary} == {"G", "Q", "M"} and binary[0]["paper_f1"] == "0.902"
    sweep = _rows(os.path.join(outs[0], "sweep.csv"))
    assert float(sweep[-1]["agreement_with_svm"]) == 1.0  # S = I is the standard SVM


@pytest.mark.slow
def test_quick_report_is_reproducible(quick_runs):
    _, (a, b) = quick_runs
    names = sorted(f for f in os.listdir(a) if f.endswith(".csv") and f != "timings.csv")
    assert names == sorted(f for f in os.listdir(b) if f.endswith(".csv") and f != "timings.csv")
    assert len(names) == len(TABLES)
    for name in names:
        assert open(os.path.join(a, name)).read() == open(os.path.join(b, name)).read(), name


def _one_problem(monkeypatch):
    from glopt.experiments import certification

    first = next(certification.random_problems(0, True))
    monkeypatch.setattr(certification, "problems", lambda seed, quick: [first])
    return certification


def test_a_certificate_over_tolerance_fails_the_run(monkeypatch, tmp_path, capsys):
    certification = _one_problem(monkeypatch)
    real = certification.solvers

    def sloppy(problem):  # the SMO stopped far too early: its certificate must be judged, not trusted
        from glopt import smo
        for name, solve, tol in real(problem):
            yield (name, (lambda pr: smo.solve(pr, tol=1e-1)) if name == "smo" else solve, tol)

    monkeypatch.setattr(certification, "solvers", sloppy)
    code = main(["validate", "--only", "certification", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    rows = _rows(tmp_path / "certification.csv")
    assert [r["verdict"] for r in rows if r["solver"] == "smo"] == ["FAIL"]
    assert "1 failure(s)" in capsys.readouterr().out
    assert "**1 failure(s)**" in (tmp_path / "report.md").read_text()


def test_a_solver_error_is_reported_not_swallowed(monkeypatch, tmp_path):
    certification = _one_problem(monkeypatch)
    real = certification.solvers

    def broken(problem):
        for name, solve, tol in real(problem):
            if name == "smo":
                def solve(pr):
                    raise RuntimeError("solver exploded")
            yield name, solve, tol

    monkeypatch.setattr(certification, "solvers", broken)
    assert main(["validate", "--only", "certification", "--out", str(tmp_path), "--no-progress"]) == 1
    rows = [r for r in _rows(tmp_path / "certification.csv") if r["solver"] == "smo"]
    assert rows[0]["verdict"] == "ERROR" and "solver exploded" in rows[0]["note"]


def test_a_crashing_section_fails_the_run(monkeypatch, tmp_path):
    from glopt.experiments import sweep

    def crash(report, seed, quick):
        raise ValueError("boom")

    monkeypatch.setattr(sweep, "run", crash)
    assert main(["validate", "--only", "sweep", "--out", str(tmp_path), "--no-progress"]) == 1
    assert "section sweep: ValueError: boom" in (tmp_path / "report.md").read_text()


def test_unknown_section_is_a_usage_error(capsys):
    assert main(["validate", "--only", "certification,bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown section(s) bogus" in err and len(err.strip().splitlines()) == 1
    assert set(SECTIONS) == {"certification", "binary", "regression", "multiclass", "sweep", "peers", "neural"}


def _small_grid_run():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from glopt import GLSVC
    from glopt.experiments.cv import nested_cv, outer_folds

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=60) > 0, 1, -1)
    res = nested_cv(lambda: Pipeline([("s", StandardScaler()), ("svm", GLSVC(n_jobs=1))]),
                    lambda Xt: {"svm__C": [0.5, 5.0], "svm__gamma_s": [0.1, 1.0]}, X, y,
                    outer_folds(y, 3, 0), inner_splits=2, scoring="f1", seed=0, n_jobs=2)
    return [(r.params, r.y_pred.tolist()) for r in res]


@pytest.mark.slow
def test_dask_cluster_runs_the_grid_identically():
    """A LocalCluster on loopback with 2 worker processes: same choices and predictions as local joblib."""
    pytest.importorskip("dask.distributed")
    from glopt.experiments.parallel import backend

    local = _small_grid_run()
    with backend("local", n_workers=2) as where:
        assert where.startswith("dask (tcp://127.0.0.1") and "2 workers" in where
        on_dask = _small_grid_run()
    assert on_dask == local
