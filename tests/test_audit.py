"""glopt.audit.certify_model: certificates of fitted SVMs of scikit-learn, scikit-learn-intelex, LIBSVM and glopt."""
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm as sk
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import glopt.svm as gs
from glopt.audit import LibsvmModel, ModelReport, certify_model, read_data, read_libsvm_model


# --------------------------------------------------------------------------------------
# data and a LIBSVM model-file writer (the text svm_save_model writes, from a fitted model)
# --------------------------------------------------------------------------------------
def blobs(n=90, d=3, k=3, seed=0):
    """k overlapping classes (labels 0..k-1) and a regression target."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(size=(n, d)) + 1.5 * np.eye(k, d)[y]
    target = X @ rng.normal(size=d) + 0.2 * rng.normal(size=n)
    return X, y, target


def libsvm_text(model, labels=None, thunder=False) -> str:
    """A fitted scikit-learn SVM as LIBSVM's svm_save_model writes it (ThunderSVM's variant: 6
    significant digits in the header, float32 support vectors, trailing spaces)."""
    names = {"SVC": "c_svc", "NuSVC": "nu_svc", "SVR": "epsilon_svr", "NuSVR": "nu_svr", "OneClassSVM": "one_class"}
    kernel = {"poly": "polynomial"}.get(model.kernel, model.kernel)
    hdr = (lambda v: f"{v:g}") if thunder else (lambda v: f"{v:.17g}")
    end = " " if thunder else ""
    lines = [f"svm_type {names[type(model).__name__]}", f"kernel_type {kernel}"]
    if model.kernel == "poly":
        lines.append(f"degree {model.degree}")
    if model.kernel in ("poly", "rbf", "sigmoid"):
        lines.append(f"gamma {hdr(model._gamma)}")
    if model.kernel in ("poly", "sigmoid"):
        lines.append(f"coef0 {hdr(model.coef0)}")
    classifier = hasattr(model, "classes_")
    k = len(model.classes_) if classifier else 2
    lines += [f"nr_class {k}", f"total_sv {model.support_.size}",
              "rho " + " ".join(hdr(-b) for b in model._intercept_) + end]
    if classifier:
        lines.append("label " + " ".join(str(c) for c in (labels if labels is not None else model.classes_)) + end)
        lines.append("nr_sv " + " ".join(str(c) for c in model.n_support_) + end)
    lines.append("SV" + end)
    D = np.asarray(model._dual_coef_)
    sv = np.asarray(model.support_vectors_, dtype=np.float32 if thunder else np.float64)
    for p in range(sv.shape[0]):
        coefs = " ".join(f"{c:.16g}" if thunder else f"{c:.17g}" for c in D[:, p])
        feats = " ".join(f"{j + 1}:{float(v):.8g}" for j, v in enumerate(sv[p]) if v != 0)
        lines.append(f"{coefs} {feats}{end}")
    return "\n".join(lines) + "\n"


def certs(report):
    return [s.certificate for s in report.subproblems]


# --------------------------------------------------------------------------------------
# scikit-learn's five models
# --------------------------------------------------------------------------------------
CASES = [
    ("SVC", {}, "c_svc"), ("NuSVC", {"nu": 0.3, "tol": 1e-5}, "nu_svc"), ("SVR", {"C": 3.0, "epsilon": 0.2}, "epsilon_svr"),
    ("NuSVR", {"nu": 0.4}, "nu_svr"), ("OneClassSVM", {"nu": 0.2}, "one_class"),
]


@pytest.mark.parametrize("name, params, form, k", [c + (k,) for c in CASES for k in (2, 3)
                                                     if k == 2 or c[0] != "OneClassSVM"])
def test_sklearn_models_certify(name, params, form, k):
    X, y, target = blobs(k=k)
    yy = {"SVC": y, "NuSVC": y, "SVR": target, "NuSVR": target, "OneClassSVM": None}[name]
    model = getattr(sk, name)(**params).fit(X, yy)
    report = certify_model(model, X, yy)
    assert isinstance(report, ModelReport) and report.model == f"sklearn.svm.{name}"
    n_sub = k * (k - 1) // 2 if name in ("SVC", "NuSVC") else 1
    assert len(report.subproblems) == n_sub and all(s.form == form for s in report.subproblems)
    assert report.ok(), str(report)
    for c in certs(report):
        assert c.kkt_violation <= 1.5e-3 and c.infeasibility <= 1e-9 and c.primal >= c.dual - 1e-9
    if name in ("SVC", "NuSVC"):
        assert report.subproblems[0].label == "classes (0, 1)"
        assert report.subproblems[0].problem["n_samples"] == np.count_nonzero(y < 2)


@pytest.mark.parametrize("labels", [np.array(["dog", "cat", "emu"]), np.array([7, -3, 0])])
def test_any_label_values_and_order(labels):
    X, y, _ = blobs(k=3, seed=1)
    yl = labels[y]
    report = certify_model(sk.SVC(C=2.0).fit(X, yl), X, yl)
    order = sorted(labels.tolist())
    assert [s.label for s in report.subproblems] == [f"classes ({order[0]}, {order[1]})",
                                                       f"classes ({order[0]}, {order[2]})",
                                                       f"classes ({order[1]}, {order[2]})"]
    assert report.ok()


def test_binary_string_and_bool_labels():
    X, y, _ = blobs(k=2, seed=2)
    for yl in (np.where(y == 1, "yes", "no"), y == 1):
        report = certify_model(sk.SVC(kernel="poly", degree=2, coef0=1.0, gamma="auto").fit(X, yl), X, yl)
        assert len(report.subproblems) == 1 and report.ok()


def test_class_weight_and_sample_weight_with_zeros():
    X, y, target = blobs(n=120, k=3, seed=3)
    sw = np.random.default_rng(0).uniform(0.2, 3.0, size=y.size)
    sw[[0, 4, 11]] = 0.0
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    for model, yy in ((sk.SVC(class_weight=cw), y), (sk.NuSVC(nu=0.2, class_weight=cw, tol=1e-5), y),
                      (sk.SVR(), target), (sk.NuSVR(), target), (sk.OneClassSVM(nu=0.3), None)):
        model.fit(X, yy, sample_weight=sw)
        report = certify_model(model, X, yy, sample_weight=sw)
        assert report.ok(), (type(model).__name__, str(report))
        assert all(s.problem["dropped_samples"] >= 1 and "weight" in s.problem["note"] for s in report.subproblems)
        # without its weights, scikit-learn's support_ (over the samples of positive weight) does
        # not index X's rows
        with pytest.raises(ValueError, match="sample_weight"):
            certify_model(model, X, yy)
        # a model judged without its (positive) weights is judged against another problem: it fails
        model.fit(X, yy, sample_weight=sw + 0.5)
        assert not certify_model(model, X, yy).ok(), type(model).__name__
    # class weights enter the bounds: C * class_weight * sample_weight
    sub = certify_model(sk.SVC(C=2.0, class_weight=cw).fit(X, y), X, y).subproblems[0]
    assert sub.problem["bound_max"] == pytest.approx(4.0) and sub.problem["bound_min"] == pytest.approx(1.0)


def test_zero_weight_on_a_support_vector_is_refused():
    X, y, _ = blobs(k=2, seed=4)
    for cls, message in ((gs.SVC, "sample 0 is a support vector"), (sk.SVC, "sample_weight is not the one")):
        model = cls().fit(X, y)
        sw = np.ones(y.size)
        sw[model.support_[0]] = 0.0
        with pytest.raises(ValueError, match=message.replace("0", str(model.support_[0]))):
            certify_model(model, X, y, sample_weight=sw)



def test_a_class_of_zero_weight_is_named():
    X, y, _ = blobs(n=90, k=3, seed=4)
    sw = np.where(y == 2, 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sk.SVC().fit(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="class 2 has no sample of positive weight"):
        certify_model(model, X, y, sw)

def test_pipeline_transforms_X():
    X, y, _ = blobs(k=3, seed=5)
    X = X * [1.0, 100.0, 0.01] + 5.0
    pipe = make_pipeline(StandardScaler(), sk.SVC(C=5.0)).fit(X, y)
    report = certify_model(pipe, X, y)
    assert report.model == "sklearn.pipeline.Pipeline(sklearn.preprocessing.StandardScaler, sklearn.svm.SVC)"
    assert report.ok() and len(report.subproblems) == 3
    with pytest.raises(ValueError, match="not the data the model was fitted on"):
        certify_model(pipe[-1], X, y)


def test_sparse_precomputed_and_callable_kernels():
    X, y, target = blobs(n=80, k=2, seed=6)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    assert certify_model(sk.SVC().fit(Xs, y), Xs, y).ok()
    G = X @ X.T
    assert certify_model(sk.SVR(kernel="precomputed").fit(G, target), G, target).ok()

    def kern(A, B):
        return (A @ B.T + 1.0) ** 2

    assert certify_model(sk.SVC(kernel=kern, C=0.5).fit(X, y), X, y).ok()


def test_gamma_scale_and_auto_are_read_as_resolved():
    X, y, _ = blobs(k=2, seed=7)
    X = X * 7.0
    for gamma in ("scale", "auto", 0.05):
        model = sk.SVC(gamma=gamma).fit(X, y)
        sub = certify_model(model, X, y).subproblems[0]
        assert sub.problem["gamma"] == model._gamma and sub.certificate.kkt_violation <= 1.5e-3


def test_tightening_tol_tightens_the_certificate():
    """LIBSVM at tol 1e-3: KKT violation about 1e-3 or less; at 1e-6 the certificate is ~1000x tighter."""
    X, y, target = blobs(n=150, k=3, seed=8)
    for cls, yy in ((sk.SVC, y), (sk.SVR, target), (sk.NuSVC, y)):
        loose = certs(certify_model(cls(tol=1e-3).fit(X, yy), X, yy))
        tight = certs(certify_model(cls(tol=1e-6).fit(X, yy), X, yy))
        assert max(c.kkt_violation for c in loose) <= 1.5e-3
        assert max(c.kkt_violation for c in tight) <= 1.5e-6
        assert max(c.rel_gap for c in tight) < 0.01 * max(c.rel_gap for c in loose)


# --------------------------------------------------------------------------------------
# perturbed models fail, and the failing subproblem is named
# --------------------------------------------------------------------------------------
def _pair_of(model, row, col):
    """The pair (i, j) whose problem the entry dual_coef_[row, col] belongs to (LIBSVM's layout)."""
    c = int(np.searchsorted(np.cumsum(model.n_support_), col, side="right"))
    return (row, c) if row < c else (c, row + 1)


def test_perturbed_dual_coef_fails_in_its_pair():
    X, y, _ = blobs(n=120, k=3, seed=9)
    model = sk.SVC(C=1.0).fit(X, y)
    assert certify_model(model, X, y).ok()
    # a free support vector (0 < |coef| < C) of the last class, row 0: pair (0, 2)
    col = [p for p in range(model.n_support_[:2].sum(), model.support_.size)
           if 0.05 < abs(model.dual_coef_[0, p]) < 0.95][0]
    model.dual_coef_[0, col] *= 1.5
    report = certify_model(model, X, y)
    i, j = _pair_of(model, 0, col)
    assert not report.ok() and [s.label for s in report.failing()] == [f"classes ({i}, {j})"] == ["classes (0, 2)"]
    assert "FAIL" in [line for line in str(report).splitlines() if line.startswith("classes (0, 2)")][0]


def test_perturbed_intercept_fails():
    X, y, target = blobs(n=100, k=3, seed=10)
    model = sk.SVC().fit(X, y)
    model.intercept_[1] += 0.5
    assert [s.label for s in certify_model(model, X, y).failing()] == ["classes (0, 2)"]
    for est, yy in ((sk.SVC(), y == 1), (sk.SVR(), target), (sk.NuSVR(), target), (sk.OneClassSVM(nu=0.2), None)):
        est.fit(X, yy)
        est.intercept_ += 0.3
        report = certify_model(est, X, yy)
        assert not report.ok() and len(report.failing()) == 1, type(est).__name__


# --------------------------------------------------------------------------------------
# glopt's drop-ins: the report equals certify on the same answer
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, form", CASES)
def test_glopt_dropins_equal_their_certificates(name, params, form):
    X, y, target = blobs(n=120, k=3, seed=11)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=y.size)
    sw[3] = 0.0
    yy = {"SVC": y, "NuSVC": y, "SVR": target, "NuSVR": target, "OneClassSVM": None}[name]
    model = getattr(gs, name)(**params).fit(X, yy, sample_weight=sw)
    report = certify_model(model, X, yy, sample_weight=sw)
    assert report.model == f"glopt.svm.{name}"
    assert len(report.subproblems) == len(model.certificate_)
    for sub, cert in zip(report.subproblems, model.certificate_):
        for q in ("primal", "dual", "gap", "kkt_violation", "infeasibility"):
            assert getattr(sub.certificate, q) == pytest.approx(getattr(cert, q), rel=1e-9, abs=1e-12), q
    assert report.ok()


# --------------------------------------------------------------------------------------
# reference=True: glopt's own solution of the same problem
# --------------------------------------------------------------------------------------
def test_reference_compares_with_glopt_solution():
    X, y, target = blobs(n=90, k=3, seed=12)
    report = certify_model(sk.SVC(C=2.0).fit(X, y), X, y, reference=True)
    assert report.reference["prediction_mismatch"] <= 0.05
    for sub in report.subproblems:
        ref = sub.reference
        assert -1e-7 <= ref["rel_objective_diff"] <= 2e-3
        assert ref["max_decision_diff"] < 0.05 and ref["prediction_mismatch"] <= 0.05
        assert ref["reference_kkt_violation"] <= 1e-7 and abs(ref["cvx_objective_diff"]) <= 1e-5 * abs(ref["objective"])
    reg = certify_model(sk.NuSVR(nu=0.3).fit(X, target), X, target, reference=True)
    assert reg.reference["prediction_mismatch"] is None and reg.subproblems[0].reference["prediction_mismatch"] is None
    # a perturbed model is far from the reference
    bad = sk.SVC(C=2.0).fit(X, y)
    bad.intercept_ += 1.0
    far = certify_model(bad, X, y, reference=True).subproblems[0].reference
    assert far["max_decision_diff"] > 0.5 and far["rel_objective_diff"] > 1e-2
    d = certify_model(sk.SVC().fit(X, y), X, y, reference=True).to_dict()
    assert d["ok"] and d["reference"]["prediction_mismatch"] is not None


def test_report_to_dict_and_table():
    X, y, _ = blobs(k=3, seed=13)
    report = certify_model(sk.NuSVC(nu=0.3, tol=1e-5).fit(X, y), X, y, tol=1e-2)
    d = report.to_dict()
    assert d["ok"] is True and d["tol"] == 1e-2 and len(d["subproblems"]) == 3
    assert d["subproblems"][0]["problem"]["nu"] == 0.3 and d["subproblems"][0]["ok"] is True
    assert all(v is None or not (isinstance(v, float) and math.isnan(v)) for v in d["subproblems"][0].values())
    text = str(report)
    assert "classes (0, 1)" in text and "certified" in text
    assert not report.ok(tol=1e-12)


# --------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------
def test_unsupported_models_are_refused_by_class():
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    X, y, _ = blobs(k=2)

    class MySVC(sk.SVC):
        pass

    for model in (LogisticRegression().fit(X, y), KNeighborsClassifier().fit(X, y), MySVC().fit(X, y), object()):
        with pytest.raises(TypeError, match=type(model).__name__):
            certify_model(model, X, y)
    with pytest.raises(TypeError, match="MySVC"):
        certify_model(make_pipeline(StandardScaler(), MySVC()).fit(X, y), X, y)


def test_bad_inputs_are_named():
    X, y, target = blobs(k=3, seed=14)
    model = sk.SVC().fit(X, y)
    with pytest.raises(ValueError, match="not fitted"):
        certify_model(sk.SVC(), X, y)
    with pytest.raises(ValueError, match="features"):
        certify_model(model, X[:, :2], y)
    with pytest.raises(ValueError, match="samples"):
        certify_model(model, X[:-1], y[:-1])
    with pytest.raises(ValueError, match="labels the model was not fitted on: \\[5\\]"):
        certify_model(model, X, np.where(y == 2, 5, y))
    with pytest.raises(ValueError, match="y does not match"):
        certify_model(model, X, (y + 1) % 3)
    with pytest.raises(ValueError, match="y is required"):
        certify_model(model, X)
    with pytest.raises(ValueError, match="sample_weight"):
        certify_model(model, X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="not the data"):
        certify_model(model, X + 1e-3, y)
    with pytest.raises(ValueError, match="tol"):
        certify_model(model, X, y, tol=-1.0)
    with pytest.raises(ValueError, match="reference"):
        certify_model(model, X, y, reference="yes")
    with pytest.raises(ValueError, match="X is required"):
        certify_model(model, None, y)
    with pytest.raises(ValueError, match="y is required"):
        certify_model(sk.SVR().fit(X, target), X)


# --------------------------------------------------------------------------------------
# LIBSVM model files (written as svm_save_model writes them) and data files
# --------------------------------------------------------------------------------------
def test_model_file_roundtrip(tmp_path):
    X, y, target = blobs(n=90, k=3, seed=15)
    labels = np.array([3, 1, 2])     # LIBSVM's order: first appearance in the training data
    yl = labels[y]
    model = sk.SVC(C=2.0, kernel="poly", degree=2, coef0=1.0).fit(X, yl)
    path = tmp_path / "m.model"
    path.write_text(libsvm_text(model))
    mf = read_libsvm_model(path, C=2.0)
    assert isinstance(mf, LibsvmModel) and mf.svm_type == "c_svc" and mf.kernel_type == "polynomial"
    assert mf.total_sv == model.support_.size and mf.label.tolist() == [1, 2, 3]
    report = certify_model(mf, X, yl)
    assert report.ok() and [s.label for s in report.subproblems] == ["classes (1, 2)", "classes (1, 3)", "classes (2, 3)"]
    for a, b in zip(certs(report), certs(certify_model(model, X, yl))):
        assert a.kkt_violation == pytest.approx(b.kkt_violation, rel=1e-6, abs=1e-9)
    # a path is read as a model file; C is required
    with pytest.raises(ValueError, match="does not record C"):
        certify_model(str(path), X, yl)
    # the data must be those it was trained on
    with pytest.raises(ValueError, match="matches no"):
        certify_model(mf, X + 0.01, yl)
    with pytest.raises(ValueError, match="labels the model was not trained on"):
        certify_model(mf, X, np.where(yl == 3, 9, yl))
    with pytest.raises(ValueError, match="features"):
        certify_model(mf, X[:, :1], yl)


def test_model_file_with_duplicate_training_rows(tmp_path):
    X, y, _ = blobs(n=80, k=2, seed=22)
    X, y = np.vstack([X, X[:20]]), np.concatenate([y, y[:20]])
    model = sk.SVC(C=0.5).fit(X, y)
    dup = np.intersect1d(model.support_, np.arange(20))
    assert np.intersect1d(dup + 80, model.support_).size > 0   # both copies of a row are support vectors
    path = tmp_path / "m.txt"
    path.write_text(libsvm_text(model))
    report = certify_model(read_libsvm_model(path, C=0.5), X, y)
    assert report.ok() and report.subproblems[0].problem["n_support"] == model.support_.size



@pytest.mark.parametrize("est, params", [(sk.SVR(C=1.0, epsilon=0.1, tol=1e-6), {"C": 1.0, "epsilon": 0.1}),
                                         (sk.NuSVR(C=1.0, nu=0.4, tol=1e-6), {"C": 1.0, "nu": 0.4})])
def test_regression_model_file_with_duplicate_inputs(tmp_path, est, params):
    # inputs on a grid (every input repeats) with other targets: which copy carries a support
    # vector's coefficient is not in the file, and the first free copy is often the wrong one
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(40, 2)).astype(float)
    target = X[:, 0] - X[:, 1] + rng.normal(size=40)
    est.fit(X, target)
    path = tmp_path / "m.txt"
    path.write_text(libsvm_text(est))
    report = certify_model(read_libsvm_model(path, **params), X, target)
    direct = certify_model(est, X, target)
    assert report.ok(tol=1e-5), str(report)
    assert report.subproblems[0].certificate.kkt_violation == pytest.approx(
        direct.subproblems[0].certificate.kkt_violation, rel=1e-3, abs=1e-8)

def test_model_file_forms_and_thundersvm_format(tmp_path):
    X, y, target = blobs(n=100, k=2, seed=16)
    cases = [(sk.NuSVC(nu=0.3, tol=1e-5), y, {"nu": 0.3}), (sk.SVR(C=2.0, epsilon=0.1), target, {"C": 2.0, "epsilon": 0.1}),
             (sk.NuSVR(C=2.0, nu=0.4), target, {"C": 2.0, "nu": 0.4}), (sk.OneClassSVM(nu=0.2), None, {"nu": 0.2}),
             (sk.SVC(kernel="sigmoid", gamma=0.1, coef0=-0.5, C=0.7), y, {"C": 0.7})]
    for est, yy, params in cases:
        est.fit(X, yy)
        for thunder in (False, True):
            path = tmp_path / "m.txt"
            path.write_text(libsvm_text(est, thunder=thunder))
            report = certify_model(read_libsvm_model(path, **params), X, yy)
            assert report.ok(), (type(est).__name__, thunder, str(report))


def test_model_file_class_weights(tmp_path):
    X, y, _ = blobs(n=90, k=3, seed=17)
    model = sk.SVC(class_weight={0: 3.0, 1: 1.0, 2: 0.5}).fit(X, y)
    path = tmp_path / "m.txt"
    path.write_text(libsvm_text(model))
    assert certify_model(read_libsvm_model(path, C=1.0, class_weight={0: 3.0, 2: 0.5}), X, y).ok()
    assert not certify_model(read_libsvm_model(path, C=1.0), X, y).ok()
    with pytest.raises(ValueError, match="labels the model does not have"):
        read_libsvm_model(path, C=1.0, class_weight={7: 2.0})


def test_perturbed_model_file_fails(tmp_path):
    X, y, _ = blobs(n=90, k=3, seed=18)
    model = sk.SVC().fit(X, y)
    text = libsvm_text(model).splitlines()
    rho = text.index([t for t in text if t.startswith("rho")][0])
    values = text[rho].split()
    values[3] = repr(float(values[3]) + 0.4)
    text[rho] = " ".join(values)
    path = tmp_path / "m.txt"
    path.write_text("\n".join(text) + "\n")
    assert [s.label for s in certify_model(read_libsvm_model(path, C=1.0), X, y).failing()] == ["classes (1, 2)"]


CORRUPT = [
    ("", "empty"),
    ("hello world\n", "line 1: not a LIBSVM model file"),
    ("svm_type c_svc\nkernel_type rbf\ngamma abc\n", "line 3: gamma must be"),
    ("svm_type c_svm\n", "line 1: svm_type must be"),
    ("svm_type c_svc\nkernel_type rbf\nbogus 1\n", "line 3: unknown header field 'bogus'"),
    ("svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 2\nrho 0.1\nlabel 1 -1\nnr_sv 1 1\n", "no 'SV' line"),
    ("svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 2\nrho 0.1\nlabel 1 -1\nnr_sv 1 1\nSV\n1 1:0.5\n",
     "truncated"),
    ("svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 2\nrho 0.1\nlabel 1 -1\nnr_sv 1 1\nSV\n1 1:0.5\n-1 1:x\n",
     "line 10: expected 'index:value'"),
    ("svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 2\nrho 0.1 0.2\nlabel 1 -1\nnr_sv 1 1\nSV\n", "line 5: rho must have 1"),
    ("svm_type c_svc\nkernel_type linear\nnr_class 3\ntotal_sv 2\nrho 0.1 0.2 0.3\nlabel 1 2 3\nnr_sv 1 1 1\nSV\n",
     "line 7: nr_sv must be counts summing"),
    ("svm_type epsilon_svr\nkernel_type rbf\nnr_class 2\ntotal_sv 1\nrho 0.1\nSV\n1 1:0.5\n", "no 'gamma' line"),
    ("svm_type one_class\nkernel_type linear\nnr_class 2\ntotal_sv 1\nrho 0.1\nSV\n1 2:0.5 1:0.3\n", "line 7: feature indices"),
]


@pytest.mark.parametrize("text, message", CORRUPT)
def test_corrupt_model_files_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.model"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        read_libsvm_model(path)
    assert str(path) in str(err.value)


def test_read_data_formats_and_errors(tmp_path):
    X, y, _ = blobs(n=30, k=2, seed=19)
    from sklearn.datasets import dump_svmlight_file

    svm = tmp_path / "d.txt"
    dump_svmlight_file(X, y, str(svm), zero_based=False)
    Xs, ys, ws = read_data(svm)
    assert sp.issparse(Xs) and np.allclose(Xs.toarray(), X) and np.array_equal(ys, y) and ws is None
    csv_path = tmp_path / "d.csv"
    rows = ["f1,f2,label,w,f3"] + [f"{a},{b},{'ab'[t]},{1 + t},{c}" for (a, b, c), t in zip(X, y)]
    csv_path.write_text("\n".join(rows) + "\n")
    Xc, yc, wc = read_data(csv_path, label_column="label", weight_column="w")
    assert np.allclose(Xc, X) and yc.tolist() == ["ab"[t] for t in y] and np.array_equal(wc, 1.0 + y)
    npz = tmp_path / "d.npz"
    np.savez(npz, X=X, y=y, sample_weight=np.ones(30))
    Xn, yn, wn = read_data(npz)
    assert np.array_equal(Xn, X) and np.array_equal(yn, y) and np.array_equal(wn, np.ones(30))
    # errors name the file and the line
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n1,zz,y\n")
    with pytest.raises(ValueError, match="bad.csv, line 3: column 'b' must be a number"):
        read_data(bad, label_column="label")
    with pytest.raises(ValueError, match="no label column 'cls'"):
        read_data(bad, label_column="cls")
    bad_svm = tmp_path / "bad.txt"
    bad_svm.write_text("1 1:0.5 2:0.1\n-1 1:0.2 2:oops\n")
    with pytest.raises(ValueError, match="bad.txt, line 2: expected 'index:value'"):
        read_data(bad_svm)
    np.savez(tmp_path / "noX.npz", Z=X)
    with pytest.raises(ValueError, match="no array 'X'"):
        read_data(tmp_path / "noX.npz")
    with pytest.raises(ValueError, match="no such data file"):
        read_data(tmp_path / "missing.txt")


# --------------------------------------------------------------------------------------
# scikit-learn-intelex and the official LIBSVM binding (where installed: the bench extra)
# --------------------------------------------------------------------------------------
def test_sklearnex_models_certify():
    ex = pytest.importorskip("sklearnex.svm")
    X, y, target = blobs(n=150, k=3, seed=20)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=y.size)
    sw[[2, 9]] = 0.0
    cw = {0: 1.5, 1: 1.0, 2: 1.2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [(ex.SVC(), y, None), (ex.SVC(class_weight="balanced"), y == 1, sw), (ex.NuSVC(nu=0.2, tol=1e-5), y, sw),
                 (ex.NuSVC(nu=0.1, class_weight=cw, tol=1e-5), y, None), (ex.SVR(C=2.0), target, sw),
                 (ex.NuSVR(nu=0.3), target, None), (ex.SVC(kernel="linear", tol=1e-5), y, None)]
        for model, yy, w in cases:
            model.fit(X, yy, sample_weight=w)
            report = certify_model(model, X, yy, sample_weight=w)
            # nu-SVC's objective can be small next to its variables: its relative gap lags the KKT
            # violation (see docs/certify-models.md)
            gap_tol = 2e-2 if report.model.endswith("NuSVC") else None
            assert report.model.startswith("sklearnex.svm.") and report.ok(gap_tol=gap_tol), (report.model, str(report))
        model = ex.SVC().fit(X, y == 1)
        model.intercept_ = model.intercept_ + 0.5
        assert not certify_model(model, X, y == 1).ok()


def test_official_libsvm_model_files(tmp_path):
    svmutil = pytest.importorskip("libsvm.svmutil")
    X, y, target = blobs(n=120, k=3, seed=21)
    yl = np.array([5.0, -2.0, 9.0])[y]
    cases = [("-s 0 -c 2 -g 0.5", {"C": 2.0}, yl), ("-s 0 -t 1 -d 2 -r 1 -c 0.5", {"C": 0.5}, yl),
             ("-s 0 -c 1 -w5 2 -w9 0.5", {"C": 1.0, "class_weight": {5: 2.0, 9: 0.5}}, yl),
             ("-s 1 -n 0.2 -e 1e-5", {"nu": 0.2}, yl), ("-s 2 -n 0.3", {"nu": 0.3}, yl),
             ("-s 3 -c 3 -p 0.05", {"C": 3.0, "epsilon": 0.05}, target), ("-s 4 -c 2 -n 0.4", {"C": 2.0, "nu": 0.4}, target)]
    path = str(tmp_path / "m.txt")
    for opts, params, yy in cases:
        m = svmutil.svm_train(yy, X, opts + " -q")
        svmutil.svm_save_model(path, m)
        report = certify_model(read_libsvm_model(path, **params), X, yy if "-s 2" not in opts else None)
        assert report.ok(gap_tol=2e-2 if "-s 1" in opts else None), (opts, str(report))
        assert all(c.kkt_violation <= 1.5e-3 for c in certs(report))
    # LIBSVM's label order (first appearance): 5, -2, 9
    m = svmutil.svm_train(yl, X, "-s 0 -c 2 -q")
    svmutil.svm_save_model(path, m)
    report = certify_model(read_libsvm_model(path, C=2.0), X, yl)
    assert [s.label for s in report.subproblems] == ["classes (5, -2)", "classes (5, 9)", "classes (-2, 9)"]
    tight = svmutil.svm_train(yl, X, "-s 0 -c 2 -e 1e-6 -q")
    svmutil.svm_save_model(path, tight)
    tight_report = certify_model(read_libsvm_model(path, C=2.0), X, yl)
    assert max(c.kkt_violation for c in certs(tight_report)) < 0.01 * max(c.kkt_violation for c in certs(report))
    # a precomputed kernel: the file names the training serial numbers of its support vectors
    G = X @ X.T
    Gs = np.column_stack([np.arange(1, len(yl) + 1), G])
    m = svmutil.svm_train(yl, Gs, "-s 0 -t 4 -c 0.1 -q")
    svmutil.svm_save_model(path, m)
    assert certify_model(read_libsvm_model(path, C=0.1), G, yl).ok()


def test_the_gap_is_judged_only_when_asked():
    """LIBSVM's stopping rule bounds the KKT violation, not the gap: a C = 10 fit at tol 1e-3
    meets the first and may miss a relative gap of 1e-3, which gap_tol judges."""
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC as SkSVC

    X, y = load_iris(return_X_y=True)
    model = SkSVC(C=10.0).fit(X, y)
    report = certify_model(model, X, y)
    gaps = [s.certificate.rel_gap for s in report.subproblems]
    assert report.ok() and max(s.certificate.kkt_violation for s in report.subproblems) <= 1e-3
    strict = certify_model(model, X, y, gap_tol=min(gaps) / 2)
    assert not strict.ok() and strict.failing()
    assert report.ok(gap_tol=max(gaps) * 2)
    # the report's gap_tol is the default of ok() also when another tol is given
    assert not strict.ok(tol=1e-2) and not strict.ok(1e-2)
    assert strict.ok(tol=1e-2, gap_tol=max(gaps) * 2)


@pytest.mark.parametrize("params", [{"kernel": "rbf", "gamma": 0.0}, {"kernel": "poly", "degree": 0},
                                    {"kernel": "sigmoid", "gamma": 0.0, "coef0": 0.5}])
def test_constant_kernels_are_certified_by_their_gram_matrix(params):
    """gamma = 0 and degree = 0 make constant kernels, which glopt's Kernel does not evaluate:
    their Gram matrix is LIBSVM's formula, and a perturbed dual coefficient still fails (the
    intercept would not: with a constant decision function a whole interval of b is optimal)."""
    X, y, _ = blobs(n=60, k=2, seed=3)
    model = sk.SVC(tol=1e-8, **params).fit(X, y)
    report = certify_model(model, X, y)
    assert report.ok(1e-6), str(report)
    model.dual_coef_ = model.dual_coef_.copy()
    model.dual_coef_[0, 0] *= 0.5
    assert not certify_model(model, X, y).ok()
