"""`glopt validate --only neural`: the CNN experiments with the torch losses (quick version)."""
import csv
import math
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from glopt.cli import main  # noqa: E402
from glopt.experiments import SECTIONS, neural  # noqa: E402


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("neural"))
    code = main(["validate", "--quick", "--only", "neural", "--seed", "1", "--out", out, "--no-progress"])
    return code, out


def test_quick_section_writes_its_table_plot_and_summary(quick_report):
    code, out = quick_report
    assert "neural" in SECTIONS
    assert code == 0
    report = open(os.path.join(out, "report.md")).read()
    assert "## Neural: the generalized loss, the SVM head and ISM3 in a CNN" in report
    assert "**0 failures.**" in report and "(neural_accuracy.png)" in report
    with open(os.path.join(out, "neural_accuracy.png"), "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    rows = _rows(os.path.join(out, "neural.csv"))
    assert [r["loss"] for r in rows] == [name for _, name, _ in neural.losses()]
    assert {r["loss"][:5] for r in rows[:7]} == {"S = I", "S = G", "S = Q", "S = M"}
    assert sum(r["loss"].endswith(" mask") for r in rows) == 3
    for r in rows:
        assert r["verdict"] == "ok" and r["seeds"] == "3"
        assert 0.3 <= float(r["accuracy"]) <= 1 and 0 < float(r["macro_f1"]) <= 1
        assert 0 <= float(r["accuracy_std"]) < 0.2
        if r["loss"] == r["baseline"]:
            assert r["t_p"] == "nan" and float(r["acc_diff"]) == 0
        else:
            assert 0 <= float(r["t_p"]) <= 1 and 0.25 <= float(r["wilcoxon_p"]) <= 1   # 3 seeds: p >= 0.25
            assert r["outcome"] in ("loss better", "loss worse", "tie")
    # the cross-entropy baseline is one set of runs, shared by (b) and (c)
    ce = [r for r in rows if r["loss"] == "cross-entropy"]
    assert len(ce) == 2 and ce[0]["accuracy"] == ce[1]["accuracy"]
    # even four epochs separate the classes well above chance (0.1) with the standard losses
    assert float(rows[0]["accuracy"]) > 0.8 and float(ce[0]["accuracy"]) > 0.8


def test_runs_are_reproducible(monkeypatch, tmp_path):
    """Same seed, same numbers (one seed, one epoch, three losses)."""
    from glopt.experiments.report import Report

    monkeypatch.setattr(neural, "plan", lambda quick: dict(seeds=1, epochs=1, batch=64, lr=3e-3))
    specs = [s for s in neural.losses() if s[1] in ("S = I (standard)", "S = G mask", "cross-entropy")][:3]
    monkeypatch.setattr(neural, "losses", lambda: specs)
    tables = []
    for i in range(2):
        report = Report(str(tmp_path / str(i)), "t", progress=False)
        tables.append(neural._rows(report, neural.plan(True), seed=4, quick=True))
    assert len(tables[0]) == 3
    for r0, r1 in zip(*tables):
        assert r0.keys() == r1.keys()
        for a, b in zip(r0.values(), r1.values()):
            assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def test_svm_penalty_is_the_svm_objective_over_n():
    """With the penalty, the loss of a mini-batch is its mean squared hinge plus 0.5 ||W||^2 / N."""
    crit = neural._criterion(torch, dict(kind="ovr", penalty=True), n_train=400)
    plain = neural._criterion(torch, dict(kind="ovr", penalty=False), n_train=400)
    model = neural._network(torch)
    x = torch.randn(5, 1, 8, 8)
    y = torch.tensor([0, 3, 9, 3, 1])
    out = model(x)
    got = crit(out, y, x, model).item()
    want = plain(out, y, x, model).item() + 0.5 * model.fc.weight.square().sum().item() / 400
    assert got == pytest.approx(want, rel=1e-6)


def test_paired_p():
    from scipy.stats import ttest_rel

    a, b = np.array([0.9, 0.92, 0.95, 0.91, 0.93]), np.array([0.88, 0.9, 0.94, 0.9, 0.9])
    t_p, w_p = neural.paired_p(a, b)
    assert t_p == pytest.approx(ttest_rel(a, b).pvalue) and w_p == pytest.approx(0.0625)
    assert neural.paired_p(a, a) == (1.0, 1.0)
    assert neural.paired_p(a + 0.01, a)[0] == 0.0          # a constant nonzero difference: certain
