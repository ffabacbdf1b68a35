"""
hostnode: Salt execution modules, states, grains and beacons for hypervisor and storage nodes.

This package is the same in both ways of installing hostnode:

- **synced** from a master's file_roots (``saltutil.sync_all`` copies ``_utils/saltext`` to the
  minion's ``extmods/utils``, which Salt puts on ``sys.path`` while it loads a module);
- **pip-installed** as the ``hostnode`` distribution, whose ``salt.loader`` entry point names this
  package, so Salt also loads ``saltext.hostnode.modules``, ``.states``, ``.grains`` and
  ``.beacons``.

The shared, pure code lives in ``saltext.hostnode.utils``. A minion's jobs fork from its main
process, which imported that code at start for its grains and beacons, so after a sync a job would
run the new modules against the old shared code. Every module of ours therefore calls
:func:`refresh` before importing the shared code.
"""

import importlib
import os
import sys

PACKAGE = __name__
_HERE = os.path.dirname(os.path.abspath(__file__))
_SHARED = os.path.join(_HERE, "utils")
_SHARED_PACKAGE = f"{PACKAGE}.utils"


def _identity(path):
    """What changes when a file is replaced or rewritten (None: it is gone)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _stamps():
    """The identity of every file of this package's shared code, taken at its import."""
    names = [os.path.join(_SHARED, name) for name in os.listdir(_SHARED) if name.endswith(".py")]
    return {path: _identity(path) for path in [os.path.abspath(__file__), *names]}


_STAMPS = _stamps()


def installed_copies(path=None):
    """
    Every folder on ``path`` (``sys.path`` by default) that holds this package, as real paths, in
    ``sys.path`` order.
    """
    found = []
    for entry in sys.path if path is None else path:
        candidate = os.path.join(entry or ".", "saltext", "hostnode", "__init__.py")
        if os.path.isfile(candidate):
            folder = os.path.realpath(os.path.dirname(candidate))
            if folder not in found:
                found.append(folder)
    return found


def _ours(name):
    """This package and its shared code (Salt loads our modules under names of its own)."""
    return name in (PACKAGE, _SHARED_PACKAGE) or name.startswith(_SHARED_PACKAGE + ".")


def refresh():
    """
    Make the next ``import saltext.hostnode...`` load the files as they are now.

    A module of this package whose file was replaced, rewritten or removed since this package was
    imported (a sync or an upgrade) drops the whole package from ``sys.modules``, so it is
    imported anew, every part of it from one version. Raises ImportError, naming both places, when
    hostnode is installed twice so that one copy shadows the other (a pip install and a sync).
    """
    copies = installed_copies()
    if len(copies) > 1:
        raise ImportError(
            f"hostnode is installed twice: {copies[0]} shadows {copies[1]}. Keep one: "
            "`salt-pip uninstall hostnode`, or take hostnode's _modules, _states, _grains, "
            "_beacons and _utils out of the master's file_roots and run saltutil.sync_all "
            "(it removes the synced copy)"
        )
    loaded = {name: module for name, module in sys.modules.items() if _ours(name)}
    files = [os.path.abspath(module.__file__) for module in loaded.values()]
    if any(_STAMPS.get(path) != _identity(path) for path in files):
        for name in loaded:
            del sys.modules[name]
        importlib.invalidate_caches()
