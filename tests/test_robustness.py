"""Every public entry point under bad and edge-case inputs (tests/robustness_cases.py), each case
in a child process of its own with a timeout: a clear error naming the argument or property, or
a finite, checked answer. Never a crash, a hang, an internal error or a silent wrong answer."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import robustness_cases as rc

RUNNER = Path(__file__).with_name("robustness_cases.py")


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """One fresh process runs all cases (forking one child per case) and reports each outcome."""
    out = tmp_path_factory.mktemp("robustness") / "records.json"
    proc = subprocess.run([sys.executable, str(RUNNER), "--json", str(out), "--timeout", "60"],
                          capture_output=True, text=True, timeout=1200)
    if not out.exists():
        pytest.fail(f"the robustness runner wrote no records (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def test_there_are_enough_cases():
    bad = sum(c["kind"] == "bad" for c in rc.CASES.values())
    assert len(rc.CASES) >= 300 and bad >= 250
    # every kind of entry point is covered
    groups = {name.split("/")[0] for name in rc.CASES}
    assert {"problem", "kernel", "correlation", "smo", "mm", "quadratic", "paper", "reference", "certify",
            "from_sklearn", "GLSVC", "GLSVR", "M3SVM", "torch", "load_keel", "cli"} <= groups


@pytest.mark.parametrize("name", list(rc.CASES))
def test_case(records, name):
    assert name in records, f"{name}: no record (the runner stopped early?)"
    why = rc.verdict(name, records[name])
    assert why == "", f"{name}: {why}"


def test_the_runner_catches_crashes_hangs_and_internal_errors():
    """The harness itself: a segfault, a hang and an internal exception are each reported as such."""
    import os
    import signal
    import time

    def crash():
        import faulthandler

        faulthandler.disable()  # no fatal-error report from the child: the crash is expected
        os.kill(os.getpid(), signal.SIGSEGV)

    rc.CASES["_selftest/crash"] = dict(fn=crash, kind="bad", match="", types=rc.VT)
    rc.CASES["_selftest/hang"] = dict(fn=lambda: time.sleep(30), kind="bad", match="", types=rc.VT)
    rc.CASES["_selftest/internal"] = dict(fn=lambda: [][1], kind="bad", match="", types=rc.VT)
    rc.CASES["_selftest/silent"] = dict(fn=lambda: float("nan"), kind="ok", check=rc.finite)
    try:
        got = rc.run_all(["_selftest/crash", "_selftest/hang", "_selftest/internal", "_selftest/silent"],
                         timeout=2.0)
        assert got["_selftest/crash"]["outcome"] == "crashed"
        assert got["_selftest/hang"]["outcome"] == "hang"
        assert "IndexError" in rc.verdict("_selftest/internal", got["_selftest/internal"])
        assert "fails its check" in rc.verdict("_selftest/silent", got["_selftest/silent"])
    finally:
        for key in [k for k in rc.CASES if k.startswith("_selftest/")]:
            del rc.CASES[key]
