"""glopt: support-vector learning with a generalized (pattern-correlated) loss.

``import glopt`` stays light: the estimators and solvers load on first use, either through the
package (``glopt.GLSVC``, ``glopt.GLSVR``, ``glopt.M3SVM``, ``glopt.SVMProblem``,
``glopt.SVMResult``, ``glopt.solve_reference``, ``glopt.solve_mm``, ``glopt.solve_quadratic``,
``glopt.certify_model``) or from their modules directly.
"""
import os as _os

__version__ = "0.1.0"

#: libgomp's spin before an idle OpenMP worker sleeps, unless the environment sets it (or
#: OMP_WAIT_POLICY). The default, 300,000 rounds (milliseconds), makes a worker spin after
#: every parallel region; on a busy machine (a grid search running fits side by side, other
#: jobs) that spinning takes the core the master thread needs, the worker counts as a CPU hog
#: and the next region waits a scheduler slice for it: the SMO's short regions then run several
#: times slower on two threads than on one. 10,000 rounds keep the hand-off between one
#: iteration's regions fast on a quiet machine. libgomp reads it once, when it loads (with
#: glopt's compiled modules, after this).
GOMP_SPINCOUNT = "10000"
if "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = GOMP_SPINCOUNT

# (`certify` is not among them: the submodule glopt.certify shadows any package attribute of that
# name once imported; use ``from glopt.certify import certify``)
_LAZY = {"GLSVC": "estimators", "GLSVR": "estimators", "M3SVM": "multiclass", "SVMProblem": "problem",
         "SVMResult": "result", "solve_reference": "cvx", "solve_mm": "mm", "solve_quadratic": "quadratic",
         "certify_model": "audit"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'glopt' has no attribute {name!r}")
