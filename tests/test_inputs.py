"""Bad input raises ValueError naming the argument; nothing hangs or crashes."""
import numpy as np
import pytest

from glopt.cvx import solve_reference
from glopt.kernels import Kernel
from glopt.problem import SVMProblem

X = np.random.default_rng(0).normal(size=(10, 2))
Y = np.array([1.0, -1.0] * 5)


def with_value(arr, idx, value):
    arr = arr.copy()
    arr[idx] = value
    return arr


@pytest.mark.parametrize("kwargs,match", [
    ({"X": with_value(X, (0, 0), np.nan)}, "X contains NaN"),
    ({"X": with_value(X, (3, 1), np.inf)}, "X contains NaN or infinity"),
    ({"X": X[:, 0]}, "X must be 2-dimensional"),
    ({"X": X[:0]}, "X is empty"),
    ({"y": Y[:9]}, "y has 9 rows but X has 10"),
    ({"y": np.ones(10)}, "y has a single class"),
    ({"y": np.arange(10.0) % 3}, r"y must hold labels in \{-1, \+1\}"),
    ({"y": np.where(Y > 0, 1.0, 0.0)}, r"y must hold labels in \{-1, \+1\}"),
    ({"y": with_value(Y, 2, np.nan)}, "y contains NaN"),
    ({"C": 0.0}, "C must be finite and > 0"),
    ({"C": -1.0}, "C must be"),
    ({"C": np.inf}, "C must be"),
    ({"C": "1"}, "C must be a real number"),
    ({"epsilon": -0.1, "task": "svr"}, "epsilon"),
    ({"weights": np.zeros(10)}, "weights must be > 0"),
    ({"weights": np.ones(3)}, "weights has 3 rows"),
    ({"task": "svm"}, "task"),
    ({"p": 3}, "p must be one of"),
    ({"p": 2, "S": -np.eye(10)}, "S is not positive semi-definite"),
    ({"p": 2, "S": np.eye(9)}, "S is 9 x 9 but there are 10 samples"),
    ({"p": 1, "S": np.eye(10)}, "non-convex"),
    ({"kernel": Kernel("precomputed")}, "square Gram matrix"),
])
def test_problem_rejects_bad_input(kwargs, match):
    args = {"X": X, "y": Y, **kwargs}
    with pytest.raises(ValueError, match=match):
        SVMProblem(**args)


def test_problem_rejects_a_kernel_name_for_a_kernel():
    with pytest.raises(TypeError, match="kernel must be a glopt.kernels.Kernel"):
        SVMProblem(X, Y, kernel="rbf")


def test_precomputed_gram_must_be_symmetric():
    K = np.random.default_rng(1).normal(size=(10, 10))
    with pytest.raises(ValueError, match="not symmetric"):
        SVMProblem(K, Y, Kernel("precomputed"))


def test_precomputed_reference_equals_rbf():
    k = Kernel("rbf", gamma=0.7)
    a = solve_reference(SVMProblem(X, Y, k))
    b = solve_reference(SVMProblem(k(X), Y, Kernel("precomputed")))
    assert a.objective == pytest.approx(b.objective, rel=1e-8)
    np.testing.assert_allclose(a.a, b.a, atol=1e-7)


def test_unknown_solver_option_is_an_error():
    with pytest.raises(ValueError, match="no_such_option"):
        solve_reference(SVMProblem(X, Y), no_such_option=1)
