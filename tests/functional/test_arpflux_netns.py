"""
ARP flux and rp_filter on a real kernel: a storage node (one namespace) with two NICs in the
SAN's subnet, both plugged into the SAN's bridge (another namespace).
"""

import re
import shutil

import pytest

pytestmark = pytest.mark.netns

STOR_A, STOR_B = "198.51.100.11", "198.51.100.12"
SAN = "198.51.100.100"


class StorageNode:
    def __init__(self, node, san):
        self.node, self.san = node, san
        san.ip("link", "add", "br0", "type", "bridge")
        san.ip("link", "set", "br0", "up")
        san.ip("addr", "add", f"{SAN}/24", "dev", "br0")
        for name, address in (("stor-a", STOR_A), ("stor-b", STOR_B)):
            node.ip(
                "link",
                "add",
                name,
                "type",
                "veth",
                "peer",
                "name",
                f"san-{name[-1]}",
                "netns",
                san.name,
            )
            san.ip("link", "set", f"san-{name[-1]}", "master", "br0")
            san.ip("link", "set", f"san-{name[-1]}", "up")
            node.ip("link", "set", name, "up")
            node.ip("addr", "add", f"{address}/24", "dev", name)
        node.wait_for_carrier("stor-a", "stor-b")
        san.wait_for_carrier("san-a", "san-b", "br0")
        # A management NIC in a subnet of its own: never part of the flux group.
        node.ip("link", "add", "mgmt0", "type", "veth", "peer", "name", "mgmt0-peer")
        node.ip("link", "set", "mgmt0", "up")
        node.ip("addr", "add", "203.0.113.5/24", "dev", "mgmt0")

    def mac(self, interface):
        return re.search(r"link/ether (\S+)", self.node.ip("link", "show", interface).stdout)[1]

    def arp_replies(self, address):
        """The MACs that answer the SAN's ARP requests for address (two probes)."""
        result = self.san.exec(["arping", "-c", "4", "-w", "2", "-I", "br0", address], check=False)
        return set(re.findall(r"\[([0-9A-F:]{17})\]", result.stdout))

    def accepts_from_san(self, address, interface):
        """Whether the node's source validation passes a packet from the SAN on interface."""
        result = self.node.ip("route", "get", address, "from", SAN, "iif", interface, check=False)
        return result.returncode == 0

    def sysctl(self, *assignments):
        self.node.exec(["sysctl", "-q", "-w", *assignments])

    def value(self, interface, key):
        return int(self.node.exec(["sysctl", "-n", f"net.ipv4.conf.{interface}.{key}"]).stdout)


@pytest.fixture
def storage_node(netns_factory):
    if not shutil.which("arping"):
        pytest.skip("arping (package iputils-arping) is not installed")
    return StorageNode(netns_factory(), netns_factory())


def test_formula_fixes_arp_flux(storage_node, hostnode_call, config_root):
    node = storage_node
    assert node.arp_replies(STOR_A) == {node.mac("stor-a").upper(), node.mac("stor-b").upper()}
    code, result = hostnode_call(node.node, "state.apply", "storage_net.arpflux")
    assert code == 0, result
    (state,) = result.values()
    assert set(state["changes"]["sysctl"]) == {"stor-a", "stor-b"}
    assert node.arp_replies(STOR_A) == {node.mac("stor-a").upper()}
    assert node.arp_replies(STOR_B) == {node.mac("stor-b").upper()}
    persisted = (config_root / "etc/sysctl.d/90-hostnode-arpflux.conf").read_text()
    assert "net.ipv4.conf.stor-b.arp_ignore = 1" in persisted
    code, again = hostnode_call(node.node, "state.apply", "storage_net.arpflux")
    assert code == 0 and next(iter(again.values()))["changes"] == {}


def test_rp_filter_on_all_overrides_the_interface_until_tuned(storage_node, loaders):
    node = storage_node
    node.sysctl("net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.stor-b.rp_filter=0")
    assert not node.accepts_from_san(STOR_B, "stor-b"), "per-interface 0 alone takes effect?"
    with node.node.entered():
        predicted = loaders.states.arpflux.tuned(
            "san", interfaces=["stor-a", "stor-b"], values={"rp_filter": 0}, test=True
        )
        real = loaders.states.arpflux.tuned(
            "san", interfaces=["stor-a", "stor-b"], values={"rp_filter": 0}
        )
        status = loaders.modules.arpflux.status(interfaces=["stor-b", "mgmt0"])
    assert predicted.result is None and real.result is True
    assert predicted.changes == real.changes
    assert real.changes["sysctl"]["all"] == {"rp_filter": {"old": 1, "new": 0}}
    assert "conf/all lowered (rp_filter)" in real.comment
    assert node.accepts_from_san(STOR_B, "stor-b")
    assert node.accepts_from_san(STOR_A, "stor-a")
    # Every other interface keeps strict filtering: raised to what conf/all gave it.
    assert node.value("mgmt0", "rp_filter") == 1 and node.value("default", "rp_filter") == 1
    assert status["mgmt0"]["rp_filter"] == {"configured": 1, "effective": 1}
    assert status["stor-b"]["warnings"] == []


def test_bad_input_changes_nothing(storage_node, loaders, config_root):
    node = storage_node
    before = [node.value(i, "arp_ignore") for i in ("stor-a", "stor-b", "all")]
    with node.node.entered():
        unknown = loaders.states.arpflux.tuned("san", interfaces=["stor-a", "eth7"])
        out_of_range = loaders.states.arpflux.tuned(
            "san", interfaces=["stor-a"], values={"arp_ignore": 5}
        )
        not_ours = loaders.states.arpflux.tuned(
            "san", interfaces=["stor-a"], values={"forwarding": 1}
        )
    assert "interfaces[1]: 'eth7' does not exist" in unknown.comment
    assert "values.arp_ignore: 5 is not one of 0, 1, 2, 3, 8" in out_of_range.comment
    assert "values: 'forwarding' is not a key arpflux manages" in not_ours.comment
    assert all(r.result is False for r in (unknown, out_of_range, not_ours))
    assert [node.value(i, "arp_ignore") for i in ("stor-a", "stor-b", "all")] == before
    assert not (config_root / "etc").exists()
