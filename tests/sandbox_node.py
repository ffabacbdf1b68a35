"""
The sandbox node of bin/hostnode_sandbox.py (shared with `make demo`), its salt-call from the
venv that runs the tests. Used by tests/functional/test_node_bootstrap.py and
tests/bench/test_node_bench.py.
"""

import sys

from support import REPO

sys.path.insert(0, str(REPO / "bin"))

import hostnode_sandbox
from hostnode_sandbox import INSTALLER_HOSTS, MINION, SITE_VLANS

__all__ = ["INSTALLER_HOSTS", "MINION", "SITE_VLANS", "Sandbox"]


class Sandbox(hostnode_sandbox.Sandbox):
    """The shared sandbox node, whose hostnode-call runs the Salt of the tests' venv."""

    def __init__(self, base, vlans=SITE_VLANS):
        super().__init__(base, vlans, venv=sys.prefix)
