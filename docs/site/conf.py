# Sphinx configuration of MX's documentation site. Built by `make docs` (tools/docs/build_docs.py),
# which copies docs/site/ into build/docs/src, adds the generated reference pages and the tutorial
# notebooks there, and runs sphinx-build with warnings as errors.
import os
import sys

ROOT = os.environ.get("MX_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(ROOT, "python"))

project = "MX"
author = "the MX developers"
copyright = "the MX developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "nbsphinx"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "alabaster"
html_theme_options = {"description": "One C core, MXNet 1.x's API, Python, R and Julia",
                      "fixed_sidebar": True}
html_extra_path = ["_extra"]
# The notebooks suite executes the tutorials; the site renders those executed copies and never
# runs a kernel itself.
nbsphinx_execute = "never"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
nitpicky = False
