"""Sphinx configuration of glopt's documentation: the markdown pages and the API reference.

Build (warnings are errors)::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
"""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import glopt  # noqa: E402

project = "glopt"
author = "glopt contributors"
copyright = "glopt contributors, BSD-3-Clause"
release = glopt.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/*.csv", "Thumbs.db", ".DS_Store"]

# markdown: anchors for headings down to ###, so that page#section links resolve
myst_heading_anchors = 3

# autodoc: members in source order, the signature in the heading, type hints kept there
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True  # defaults as written (``xp=np``), not their repr
autodoc_default_options = {"members": True, "show-inheritance": True}
autosummary_generate = False

# numpydoc renders the sections; autodoc lists the members (no second, duplicate list)
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# unresolved cross-references (types named in docstrings) are not errors
nitpicky = False

html_theme = "alabaster"
html_title = f"glopt {release}"
html_static_path = []
html_theme_options = {"description": "Support-vector learning with a generalized loss",
                      "page_width": "1100px", "sidebar_width": "260px"}


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing setters (``set_fit_request`` etc.)."""
    if what == "class" and name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
