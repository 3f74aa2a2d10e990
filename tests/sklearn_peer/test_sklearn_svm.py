"""scikit-learn's ``sklearn/svm/tests/test_svm.py``, run against glopt's LIBSVM drop-ins.

The tests are scikit-learn's own, executed from the installed package (:mod:`_sklearn_peer`);
``svm.SVC``, ``svm.NuSVC``, ``svm.SVR``, ``svm.NuSVR``, ``svm.OneClassSVM``, ``SVR``, ``NuSVR`` and
``OneClassSVM`` are glopt's there, every other class scikit-learn's.
"""
from ._sklearn_peer import load_peer, peer_tests

_LINEAR = "exercises only scikit-learn's {} (liblinear), which glopt does not replace"

#: Tests skipped whole, with the reason.
PEER_SKIPS = {
    "test_svr_errors": (
        "expects SVR.fit to accept a callable kernel that returns a 1 x 1 Gram matrix for 2 training "
        "samples (only predict fails); glopt refuses that kernel in fit, with a ValueError naming the shape"),
    "test_linearsvr_fit_sampleweight": _LINEAR.format("LinearSVR"),
    "test_linearsvc_parameters": _LINEAR.format("LinearSVC"),
    "test_linearsvc": _LINEAR.format("LinearSVC"),
    "test_linearsvc_crammer_singer": _LINEAR.format("LinearSVC"),
    "test_linearsvc_fit_sampleweight": _LINEAR.format("LinearSVC"),
    "test_crammer_singer_binary": _LINEAR.format("LinearSVC"),
    "test_linearsvc_iris": _LINEAR.format("LinearSVC"),
    "test_dense_liblinear_intercept_handling": _LINEAR.format("LinearSVC"),
    "test_liblinear_set_coef": _LINEAR.format("LinearSVC"),
    "test_linearsvc_verbose": _LINEAR.format("LinearSVC"),
    "test_linear_svm_convergence_warnings": _LINEAR.format("LinearSVC and LinearSVR"),
    "test_lsvc_intercept_scaling_zero": _LINEAR.format("LinearSVC"),
    "test_linearsvm_liblinear_sample_weight": _LINEAR.format("LinearSVC and LinearSVR"),
    "test_dual_auto": "tests scikit-learn's liblinear helper _validate_dual_parameter",
    "test_dual_auto_edge_cases": "tests scikit-learn's liblinear helper _validate_dual_parameter",
}

globals().update(peer_tests(load_peer("test_svm")))
