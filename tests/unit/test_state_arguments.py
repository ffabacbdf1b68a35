"""
No parameter of our state functions is an argument Salt's state compiler keeps for itself
(salt/state.py: ``names`` expands a state into one per item, ``state`` and ``fun`` name it, and
STATE_INTERNAL_KEYWORDS are its requisites and runtime options), checked against the Salt this
test runs under.
"""

import ast
import pathlib

import pytest
import salt.state

REPO = pathlib.Path(__file__).resolve().parents[2]
RESERVED = salt.state.STATE_INTERNAL_KEYWORDS | {"names", "state", "fun", "name_order"}


def parameters(path):
    tree = ast.parse(path.read_text())
    return {
        node.name: [arg.arg for arg in node.args.args + node.args.kwonlyargs]
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }


@pytest.mark.parametrize("path", sorted((REPO / "_states").glob("*.py")), ids=lambda p: p.stem)
def test_no_state_parameter_is_a_reserved_state_argument(path):
    clashes = {fun: sorted(set(args) & RESERVED) for fun, args in parameters(path).items()}
    assert {fun: args for fun, args in clashes.items() if args} == {}
