"""Build the Cython extension(s); everything else is declared in pyproject.toml."""
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# GLOPT_DEBUG=1 builds with bounds checks and assertions on, for the fuzz tests.
debug = os.environ.get("GLOPT_DEBUG", "") not in ("", "0")
directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": debug,
}
compile_args = ["-fopenmp"] + (["-O0", "-g"] if debug else ["-O3"])

extensions = [
    Extension(
        name,
        [source],
        include_dirs=[np.get_include(), "glopt"],  # glopt/_fastexp.h
        extra_compile_args=compile_args,
        extra_link_args=["-fopenmp"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for name, source in [("glopt.smo._solver", "glopt/smo/_solver.pyx"),
                         ("glopt._correlation", "glopt/_correlation.pyx")]
    # GLOPT_EXT=glopt._correlation builds one extension only (developers editing the other)
    if os.environ.get("GLOPT_EXT", name) == name
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
