"""``glopt certify MODEL DATA``: exit 0 when every subproblem certifies, 1 when one does not, 2 for usage errors."""
import json
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn import svm as sk
from sklearn.datasets import dump_svmlight_file
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_audit import blobs, libsvm_text

from glopt.cli import main


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``glopt certify ARGV``."""
    code = main(["certify", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    """A 3-class training set as svmlight, CSV (string labels) and .npz, and models fitted on it."""
    X, y, target = blobs(n=90, k=3, seed=30)
    names = np.array(["ant", "bee", "cat"])
    f = {"X": X, "y": y, "target": target}
    f["svm"] = tmp_path / "train.svm"
    dump_svmlight_file(X, y, str(f["svm"]), zero_based=False)
    f["csv"] = tmp_path / "train.csv"
    f["csv"].write_text("a,b,c,kind,w\n" + "".join(f"{a:.17g},{b:.17g},{c:.17g},{names[t]},1.0\n" for (a, b, c), t in zip(X, y)))
    f["npz"] = tmp_path / "reg.npz"
    np.savez(f["npz"], X=X, y=target)
    f["svc"] = tmp_path / "svc.joblib"
    joblib.dump(sk.SVC(C=2.0).fit(X, y), f["svc"])
    f["pipe"] = tmp_path / "pipe.pkl"
    with open(f["pipe"], "wb") as fh:
        pickle.dump(make_pipeline(StandardScaler(), sk.SVC()).fit(X, names[y]), fh)
    f["svr"] = tmp_path / "svr.joblib"
    joblib.dump(sk.SVR(C=3.0).fit(X, target), f["svr"])
    bad = sk.SVC(C=2.0).fit(X, y)
    bad.intercept_[2] += 0.5
    f["bad"] = tmp_path / "bad.joblib"
    joblib.dump(bad, f["bad"])
    f["libsvm"] = tmp_path / "svc.model"
    f["libsvm"].write_text(libsvm_text(sk.SVC(C=2.0).fit(X, y)))
    return f


def test_certified_model_exits_0_with_a_table(capsys, files):
    code, out, err = run(capsys, files["svc"], files["svm"])
    assert code == 0 and err == ""
    assert "certificate of sklearn.svm.SVC" in out and "certified: every subproblem" in out
    lines = [line for line in out.splitlines() if line.startswith("classes (")]
    assert len(lines) == 3 and all(line.endswith("ok") for line in lines)


def test_json_output(capsys, files):
    code, out, _ = run(capsys, files["svr"], files["npz"], "--json", "--tol", "1e-2")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["tol"] == 1e-2
    assert [s["label"] for s in report["subproblems"]] == ["regression"]
    assert report["subproblems"][0]["problem"]["C"] == 3.0 and report["subproblems"][0]["form"] == "epsilon_svr"


def test_pipeline_with_csv_and_string_labels(capsys, files):
    code, out, _ = run(capsys, files["pipe"], files["csv"], "--label-column", "kind", "--weight-column", "w")
    assert code == 0 and "classes (ant, bee)" in out and "StandardScaler" in out


def test_failing_subproblem_exits_1_and_is_named(capsys, files):
    code, out, _ = run(capsys, files["bad"], files["svm"])
    assert code == 1 and "NOT certified: 1 of 3" in out
    failing = [line for line in out.splitlines() if line.rstrip().endswith("FAIL")]
    assert len(failing) == 1 and failing[0].startswith("classes (1, 2)")
    code, out, _ = run(capsys, files["bad"], files["svm"], "--json")
    assert code == 1 and [s["label"] for s in json.loads(out)["subproblems"] if not s["ok"]] == ["classes (1, 2)"]


def test_tolerance_decides(capsys, files):
    assert run(capsys, files["svc"], files["svm"], "--tol", "1e-9")[0] == 1
    assert run(capsys, files["svc"], files["svm"], "--tol", "1e-3", "--gap-tol", "0.5")[0] == 0


def test_reference(capsys, files):
    code, out, _ = run(capsys, files["svc"], files["svm"], "--reference")
    assert code == 0 and "obj. diff" in out and "predictions differing from the reference" in out


def test_libsvm_model_file(capsys, files):
    code, out, _ = run(capsys, files["libsvm"], files["svm"], "--C", "2")
    assert code == 0 and "LIBSVM model file" in out and "c_svc" in out
    # the wrong C certifies a different problem, which this model does not solve
    assert run(capsys, files["libsvm"], files["svm"], "--C", "20")[0] == 1
    code, _, err = run(capsys, files["libsvm"], files["svm"])
    assert code == 2 and "does not record C" in err and "--C C" in err
    code, _, err = run(capsys, files["libsvm"], files["svm"], "--C", "2", "--class-weight", "1=2")
    assert code == 1
    code, _, err = run(capsys, files["libsvm"], files["svm"], "--C", "2", "--class-weight", "x")
    assert code == 2 and "LABEL=WEIGHT" in err


USAGE = [
    (["{missing}", "{svm}"], "no such file"),
    (["{svc}", "{missing}"], "no such file"),
    (["{garbage}", "{svm}"], "neither a LIBSVM model file nor a pickle"),
    (["{corrupt}", "{svm}"], "corrupt.model, line 3"),
    (["{logreg}", "{svm}"], "LogisticRegression is not a model glopt can certify"),
    (["{svc}", "{wide}"], "X has 4 features but the model was fitted on 3"),
    (["{svc}", "{narrow}"], "not the data the model was fitted on"),
    (["{svc}", "{unseen}"], "labels the model was not fitted on"),
    (["{svc}", "{csv}"], "if it holds the labels, name it as the label column"),
    (["{svc}", "{features_csv}"], "y is required"),
    (["{svc}", "{csv}", "--label-column", "nope"], "no label column 'nope'"),
    (["{svc}", "{badcsv}", "--label-column", "kind"], "badcsv.csv, line 3"),
    (["{svc}", "{svm}", "--C", "1"], "apply to LIBSVM model files only"),
    (["{svc}", "{svm}", "--tol", "-1"], "--tol must be a number > 0"),
    (["{svc}"], "the following arguments are required"),
    (["{libsvm}", "{narrow}", "--C", "2"], "use feature index 3 but the data's features end at index 2"),
]


@pytest.mark.parametrize("argv, message", USAGE)
def test_usage_errors_exit_2_with_one_line(capsys, files, tmp_path, argv, message):
    from sklearn.linear_model import LogisticRegression

    f = dict(files)
    f["missing"] = tmp_path / "missing.joblib"
    f["garbage"] = tmp_path / "garbage.bin"
    f["garbage"].write_bytes(b"\x00\x01not a model")
    f["corrupt"] = tmp_path / "corrupt.model"
    f["corrupt"].write_text("svm_type c_svc\nkernel_type rbf\ngamma x\n")
    f["logreg"] = tmp_path / "logreg.joblib"
    joblib.dump(LogisticRegression().fit(files["X"], files["y"]), f["logreg"])
    f["narrow"] = tmp_path / "narrow.svm"
    dump_svmlight_file(files["X"][:, :2] + 1.0, files["y"], str(f["narrow"]), zero_based=False)
    f["wide"] = tmp_path / "wide.svm"
    dump_svmlight_file(np.column_stack([files["X"], np.ones(90)]), files["y"], str(f["wide"]), zero_based=False)
    f["unseen"] = tmp_path / "unseen.svm"
    dump_svmlight_file(files["X"], files["y"] + 5, str(f["unseen"]), zero_based=False)
    f["features_csv"] = tmp_path / "features.csv"
    f["features_csv"].write_text("a,b,c\n" + "".join(f"{a:.17g},{b:.17g},{c:.17g}\n" for a, b, c in files["X"]))
    f["badcsv"] = tmp_path / "badcsv.csv"
    f["badcsv"].write_text("a,b,c,kind\n1,2,3,ant\n1,x,3,bee\n")
    code, out, err = run(capsys, *[a.format(**f) for a in argv])
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_entry_point_runs_certify(files):
    out = subprocess.run([sys.executable, "-m", "glopt.cli", "certify", str(files["svc"]), str(files["svm"])],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "classes (0, 1)" in out.stdout
    out = subprocess.run([sys.executable, "-m", "glopt.cli", "certify", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--label-column" in out.stdout and "--reference" in out.stdout


def test_official_libsvm_svm_train_files(capsys, tmp_path, files):
    svmutil = pytest.importorskip("libsvm.svmutil")
    y, X = svmutil.svm_read_problem(str(files["svm"]))
    m = svmutil.svm_train(y, X, "-s 0 -c 4 -g 0.3 -q")
    path = str(tmp_path / "train.model")
    svmutil.svm_save_model(path, m)
    code, out, _ = run(capsys, path, files["svm"], "--C", "4")
    assert code == 0 and out.count(" ok") == 3
    # the same model on data that are not its training data
    other = tmp_path / "other.svm"
    dump_svmlight_file(files["X"] * 1.01, files["y"], str(other), zero_based=False)
    code, _, err = run(capsys, path, other, "--C", "4")
    assert code == 2 and "matches no" in err


def test_sklearnex_model_file(capsys, tmp_path, files):
    ex = pytest.importorskip("sklearnex.svm")
    path = tmp_path / "ex.joblib"
    joblib.dump(ex.SVR(C=3.0).fit(files["X"], files["target"]), path)
    code, out, _ = run(capsys, path, files["npz"])
    assert code == 0 and "sklearnex.svm.SVR" in out
