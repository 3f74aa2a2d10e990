"""The build's OpenMP probe and switch (setup.py), without building the extensions."""
import importlib.util
from pathlib import Path

import pytest
from setuptools import Distribution, Extension
from distutils.ccompiler import new_compiler            # setuptools' distutils, as in a build
from distutils.sysconfig import customize_compiler

import glopt.smo


def _setup_module():
    path = Path(__file__).resolve().parents[1] / "setup.py"
    spec = importlib.util.spec_from_file_location("glopt_setup", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)   # not as __main__: defines the helpers, builds nothing
    return module


@pytest.fixture(scope="module")
def setup_py():
    return _setup_module()


@pytest.fixture(scope="module")
def compiler(setup_py):
    cc = new_compiler()
    customize_compiler(cc)
    if not setup_py.compiler_accepts(cc, [], source="int main(void) { return 0; }\n"):
        pytest.skip("no working C compiler")
    return cc


def test_probe_rejects_an_unknown_flag(setup_py, compiler):
    assert not setup_py.compiler_accepts(compiler, ["-fglopt-no-such-option"],
                                         source="int main(void) { return 0; }\n")


def test_probe_rejects_a_program_that_does_not_compile(setup_py, compiler):
    assert not setup_py.compiler_accepts(compiler, [], source="#include <glopt_no_such_header.h>\n")


def test_openmp_setting(setup_py, monkeypatch):
    monkeypatch.delenv("GLOPT_OPENMP", raising=False)
    assert setup_py.openmp_setting() == "auto"
    for value, expected in [("0", "0"), ("1", "1"), (" AUTO ", "auto"), ("", "auto")]:
        monkeypatch.setenv("GLOPT_OPENMP", value)
        assert setup_py.openmp_setting() == expected
    monkeypatch.setenv("GLOPT_OPENMP", "yes")
    with pytest.raises(ValueError, match="GLOPT_OPENMP"):
        setup_py.openmp_setting()


def test_serial_build_drops_the_openmp_flags(setup_py, monkeypatch):
    built = []
    monkeypatch.setattr(setup_py.build_ext, "build_extensions", lambda self: built.append(self.extensions))
    monkeypatch.setenv("GLOPT_OPENMP", "0")
    cmd = setup_py.BuildExt(Distribution())
    ext = Extension("x", ["x.c"], extra_compile_args=["-fopenmp", "-O3"], extra_link_args=["-fopenmp"])
    cmd.extensions = [ext]
    cmd.build_extensions()
    assert built == [[ext]]
    assert ext.extra_compile_args == ["-O3"] and ext.extra_link_args == []


def test_openmp_required_but_missing_fails(setup_py, monkeypatch):
    monkeypatch.setattr(setup_py.build_ext, "build_extensions", lambda self: None)
    monkeypatch.setattr(setup_py, "compiler_accepts", lambda compiler, flags: False)
    monkeypatch.setenv("GLOPT_OPENMP", "1")
    cmd = setup_py.BuildExt(Distribution())
    cmd.extensions = []
    with pytest.raises(setup_py.CompileError, match="GLOPT_OPENMP=1"):
        cmd.build_extensions()


@pytest.mark.parametrize("env, expected", [({}, "10000"), ({"GOMP_SPINCOUNT": "5"}, "5"),
                                           ({"OMP_WAIT_POLICY": "passive"}, None)])
def test_import_sets_a_short_openmp_spin_unless_the_environment_does(env, expected):
    import json
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", "import glopt, os, json; print(json.dumps(os.environ.get('GOMP_SPINCOUNT')))"],
                         env={**clean, **env}, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == expected


def test_extension_thread_count():
    assert glopt.smo.openmp_max_threads() >= 1
