"""
A state module that cannot load says why its execution module declined, not only that the
execution module is missing: here Salt finds neither `ip` nor `sysctl` on PATH while the
loaders load our modules again.

``__salt__.missing_fun_string`` (as Salt's own states/locale.py calls it) is no help: the
loader's NamedLoaderContext sends it to the loader running now, the state loader, which knows
nothing of the execution module; ``__salt__.value()`` is the execution modules' loader (Salt
3006 and 3008 alike).
"""

import ast

import pytest
import salt.utils.path

from support import REPO

DECLINED = {
    "anyip.present": "'anyip' __virtual__ returned False: anyip: the ip command",
    "bond.mac_pinned": "'bond' __virtual__ returned False: bond: the ip command",
    "bridges.managed": "'bridges' __virtual__ returned False: bridges: the ip command",
    "arpflux.tuned": "'arpflux' __virtual__ returned False: arpflux: the sysctl command",
}


@pytest.mark.parametrize("function", sorted(DECLINED))
def test_a_state_module_gives_its_execution_modules_reason(loaders, monkeypatch, function):
    which = salt.utils.path.which
    missing = ("ip", "sysctl")
    monkeypatch.setattr(
        salt.utils.path, "which", lambda exe=None: None if exe in missing else which(exe)
    )
    loaders.reload_all()
    assert function not in loaders.states
    assert DECLINED[function] in loaders.states.missing_fun_string(function)


@pytest.mark.parametrize("path", sorted((REPO / "_states").glob("*.py")), ids=lambda p: p.stem)
def test_every_state_module_declines_with_the_loaders_reason(path):
    (virtual,) = [node for node in ast.parse(path.read_text()).body
                  if isinstance(node, ast.FunctionDef) and node.name == "__virtual__"]  # fmt: skip
    assert ".value().missing_fun_string(" in ast.unparse(virtual), f"{path.name}: __virtual__"
