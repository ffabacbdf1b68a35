"""
node.ganeti_cluster through Salt's own state compiler (state.sls, test=True) on a master whose
minion id the pillar names, with three other nodes: one state each for init (with the CPU model
pillar sets), the running cluster's parameters (nothing to do before the init), groups and
members. A masterless minion's mine holds only its own keys, so the
members are refused there, naming the first node without host keys
(tests/integration/test_orchestrate.py lists the adds through a real master's mine).
"""

import uuid

import pytest
from saltfactories.utils.functional import Loaders

from support import minion_overrides

NODES = ["hv2.lab.example.net", "hv3.lab.example.net", "hv4.lab.example.net"]


@pytest.fixture
def master(salt_factories, config_root):
    """Loaders of a minion with an FQDN id of its own (the cluster's master)."""
    minion_id = f"hv1-{uuid.uuid4().hex[:8]}.lab.example.net"
    factory = salt_factories.salt_minion_daemon(minion_id, overrides=minion_overrides(config_root))
    return minion_id, Loaders(factory.config.copy())


def test_three_nodes_each_get_one_gnt_node_add(master):
    minion_id, loaders = master
    ganeti = {"cluster_name": "ganeti.lab.example.net", "master": minion_id, "nodes": NODES,
              "vg_name": "xenvg", "install": False, "groups": ["rack1"],
              "hypervisor_parameters": {"kvm": {"cpu_type": "qemu64"}}}  # fmt: skip
    result = loaders.modules.state.sls(
        "node.ganeti_cluster", test=True, pillar={"hostnode": {"node": {"ganeti": ganeti}}}
    ).raw
    assert isinstance(result, dict), result
    states = sorted(result.values(), key=lambda state: state["__run_num__"])
    by_id = {}
    for state in states:
        by_id.setdefault(state["__id__"], []).append(state)
    assert list(by_id) == [
        "hostnode-ganeti-cluster", "hostnode-ganeti-parameters", "hostnode-ganeti-groups",
        "hostnode-ganeti-members",
    ]  # fmt: skip
    assert [len(states) for states in by_id.values()] == [1, 1, 1, 1], "one state each"
    init, parameters, groups, members = (by_id[key][0] for key in by_id)
    (command,) = init["changes"]["commands"]
    assert command.startswith("gnt-cluster init ") and command.endswith(" ganeti.lab.example.net")
    assert "--hypervisor-parameters=kvm:cpu_type=qemu64," in command
    assert parameters["result"] is True and parameters["changes"] == {}
    assert groups["changes"] == {"commands": ["gnt-group add rack1"]}
    assert members["result"] is False and members["changes"] == {}
    assert members["comment"] == (
        f"{NODES[0]}: no SSH host key in the Salt mine (ganeti.ssh_keys): not added, "
        "nothing changed"
    )
