"""
The bridge ports' offloads and the bridge-nf profile: ``ethtool -k`` parsed from real captures
(tests/fixtures/ethtool), the ``ethtool -K`` plan by exact argv, the pillar's validation naming
the field, the boot-time settings per backend and the kernel profile of the node formula.
"""

import pytest
from salt.exceptions import CommandExecutionError

from saltext.hostnode.utils import bridge as hostnode_bridge
from saltext.hostnode.utils import ethtool as hostnode_ethtool
from support import FIXTURES, fixture_text, load_module, salt_dunders

bridges = load_module("modules", "bridges")
OFF = {"gro": False, "gso": False, "tso": False}


def features(case):
    return hostnode_ethtool.parse_features(fixture_text("ethtool", case))


def test_a_fresh_veth_reads_as_the_kernel_reports_it():
    found = features("k-veth-fresh.txt")
    assert found["generic-receive-offload"] == {"on": False, "requested": False, "fixed": False}
    assert found["generic-segmentation-offload"] == {"on": True, "requested": True, "fixed": False}
    assert found["tx-tcp-segmentation"] == {"on": True, "requested": True, "fixed": False}
    assert found["large-receive-offload"] == {"on": False, "requested": False, "fixed": True}
    assert found["tx-checksum-ipv4"]["fixed"] is True, "sub-features too"


def test_a_feature_held_off_but_requested_on_is_asked_off_too():
    # After tx off, tso on is requested but held off: ethtool's summary line still says on.
    found = features("k-veth-tx-off.txt")
    assert found["tcp-segmentation-offload"]["on"] is True
    assert found["tx-tcp-segmentation"] == {"on": False, "requested": True, "fixed": False}
    assert found["generic-receive-offload"]["on"] is True
    # As the boot's hook does (ethtool --offload with every option), so tso stays off when tx
    # comes back on.
    assert hostnode_ethtool.plan("v0", found, OFF) == [
        "ethtool", "-K", "v0", "gro", "off", "gso", "off", "tso", "off",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "case, tso, gro",
    [("k-legacy-bnx2x-gist.txt", False, False), ("k-legacy-ramoth-gist.txt", True, True)],
)
def test_ethtool_before_3_4_reads_alike_tso_on_its_segmentation_line(case, tso, gro):
    found = features(case)
    assert found["tx-tcp-segmentation"] == {"on": tso, "requested": tso, "fixed": False}
    assert found["generic-receive-offload"]["on"] is gro
    wanted = {"gro": False, "tso": False}
    assert hostnode_ethtool.problems("eth0", found, wanted) == []
    after = hostnode_ethtool.predicted(found, wanted)
    assert hostnode_ethtool.plan("eth0", after, wanted) == []


def test_the_oldest_layout_names_offloads_with_spaces():
    found = features("k-legacy-e1000-lkml-2007.txt")
    assert found["tcp-segmentation-offload"]["on"] is True
    assert found["tx-tcp-segmentation"]["on"] is True
    assert hostnode_ethtool.plan("eth0", found, {"tso": False}) == [
        "ethtool",
        "-K",
        "eth0",
        "tso",
        "off",
    ]
    # It printed no GRO line: a problem named before anything runs.
    assert hostnode_ethtool.problems("eth0", found, {"gro": False}) == [
        "eth0 has no generic-receive-offload (gro)"
    ]


def test_a_setting_ethtool_cannot_get_is_skipped():
    found = features("k-cannot-get-ufo-gist.txt")
    assert found["udp-fragmentation-offload"]["on"] is False
    assert found["tx-tcp-segmentation"] == {"on": False, "requested": False, "fixed": True}
    assert hostnode_ethtool.problems("eth0", found, {"tso": True}) == [
        "eth0: tso is fixed off by its driver"
    ]


@pytest.mark.parametrize(
    "text, line",
    [
        ("", 1),
        ("net.ipv4.ip_forward = 1\n", 1),
        ("Features for v0:\nrx-checksumming: maybe\n", 2),
        ("Offload parameters for eth0:\nrx-checksumming: on\nCannot\n", 3),
    ],
)
def test_what_is_not_ethtool_k_output_is_refused_naming_the_line(text, line):
    with pytest.raises(ValueError, match=rf"^line {line}: not ethtool -k output"):
        hostnode_ethtool.parse_features(text)


def test_the_plan_sets_only_what_differs_and_is_empty_when_nothing_does():
    fresh = features("k-veth-fresh.txt")
    assert hostnode_ethtool.plan("bond0.100", fresh, OFF) == [
        "ethtool", "-K", "bond0.100", "gso", "off", "tso", "off",
    ]  # fmt: skip
    assert hostnode_ethtool.plan("bond0.100", fresh, {"gro": False}) == []
    after = hostnode_ethtool.predicted(fresh, OFF)
    assert hostnode_ethtool.plan("bond0.100", after, OFF) == []
    assert hostnode_ethtool.changes(fresh, after, OFF) == {
        "gso": {"old": True, "new": False},
        "tso": {"old": True, "new": False},
    }


def test_a_feature_the_driver_holds_fixed_is_a_problem_before_anything_runs():
    fresh = features("k-veth-fresh.txt")
    assert hostnode_ethtool.problems("v0", fresh, {"lro": True, "gro": False}) == [
        "v0: lro is fixed off by its driver"
    ]
    assert hostnode_ethtool.problems("v0", fresh, {"lro": False}) == []
    assert hostnode_ethtool.problems("v0", {}, {"gro": False}) == [
        "v0 has no generic-receive-offload (gro)"
    ]


@pytest.mark.parametrize(
    "value, message",
    [
        ({"gro": "off"}, "hostnode:node:bridges:offloads:gro: true or false, got 'off'"),
        ({"tcp": False}, "hostnode:node:bridges:offloads:tcp: not an offload hostnode sets"),
        (["gro"], "hostnode:node:bridges:offloads: a mapping of offload to true or false"),
    ],
)
def test_bad_offloads_name_the_field(value, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        hostnode_ethtool.offloads(value, "hostnode:node:bridges:offloads")


def test_ifupdown_persists_offloads_in_the_ports_stanzas_for_the_ethtool_hook():
    macs = {"br0100": "02:00:00:00:01:00", "br-bond0": "02:00:00:00:02:00"}
    items = hostnode_bridge.wanted("bond0", [100, None], macs)
    (text,) = hostnode_bridge.render("ifupdown", items, None, OFF).values()
    options = "    offload-gro off\n    offload-gso off\n    offload-tso off\n"
    assert f"iface bond0.100 inet manual\n    vlan-raw-device bond0\n{options}" in text
    assert f"\niface bond0 inet manual\n{options}" in text, "the untagged port's own stanza"
    assert "offload" not in next(iter(hostnode_bridge.render("ifupdown", items).values()))


@pytest.mark.parametrize("backend", ["netplan", "networkd"])
def test_netplan_and_networkd_persist_offloads_in_a_link_file_per_port(backend):
    items = hostnode_bridge.wanted("bond0", [100], {"br0100": "02:00:00:00:01:00"})
    files = hostnode_bridge.render(backend, items, "etc/systemd/network/10-bond0.network", OFF)
    assert files["etc/systemd/network/90-hostnode-bridge-bond0.100.link"].split("\n", 1)[1] == (
        "[Match]\nOriginalName=bond0.100\n\n[Link]\nMACAddressPolicy=none\n"
        "GenericReceiveOffload=false\nGenericSegmentationOffload=false\n"
        "TCPSegmentationOffload=false\nTCP6SegmentationOffload=false\n"
    )
    assert not any(p.endswith(".link") for p in hostnode_bridge.render(backend, items, "x"))


def test_the_kernel_profile_loads_br_netfilter_and_sets_the_bridge_nf_keys():
    drbd = {"drbd": {"options": {"minor_count": 128}}}
    profile = bridges.kernel_profile(False, drbd, {"vm.swappiness": 10}, ["node.bridges"])
    assert profile == {
        "kernel_modules": {"drbd": {"options": {"minor_count": 128}}, "br_netfilter": None},
        "sysctl": {
            "vm.swappiness": 10,
            "net.bridge.bridge-nf-call-iptables": 0,
            "net.bridge.bridge-nf-call-ip6tables": 0,
            "net.bridge.bridge-nf-call-arptables": 0,
        },
    }
    on = bridges.kernel_profile(True, {}, {}, ["node.bridges"])["sysctl"]
    assert set(on.values()) == {1}
    untouched = bridges.kernel_profile(False, {"drbd": None}, {}, ["bonding", "ceph_osd"])
    assert untouched == {"kernel_modules": {"drbd": None}, "sysctl": {}}


def test_offloads_read_from_a_saved_ethtool_output(tmp_path, monkeypatch):
    monkeypatch.setattr(bridges, "__salt__", {}, raising=False)
    found = bridges.offloads("v0", source=str(FIXTURES / "ethtool/k-veth-fresh.txt"))
    assert {name: (f["on"], f["fixed"]) for name, f in found.items()} == {
        "rx": (True, False),
        "tx": (True, False),
        "tso": (True, False),
        "gso": (True, False),
        "gro": (False, False),
        "lro": (False, True),
    }
    other = tmp_path / "sysctl.txt"
    other.write_text("net.ipv4.ip_forward = 1\n")
    with pytest.raises(CommandExecutionError, match="line 1: not ethtool -k output"):
        bridges.offloads("v0", source=str(other))


def test_without_ethtool_wanted_offloads_fail_naming_the_package(tmp_path, monkeypatch):
    for name, value in salt_dunders(None, tmp_path).items():
        monkeypatch.setattr(bridges, name, value, raising=False)
    monkeypatch.setattr(bridges.salt.utils.path, "which", lambda name: None)
    with pytest.raises(CommandExecutionError, match=r"ethtool \(package ethtool\)"):
        bridges.offloads("v0")


def test_the_guests_virtio_nic_reads_with_its_fixed_features():
    found = features("k-virtio-guest.txt")
    assert found["rx-checksumming"] == {"on": True, "requested": True, "fixed": True}
    assert found["tx-tcp-segmentation"] == {"on": False, "requested": False, "fixed": True}
    assert found["generic-receive-offload"] == {"on": True, "requested": True, "fixed": False}
    assert hostnode_ethtool.problems("eth0", found, {"tso": True, "rx": False}) == [
        "eth0: rx is fixed on by its driver",
        "eth0: tso is fixed off by its driver",
    ]
    assert hostnode_ethtool.plan("eth0", found, OFF) == [
        "ethtool", "-K", "eth0", "gro", "off", "gso", "off",
    ]  # fmt: skip


def test_the_guests_vlan_port_after_the_highstate_and_after_ifup():
    # The live run of this fixture's time asked only gro off (gso and tso were already held
    # off by eth0); the boot's hook asks all three. Now the plan asks them too.
    live = features("k-virtio-vlan-guest.txt")
    assert live["generic-segmentation-offload"] == {"on": False, "requested": True, "fixed": False}
    assert hostnode_ethtool.plan("eth0.100", live, OFF) == [
        "ethtool", "-K", "eth0.100", "gso", "off", "tso", "off",
    ]  # fmt: skip
    booted = features("k-virtio-vlan-after-ifup-guest.txt")
    assert hostnode_ethtool.plan("eth0.100", booted, OFF) == []
    assert hostnode_ethtool.plan("eth0.100", hostnode_ethtool.predicted(live, OFF), OFF) == []
