"""
Sphinx configuration of hostnode's docs (`make docs`): the hand-written guides of docs/ (MyST
Markdown) and a reference generated from the modules' own docstrings.

The reference pages are written into docs/ref/ at every build (never edited, not committed),
one per execution module, state module, grain module and beacon found in the checkout, so a new
module appears without anyone listing it.
"""

import pathlib
import sys

DOCS = pathlib.Path(__file__).resolve().parent
REPO = DOCS.parent
# _modules, _states, _grains, _beacons import as namespace packages; _utils holds saltext.hostnode.
sys.path[:0] = [str(REPO), str(REPO / "_utils")]

KINDS = {
    "_modules": "Execution modules",
    "_states": "State modules",
    "_grains": "Grains",
    "_beacons": "Beacons",
}

project = "hostnode"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
autodoc_default_options = {"members": True, "member-order": "bysource"}
html_theme = "alabaster"


def reference_modules(repo=REPO):
    """``{kind folder: [module stem, ...]}``: every loader module the reference documents."""
    return {
        kind: sorted(p.stem for p in (repo / kind).glob("*.py") if not p.stem.startswith("_"))
        for kind in KINDS
    }


def write_reference(app):
    ref = DOCS / "ref"
    ref.mkdir(exist_ok=True)
    toc = ["Reference", "=========", "", ".. toctree::", "   :maxdepth: 1", ""]
    for kind, stems in reference_modules().items():
        page = [KINDS[kind], "=" * len(KINDS[kind]), ""]
        for stem in stems:
            page += [stem, "-" * len(stem), "", f".. automodule:: {kind}.{stem}", ""]
        (ref / f"{kind.lstrip('_')}.rst").write_text("\n".join(page))
        toc.append(f"   {kind.lstrip('_')}")
    (ref / "index.rst").write_text("\n".join(toc) + "\n")


def setup(app):
    app.connect("builder-inited", write_reference)
