"""
A one-node Ganeti cluster formed for real in the guest (one boot, jobs/ganeti.sh): the ganeti
states under test=True list the exact `gnt-cluster init`, the real run runs that and reports the
same, a second run changes nothing, and the saved gnt-cluster info / gnt-node list parse.
A second node is not booted: the add-node commands are asserted in tests/unit/test_ganeti.py.
"""

import json

import guest
import pytest

import hostnode_ganeti

pytestmark = [pytest.mark.vm, pytest.mark.slow]
FQDN = "node1.guest.example.net"
INIT = (
    "gnt-cluster init --master-netdev=eth0 --enabled-hypervisors=kvm "
    "--enabled-disk-templates=diskless ganeti.guest.example.net"
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return guest.job_results("ganeti.sh", tmp_path_factory.mktemp("guest-ganeti"))


def states(results, name):
    return json.loads(guest.result(results, name))["local"]


def by_id(results, name, state_id):
    (state,) = [s for key, s in states(results, name).items() if f"_|-{state_id}_|-" in key]
    return state


def test_test_mode_predicts_the_init_the_real_run_reports(results):
    predicted = by_id(results, "salt-test.json", "hostnode-ganeti-cluster")
    applied = by_id(results, "salt-apply.json", "hostnode-ganeti-cluster")
    assert predicted["result"] is None
    assert predicted["changes"] == {"commands": [INIT]}
    assert applied["result"] is True, applied["comment"]
    assert applied["changes"] == predicted["changes"]


def test_a_second_run_changes_nothing(results):
    again = states(results, "salt-again.json")
    assert all(s["result"] is True and s["changes"] == {} for s in again.values()), again


def test_the_cluster_reads_back(results):
    info = hostnode_ganeti.parse_cluster_info(guest.result(results, "cluster-info.txt"))
    assert info["Cluster name"] == "ganeti.guest.example.net"
    assert info["Master node"] == FQDN
    nodes = hostnode_ganeti.parse_node_list(guest.result(results, "node-list.txt"))
    assert list(nodes) == [FQDN]
