"""
The bridge ports' offloads through Salt's real loaders, against the real kernel of a throwaway
network namespace: a veth stands in for the bond (this kernel has no bonding), the untagged
bridge's port. veth lets gro, gso and tso change; its lro is fixed off.
"""

import os
import shutil

import pytest

pytestmark = pytest.mark.netns

OFF = {"gro": False, "gso": False, "tso": False}
MAC = "02:00:00:00:0b:01"


@pytest.fixture
def node(netns):
    if shutil.which("ethtool") is None:
        pytest.skip("needs ethtool (package ethtool)")
    netns.ip("link", "add", "bond0", "type", "veth", "peer", "name", "peer0")
    netns.exec(["ethtool", "-K", "bond0", "gro", "on"])
    return netns


def offloads(netns, nic="bond0"):
    text = netns.exec(["ethtool", "-k", nic]).stdout
    names = {"generic-receive-offload": "gro", "generic-segmentation-offload": "gso",
             "tx-tcp-segmentation": "tso"}  # fmt: skip
    found = {}
    for line in text.splitlines():
        name, _, value = line.strip().partition(": ")
        if name in names:
            found[names[name]] = value.split()[0] == "on"
    return found


def managed(loaders, test=False, **options):
    return loaders.states.bridges.managed(
        "bridges", bond="bond0", vlans=[None], mac=MAC, backend="ifupdown", test=test, **options
    )


def test_offloads_off_as_predicted_live_and_persisted_then_nothing_to_do(
    loaders, node, config_root
):
    with node.entered():
        predicted = managed(loaders, test=True, offloads=OFF)
        assert offloads(node) == {"gro": True, "gso": True, "tso": True}, "test=True changed them"
        real = managed(loaders, offloads=OFF)
        again = managed(loaders, offloads=OFF)
    assert predicted.result is None and real.result is True, real.comment
    assert predicted.changes == real.changes
    assert real.changes["offloads"] == {
        "bond0": {name: {"old": True, "new": False} for name in ("gro", "gso", "tso")}
    }
    assert offloads(node) == {"gro": False, "gso": False, "tso": False}
    assert again.result is True and again.changes == {}
    persisted = (config_root / "etc/network/interfaces.d/hostnode-bridge-bond0").read_text()
    assert "iface bond0 inet manual\n    offload-gro off\n    offload-gso off\n" in persisted


@pytest.mark.skipif(
    shutil.which("ifup") is None or not os.path.exists("/etc/network/if-up.d/ethtool"),
    reason="needs ifup (package ifupdown) and the ethtool package's if-up.d hook",
)
def test_the_persisted_stanza_turns_them_off_again_through_ifupdowns_ethtool_hook(
    loaders, node, config_root, tmp_path
):
    with node.entered():
        assert managed(loaders, offloads=OFF).result is True
    node.exec(["ethtool", "-K", "bond0", "gro", "on", "gso", "on", "tso", "on"])
    persisted = config_root / "etc/network/interfaces.d/hostnode-bridge-bond0"
    # What the boot does for the port: ifup runs if-up.d/ethtool with the stanza's options.
    node.exec(["ifup", "-i", str(persisted), "--state-dir", str(tmp_path), "bond0"])
    assert offloads(node) == {"gro": False, "gso": False, "tso": False}


def test_a_fixed_offload_is_refused_and_nothing_changes(loaders, node, config_root):
    with node.entered():
        result = managed(loaders, offloads={"gro": False, "lro": True})
    assert result.result is False and result.changes == {}
    assert result.comment == "bond0: lro is fixed off by its driver (nothing changed)"
    assert offloads(node)["gro"] is True
    assert "br-bond0" not in node.ip("link", "show").stdout
    assert not (config_root / "etc").exists()


def test_without_offloads_the_ports_are_left_alone(loaders, node):
    with node.entered():
        result = managed(loaders)
    assert result.result is True and "offloads" not in result.changes
    assert offloads(node) == {"gro": True, "gso": True, "tso": True}


def test_bad_offloads_name_the_field_and_change_nothing(loaders, node, config_root):
    with node.entered():
        result = managed(loaders, offloads={"gro": "off"})
    assert result.result is False
    assert result.comment == "offloads:gro: true or false, got 'off'"
    assert "br-bond0" not in node.ip("link", "show").stdout
