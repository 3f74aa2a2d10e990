"""Load scikit-learn's own SVM test modules with its LIBSVM estimators replaced by glopt's drop-ins.

Nothing is copied: :func:`load_peer` executes the test module that ships inside the installed
scikit-learn (``sklearn/svm/tests/<name>.py``) as a new module, while ``sklearn.svm`` resolves to
a proxy module that is scikit-learn's ``sklearn.svm`` with ``SVC``, ``NuSVC``, ``SVR``, ``NuSVR``
and ``OneClassSVM`` taken from :mod:`glopt.svm`. Every name the test module binds at import time
(``from sklearn import svm``, ``from sklearn.svm import SVR``, the classes inside
``pytest.mark.parametrize``) is then glopt's where a drop-in exists and scikit-learn's otherwise
(LinearSVC, LinearSVR, the LIBSVM and liblinear wrappers). scikit-learn's own modules are left as
they were.
"""
from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

#: The estimators of sklearn.svm that glopt replaces.
DROP_INS = ("SVC", "NuSVC", "SVR", "NuSVR", "OneClassSVM")


def drop_in_svm_module() -> types.ModuleType:
    """``sklearn.svm`` as a new module object, with the drop-ins in place of scikit-learn's classes."""
    import sklearn.svm

    import glopt.svm

    proxy = types.ModuleType("sklearn.svm", "sklearn.svm with its LIBSVM estimators from glopt.svm")
    for name, value in vars(sklearn.svm).items():
        if name not in ("__name__", "__doc__"):
            setattr(proxy, name, value)
    for name in DROP_INS:
        setattr(proxy, name, getattr(glopt.svm, name))
    return proxy


def load_peer(name: str) -> types.ModuleType:
    """scikit-learn's test module ``sklearn.svm.tests.<name>``, executed against the drop-ins.

    Parameters
    ----------
    name : str
        The module's name in ``sklearn/svm/tests`` (``"test_svm"``, ``"test_sparse"``).

    Returns
    -------
    module
        A new module ``glopt_peer_<name>`` whose globals bind the drop-ins.
    """
    import pytest
    import sklearn
    import sklearn.svm

    if importlib.util.find_spec("sklearn.svm.tests") is None:
        pytest.skip("scikit-learn is installed without its tests (sklearn/svm/tests)", allow_module_level=True)
    # imported here, as scikit-learn's, before the proxy is in place: test_sparse imports it
    import sklearn.svm.tests.test_svm  # noqa: F401

    path = Path(sklearn.svm.tests.__file__).parent / f"{name}.py"
    if not path.is_file():
        pytest.skip(f"scikit-learn {sklearn.__version__} has no sklearn/svm/tests/{path.name}",
                    allow_module_level=True)
    spec = importlib.util.spec_from_file_location(f"glopt_peer_{name}", path)
    module = importlib.util.module_from_spec(spec)
    real = sys.modules["sklearn.svm"]
    proxy = drop_in_svm_module()
    # `from sklearn import svm` reads the package attribute, `from sklearn.svm import SVR` the
    # module registry: both see the proxy while the test module executes, and only then
    sys.modules["sklearn.svm"] = proxy
    sklearn.svm = proxy
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules["sklearn.svm"] = real
        sklearn.svm = real
    return module


def peer_tests(module: types.ModuleType) -> dict:
    """The test functions of a loaded peer module, to re-export from a glopt test module."""
    return {name: value for name, value in vars(module).items() if name.startswith("test_") and callable(value)}
