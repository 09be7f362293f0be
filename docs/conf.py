"""Sphinx configuration of the sqc documentation (built by ``python3 tasks.py docs`` into docs/_build/html).

Sphinx was chosen over MkDocs because sqc's docstrings are numpydoc, as in pingouin and statsmodels, whose users
find the same layout here (pydata theme). The tutorials in ``notebooks/tutorial_*.ipynb`` are copied into
``tutorials/`` and executed during the build (myst-nb); no other notebook is executed.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import sqc  # noqa: E402

project = "sqc"
author = "the sqc authors"
copyright = "2026, the sqc authors"
version = release = sqc.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax", "numpydoc",
              "sphinxarg.ext"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "jupyter_execute"]
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# the tutorials are executed on every build (they are small); anything else in docs/ is not a notebook
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_validation_checks: set = set()
numpydoc_xref_param_type = False
suppress_warnings = ["myst.header", "autodoc.import_object"]

html_theme = "pydata_sphinx_theme"
html_title = f"sqc {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list = []

# tutorials live in notebooks/ (where the test suite runs them); the docs build copies and executes them
TUTORIALS = DOCS / "tutorials"
TUTORIALS.mkdir(exist_ok=True)
for nb in sorted((ROOT / "notebooks").glob("tutorial_*.ipynb")):
    target = TUTORIALS / nb.name
    if not target.exists() or target.read_bytes() != nb.read_bytes():
        shutil.copyfile(nb, target)


def _module_headings_to_rubrics(app, what, name, obj, options, lines):
    """Module docstrings use underlined headings ("Example" / "-------"); on one site many modules share such a
    heading, which would give duplicate section labels, so they are drawn as rubrics instead."""
    if what != "module":
        return
    out = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and nxt.strip() and set(nxt.strip()) <= set("-=~^") and len(nxt.strip()) >= len(line.strip()):
            out += [f".. rubric:: {line.strip()}", ""]
        elif line.strip() and set(line.strip()) <= set("-=~^") and out and out[-1] == "" and \
                len(out) >= 2 and out[-2].startswith(".. rubric::"):
            continue
        else:
            out.append(line)
    lines[:] = out


def setup(app):
    app.connect("autodoc-process-docstring", _module_headings_to_rubrics, priority=400)
