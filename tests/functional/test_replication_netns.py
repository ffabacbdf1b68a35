"""
The Ganeti replication NIC through Salt's real loaders, against the real kernel of a throwaway
network namespace: a veth ``repl0`` stands in for the node's replication NIC (the guests' eth1).
The state applies the pillar's MTU and the node's secondary IP live, predicts under test=True
exactly what a real run changes, then has nothing to do; the persisted ifupdown stanza brings
the NIC back through ``ifup`` as a boot would.
"""

import json
import os
import shutil

import pytest

from support import NETWORKD, boot_networkd

pytestmark = pytest.mark.netns

NODE = "hv2.lab.example.net"
SETTINGS = {
    "cluster_name": "ganeti.lab.example.net", "master": "hv1.lab.example.net",
    "nodes": [NODE], "vg_name": "xenvg",
    "replication": {"network": "198.51.100.0/24", "nic": "repl0", "mtu": 9000},
    "secondary_ips": {"hv1.lab.example.net": "198.51.100.11", NODE: "198.51.100.12"},
}  # fmt: skip
STANZA = "etc/network/interfaces.d/hostnode-replication-repl0"


@pytest.fixture
def node(netns):
    netns.ip("link", "add", "repl0", "type", "veth", "peer", "name", "peer0")
    return netns


def link(netns, nic="repl0"):
    (found,) = json.loads(netns.ip("-json", "address", "show", "dev", nic).stdout)
    addresses = [f"{a['local']}/{a['prefixlen']}" for a in found["addr_info"]
                 if a["scope"] == "global"]  # fmt: skip
    return {"mtu": found["mtu"], "up": "UP" in found["flags"], "addresses": addresses}


def replication(loaders, test=False, settings=None, backend="ifupdown"):
    return loaders.states.bridges.replication(
        NODE, settings=SETTINGS if settings is None else settings, backend=backend, test=test
    )


def test_applied_live_as_predicted_persisted_then_nothing_to_do(loaders, node, config_root):
    with node.entered():
        predicted = replication(loaders, test=True)
        assert link(node) == {"mtu": 1500, "up": False, "addresses": []}, "test=True changed it"
        real = replication(loaders)
        again = replication(loaders)
    assert predicted.result is None and real.result is True, real.comment
    assert predicted.changes == real.changes
    assert real.changes["links"] == {"repl0": {
        "mtu": {"old": 1500, "new": 9000}, "up": {"old": False, "new": True},
        "addresses": {"added": ["198.51.100.12/24"], "removed": []},
    }}  # fmt: skip
    assert link(node) == {"mtu": 9000, "up": True, "addresses": ["198.51.100.12/24"]}
    assert again.result is True and again.changes == {}, again.changes
    assert (config_root / STANZA).read_text() == (
        "# Managed by hostnode (node formula, replication NIC); local changes are overwritten.\n"
        "\nauto repl0\niface repl0 inet static\n    address 198.51.100.12/24\n    mtu 9000\n"
    )


def test_the_nics_other_addresses_stay(loaders, node):
    node.ip("address", "add", "198.51.100.21/24", "dev", "repl0")  # e.g. the primary address
    with node.entered():
        result = replication(loaders)
    assert result.result is True, result.comment
    assert result.changes["links"]["repl0"]["addresses"] == {
        "added": ["198.51.100.12/24"], "removed": [],
    }  # fmt: skip
    assert sorted(link(node)["addresses"]) == ["198.51.100.12/24", "198.51.100.21/24"]


@pytest.mark.skipif(shutil.which("ifup") is None, reason="needs ifup (package ifupdown)")
def test_the_persisted_stanza_brings_the_nic_back_through_ifup(
    loaders, node, config_root, tmp_path
):
    with node.entered():
        assert replication(loaders).result is True
    # What a reboot leaves: the NIC down, its default MTU, no address; then the boot's ifup.
    node.ip("link", "set", "dev", "repl0", "down")
    node.ip("address", "flush", "dev", "repl0")
    node.ip("link", "set", "dev", "repl0", "mtu", "1500")
    node.exec(["ifup", "-i", str(config_root / STANZA), "--state-dir", str(tmp_path), "repl0"])
    assert link(node) == {"mtu": 9000, "up": True, "addresses": ["198.51.100.12/24"]}
    with node.entered():
        assert replication(loaders).changes == {}


def test_a_missing_nic_is_refused_naming_the_field_and_nothing_changes(loaders, node, config_root):
    settings = {**SETTINGS, "replication": {**SETTINGS["replication"], "nic": "eth9"}}
    with node.entered():
        result = replication(loaders, settings=settings)
    assert result.result is False and result.changes == {}
    assert result.comment == (
        "hostnode:node:ganeti:replication:nic: eth9 does not exist on this node (nothing changed)"
    )
    assert not (config_root / "etc").exists()


def test_without_a_nic_in_pillar_nothing_is_managed_and_the_files_go(loaders, node, config_root):
    with node.entered():
        assert replication(loaders).result is True
        removed = replication(loaders, settings={})
    assert removed.result is True and list(removed.changes) == ["files"]
    assert not (config_root / STANZA).exists()
    assert link(node)["mtu"] == 9000, "what is live stays until reboot"


@pytest.mark.skipif(shutil.which("netplan") is None, reason="needs netplan (package netplan.io)")
def test_netplan_accepts_the_file_beside_the_nodes_own(loaders, node, config_root):
    own = config_root / "etc/netplan/50-cloud-init.yaml"
    own.parent.mkdir(parents=True)
    own.write_text("network:\n  version: 2\n  ethernets:\n    repl0:\n      dhcp4: false\n")
    own.chmod(0o600)
    with node.entered():
        result = replication(loaders, backend="netplan")
    assert result.result is True, result.comment
    assert (
        "mtu: 9000" in (config_root / "etc/netplan/90-hostnode-replication-repl0.yaml").read_text()
    )


def test_networkd_gets_a_drop_in_beside_the_nodes_own_network_file(loaders, node, config_root):
    own = config_root / "etc/systemd/network/20-repl0.network"
    own.parent.mkdir(parents=True)
    own.write_text("[Match]\nName=repl0\n\n[Network]\nLinkLocalAddressing=no\n")
    with node.entered():
        result = replication(loaders, backend="networkd")
    assert result.result is True, result.comment
    assert list(result.changes["files"]) == [
        str(config_root / "etc/systemd/network/20-repl0.network.d/hostnode-replication.conf")
    ]


@pytest.mark.skipif(not os.access(NETWORKD, os.X_OK), reason="needs systemd-networkd")
def test_the_networkd_file_brings_the_nic_back_through_systemd_networkd(loaders, node, config_root):
    with node.entered():
        assert replication(loaders, backend="networkd").result is True
    node.ip("link", "set", "dev", "repl0", "down")
    node.ip("address", "flush", "dev", "repl0")
    node.ip("link", "set", "dev", "repl0", "mtu", "1500")
    node.ip("link", "set", "dev", "peer0", "up")  # the switch port: a carrier for networkd
    wanted = {"mtu": 9000, "up": True, "addresses": ["198.51.100.12/24"]}
    network_dir = config_root / "etc/systemd/network"
    assert boot_networkd(node, network_dir, "/etc/systemd/network", lambda: link(node) == wanted)
