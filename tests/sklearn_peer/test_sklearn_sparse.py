"""scikit-learn's ``sklearn/svm/tests/test_sparse.py``, run against glopt's LIBSVM drop-ins.

glopt's SVC, NuSVC, SVR, NuSVR and OneClassSVM take scipy.sparse input (solved as CSR by the SMO,
with sparse support vectors and dual coefficients, as scikit-learn's): their tests run, but for
the parametrizations in ``PEER_PARAM_SKIPS`` and the tests of scikit-learn's liblinear estimators.
"""
from ._sklearn_peer import load_peer, peer_tests

_LINEAR = "exercises only scikit-learn's LinearSVC (liblinear), which glopt does not replace"

#: Tests skipped whole, with the reason.
PEER_SKIPS = {
    "test_linearsvc": _LINEAR,
    "test_linearsvc_iris": _LINEAR,
    "test_sparse_liblinear_intercept_handling": _LINEAR,
}

#: Single parametrizations skipped, by (test, part of the parameter id), with the reason.
PEER_PARAM_SKIPS = {
    ("test_svc", "X_train1-y_train1-X_test1"): (
        "fits SVC(probability=True) on X2, whose classes 1 and 3 have one sample each: glopt's Platt scaling "
        "is cross-validated by CalibratedClassifierCV on stratified folds, which need two samples of every "
        "class, and glopt refuses the fit with a ValueError saying so (LIBSVM's internal cross-validation "
        "fits degenerate folds); the dense fit fails alike, before any sparse input"),
}

globals().update(peer_tests(load_peer("test_sparse")))
