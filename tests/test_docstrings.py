"""Public callables document every parameter they take, and the public docstrings follow numpydoc."""
import inspect
import re
from pathlib import Path

import pytest

from glopt import GLSVC, GLSVR, M3SVM
from glopt.smo import solve_svc, solve_svr


def _documented(doc: str) -> set:
    """Parameter names of a numpydoc 'Parameters' section (lines 'name : ...', 'a, b : ...')."""
    names = set()
    for line in doc.splitlines():
        m = re.match(r"^\s{4}([A-Za-z_][\w, ]*) :", line)
        if m:
            names.update(n.strip() for n in m.group(1).split(","))
    return names


@pytest.mark.parametrize("func", [solve_svc, solve_svr])
def test_solver_docstrings_name_every_parameter(func):
    assert func.__doc__, f"{func.__name__} has no docstring"
    params = set(inspect.signature(func).parameters)
    assert params <= _documented(func.__doc__), params - _documented(func.__doc__)


@pytest.mark.parametrize("cls", [GLSVC, GLSVR, M3SVM])
def test_estimator_docstrings_name_every_parameter(cls):
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert params <= _documented(cls.__doc__), params - _documented(cls.__doc__)
    for method in ("fit", "predict"):
        assert getattr(cls, method).__doc__, f"{cls.__name__}.{method} has no docstring"


# --------------------------------------------------------------------------------------
# numpydoc validation of the public API (the objects docs/api/ documents)
# --------------------------------------------------------------------------------------
#: The numpydoc checks every public docstring passes. These are the structural rules (a
#: docstring exists, its summary is one capitalized sentence, its sections parse, are in order
#: and match the signature, every parameter and return value has a type and a description) and
#: the whitespace rules that keep the rendered pages clean. Left out on purpose: ES01 (short
#: helpers need no extended summary), SA01 and EX01 (See Also and Examples where they help, not on
#: every method), SS05 (it takes any first word ending in "s", such as "LIBSVM's", for a verb),
#: PR08, PR09, RT04 and RT05 (a description may start with a literal such as ``X`` or end with a
#: formula), RT02 (a named single return value is valid numpydoc).
NUMPYDOC_CHECKS = frozenset({
    "GL01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL08", "GL10",   # global: layout, sections
    "SS01", "SS02", "SS03", "SS04", "SS06",                           # the one-line summary
    "PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PR10",   # Parameters vs the signature
    "RT01", "RT03", "YD01",                                           # Returns / Yields
})
#: Checks that compare the Parameters section with the signature: skipped where the signature
#: cannot be read (compiled extension types).
SIGNATURE_CHECKS = frozenset({"PR01", "PR02", "PR03"})

ROOT = Path(__file__).resolve().parents[1]
API_PAGES = ROOT / "docs" / "api"


def _api_modules() -> list:
    """Modules the API pages document with their members (``.. automodule::`` without ``:no-members:``)."""
    modules = []
    for page in sorted(API_PAGES.glob("*.rst")):
        for m in re.finditer(r"^\.\. automodule:: (\S+)\n((?:[ \t]+\S.*\n)*)", page.read_text(), re.M):
            if ":no-members:" not in m.group(2):
                modules.append(m.group(1))
    return modules


def _public_names(module) -> list:
    """The classes and functions autodoc documents: ``__all__``, else those the module defines."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__]
    return [n for n in names if inspect.isclass(getattr(module, n)) or inspect.isroutine(getattr(module, n))]


def _public_members(cls) -> list:
    """Public methods and properties a class defines itself (scikit-learn's generated
    ``set_*_request`` setters, which the API pages leave out, excepted; compiled attributes
    only when they carry a docstring)."""
    names = []
    for name, value in vars(cls).items():
        if name.startswith("_") or re.fullmatch(r"set_\w+_request", name):
            continue
        if (inspect.isroutine(value) or isinstance(value, (property, classmethod, staticmethod))
                or (inspect.isgetsetdescriptor(value) and value.__doc__)):
            names.append(name)
    return names


def _public_objects(module) -> list:
    """Dotted names of the public classes, functions, methods and properties of ``module``."""
    out = []
    for name in _public_names(module):
        obj = getattr(module, name)
        out.append(f"{module.__name__}.{name}")
        if inspect.isclass(obj):
            out += [f"{module.__name__}.{name}.{member}" for member in _public_members(obj)]
    return out


def _signature_known(obj) -> bool:
    try:
        inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    return True


def _numpydoc_errors(name: str) -> list:
    """(code, message) of every chosen numpydoc check ``name``'s docstring fails."""
    import warnings

    from numpydoc.validate import Validator, get_doc_object, validate

    class PublicSignature(Validator):
        """numpydoc's validator, with private parameters (``_name``) left out of the signature."""

        def __init__(self, obj_name):
            super().__init__(get_doc_object(Validator._load_obj(obj_name)))

        @property
        def signature_parameters(self):
            return tuple(p for p in super().signature_parameters if not p.lstrip("*").startswith("_"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = validate(name, validator_cls=PublicSignature)
    obj = Validator._load_obj(name)
    skip = set() if _signature_known(obj) else SIGNATURE_CHECKS
    errors = [(code, msg) for code, msg in result["errors"] if code in NUMPYDOC_CHECKS - skip]
    # numpydoc's parser warns about what it cannot read (an unknown section, a bad underline)
    errors += [("GL06", " ".join(str(w.message).split())) for w in caught
               if w.filename.endswith("docscrape.py")]
    return errors


def test_api_pages_document_every_top_level_module():
    """Every public module directly under glopt has its section in docs/api/."""
    import pkgutil

    import glopt

    public = {f"glopt.{m.name}" for m in pkgutil.iter_modules(glopt.__path__) if not m.name.startswith("_")}
    missing = public - set(_api_modules())
    assert not missing, f"modules without an API section in docs/api/: {sorted(missing)}"


@pytest.mark.parametrize("module_name", _api_modules())
def test_public_docstrings_follow_numpydoc(module_name):
    """The public docstrings of each documented module pass the chosen numpydoc checks."""
    pytest.importorskip("numpydoc")
    if module_name.startswith("glopt.nn"):
        pytest.importorskip("torch")
    import importlib

    module = importlib.import_module(module_name)
    failures = [f"{name} {code}: {msg}" for name in _public_objects(module) for code, msg in _numpydoc_errors(name)]
    assert not failures, f"{len(failures)} numpydoc failure(s) in {module_name}:\n" + "\n".join(failures)
