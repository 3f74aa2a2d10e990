"""What scikit-learn's SVM tests need from scikit-learn's conftest, and the peer suite's skips.

Each peer test module lists in ``PEER_SKIPS`` the tests that are skipped whole, by function
name, with the reason, and may list in ``PEER_PARAM_SKIPS`` single parametrizations, keyed by
(function name, a part of the parameter id such as ``"X_train1-y_train1"``). On top, any test parametrized by an estimator glopt does not replace
(LinearSVC, LinearSVR: class or instance) is skipped for that parameter: it would test
scikit-learn only.
"""
import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "thread_unsafe: scikit-learn's mark of tests that are not thread-safe")


def _random_seeds():
    """scikit-learn's SKLEARN_TESTS_GLOBAL_RANDOM_SEED: unset = 42, 'all' = 0..99, 'a-b', or one int."""
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    if "-" in value:
        start, stop = map(int, value.split("-"))
        return list(range(start, stop + 1))
    return [int(value)]


def pytest_generate_tests(metafunc):
    # scikit-learn's conftest parametrizes this fixture the same way
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", _random_seeds())


def _not_replaced():
    from sklearn.svm import LinearSVC, LinearSVR

    return (LinearSVC, LinearSVR)


def pytest_collection_modifyitems(config, items):
    not_replaced = None
    for item in items:
        skips = getattr(getattr(item, "module", None), "PEER_SKIPS", None)
        if skips is None:
            continue
        name = getattr(item, "originalname", item.name)
        reason = skips.get(name)
        if reason is None and hasattr(item, "callspec"):
            param_skips = getattr(item.module, "PEER_PARAM_SKIPS", {})
            reason = next((why for (func, part), why in param_skips.items()
                           if func == name and part in item.callspec.id), None)
        if reason is None and hasattr(item, "callspec"):
            not_replaced = not_replaced or _not_replaced()
            for value in item.callspec.params.values():
                cls = value if isinstance(value, type) else type(value)
                if cls in not_replaced:
                    reason = (f"runs scikit-learn's {cls.__name__} (liblinear) for this parameter, which glopt "
                              "does not replace")
                    break
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
