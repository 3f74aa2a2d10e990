"""Build the Cython extension(s); everything else is declared in pyproject.toml.

OpenMP: used where the compiler compiles and links an OpenMP program with ``-fopenmp``, else the
extensions are built without it (kernel columns and products on one thread, same results).
GLOPT_OPENMP=0 forces the serial build, GLOPT_OPENMP=1 fails the build when OpenMP is missing.
"""
import contextlib
import os
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

OPENMP_FLAGS = ["-fopenmp"]
OPENMP_PROBE = """\
#include <omp.h>
int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
"""


@contextlib.contextmanager
def _quiet():
    """Silence the compiler (a failing probe's errors are expected) at the file-descriptor level."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def compiler_accepts(compiler, flags, source=OPENMP_PROBE):
    """Whether ``compiler`` (a setuptools CCompiler) compiles and links ``source`` with ``flags``."""
    with tempfile.TemporaryDirectory(prefix="glopt-probe-") as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(source)
        try:
            with _quiet():
                objects = compiler.compile([src], output_dir=tmp, extra_postargs=flags)
                compiler.link_executable(objects, "probe", output_dir=tmp, extra_postargs=flags)
        except (CompileError, LinkError):
            return False
    return True


def openmp_setting():
    """GLOPT_OPENMP: "0" (serial build), "1" (OpenMP required) or "auto" (unset: probe)."""
    value = os.environ.get("GLOPT_OPENMP", "").strip().lower()
    if value in ("", "auto"):
        return "auto"
    if value in ("0", "1"):
        return value
    raise ValueError(f"GLOPT_OPENMP must be 0, 1 or auto, got {value!r}")


class BuildExt(build_ext):
    """build_ext that drops the OpenMP flags where they cannot be used."""

    def build_extensions(self):
        setting = openmp_setting()
        use = setting != "0" and compiler_accepts(self.compiler, OPENMP_FLAGS)
        if setting == "1" and not use:
            raise CompileError("GLOPT_OPENMP=1 but the compiler cannot build an OpenMP program "
                               f"with {' '.join(OPENMP_FLAGS)}")
        if not use:
            print("glopt: building without OpenMP ("
                  + ("GLOPT_OPENMP=0" if setting == "0" else "the compiler lacks -fopenmp")
                  + "): kernel columns on one thread", file=sys.stderr)
            for ext in self.extensions:
                ext.extra_compile_args = [a for a in ext.extra_compile_args if a not in OPENMP_FLAGS]
                ext.extra_link_args = [a for a in ext.extra_link_args if a not in OPENMP_FLAGS]
        super().build_extensions()


def extensions():
    import numpy as np
    from Cython.Build import cythonize

    # GLOPT_DEBUG=1 builds with bounds checks and assertions on, for the fuzz tests.
    debug = os.environ.get("GLOPT_DEBUG", "") not in ("", "0")
    directives = {
        "language_level": 3,
        "boundscheck": debug,
        "wraparound": False,
        "cdivision": True,
        "initializedcheck": debug,
    }
    compile_args = OPENMP_FLAGS + (["-O0", "-g"] if debug else ["-O3"])
    exts = [
        Extension(
            name,
            [source],
            # glopt/_fastexp.h and glopt/_openmp.h; glopt/smo's headers sit beside _solver.pyx
            include_dirs=[np.get_include(), "glopt", "glopt/smo"],
            extra_compile_args=compile_args,
            extra_link_args=list(OPENMP_FLAGS),
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for name, source in [("glopt.smo._solver", "glopt/smo/_solver.pyx"),
                             ("glopt.smo._blocks", "glopt/smo/_blocks.pyx"),
                             ("glopt._correlation", "glopt/_correlation.pyx"),
                             ("glopt._newton", "glopt/_newton.pyx")]
        # GLOPT_EXT=glopt._correlation builds one extension only (developers editing the other)
        if os.environ.get("GLOPT_EXT", name) == name
    ]
    return cythonize(exts, compiler_directives=directives)


if __name__ == "__main__":
    setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
