"""
The Ganeti replication NIC: what a node wants from pillar (naming the field when it cannot
be), ``ip -json address show`` parsed from a real capture (tests/fixtures/ip), the ``ip`` plan
by exact argv (``[]`` once done) and the boot-time file of each backend, read back by the
backend's own tool where this machine has it.
"""

import shutil
import subprocess

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import replication as hostnode_replication
from support import CommandTable, fixture_text, load_module, salt_dunders

bridges = load_module("modules", "bridges")
NODE = "hv2.lab.example.net"
SETTINGS = {
    "cluster_name": "ganeti.lab.example.net", "master": "hv1.lab.example.net",
    "nodes": [NODE, "hv3.lab.example.net"], "vg_name": "xenvg",
    "replication": {"network": "10.99.0.0/24", "nic": "eth1", "mtu": 9000},
    "secondary_ips": {"hv1.lab.example.net": "10.99.0.11", NODE: "10.99.0.12",
                      "hv3.lab.example.net": "10.99.0.13"},
}  # fmt: skip
WANT = {"nic": "eth1", "address": "10.99.0.12/24", "mtu": 9000}
HEADER = "# Managed by hostnode (node formula, replication NIC); local changes are overwritten.\n"


def test_a_node_wants_its_secondary_ip_with_the_networks_prefix_and_the_mtu():
    assert hostnode_replication.wanted(SETTINGS, NODE) == WANT
    assert hostnode_replication.wanted(SETTINGS, "HV2.lab.example.net.") == WANT
    no_ips = {**SETTINGS, "secondary_ips": {}}
    assert hostnode_replication.wanted(no_ips, NODE) == {**WANT, "address": None}


@pytest.mark.parametrize("settings", [{}, {"replication": {"network": "10.99.0.0/24"}}])
def test_without_a_nic_nothing_is_wanted_and_the_rest_is_not_read(settings):
    assert hostnode_replication.wanted(settings, NODE) == {
        "nic": None, "address": None, "mtu": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("replication", "message"),
    [
        ({"nic": "eth1", "mtu": 9000},
         "hostnode:node:ganeti:replication:network: needed for the prefix of "
         "hv2.lab.example.net's secondary IP 10.99.0.12 on eth1"),
        ({"network": "10.99.0.0/24", "nic": "eth1", "mtu": 90000},
         "hostnode:node:ganeti:replication:mtu: 90000 is not an MTU (576 to 65535)"),
        ({"network": "10.99.0.0/24", "nic": "eth 1"},
         "hostnode:node:ganeti:replication:nic: 'eth 1' is not a name"),
        ("repl0", "hostnode:node:ganeti:replication: a mapping of network, nic and mtu, "
         "got 'repl0'"),
    ],
)  # fmt: skip
def test_a_bad_pillar_names_the_field(replication, message):
    with pytest.raises(ValueError) as caught:
        hostnode_replication.wanted({**SETTINGS, "replication": replication}, NODE)
    assert str(caught.value) == message


def test_ip_json_address_show_of_a_real_node_parses():
    links = hostnode_replication.parse_links(fixture_text("ip", "addr-storage-node.txt"))
    assert links["stor-a"] == {"mtu": 1500, "up": True, "addresses": ["198.51.100.11/24"]}
    assert links["peer-a"] == {"mtu": 1500, "up": False, "addresses": []}
    assert links["lo"]["addresses"] == [], "host-scope addresses are not the NIC's"
    assert links["mgmt0"]["addresses"] == ["203.0.113.5/24", "2001:db8:1::5/64"]


@pytest.mark.parametrize(("text", "message"), [
    ("[{\"ifname\": \"eth1\"}", "line 1: not ip -json output"),
    ("[{\"ifname\": \"eth1\"}]", "not ip -json address output: missing or wrong 'mtu'"),
])  # fmt: skip
def test_what_is_not_ip_json_address_output_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        hostnode_replication.parse_links(text)


def test_the_plan_sets_the_mtu_brings_it_up_adds_the_address_and_keeps_the_others():
    # 10.99.0.21/24: the node's primary address may sit in the replication network.
    links = {
        "eth1": {
            "mtu": 1500,
            "up": False,
            "addresses": ["10.99.0.21/24", "192.0.2.7/24", "2001:db8::7/64"],
        }
    }
    assert hostnode_replication.plan(links, WANT) == [
        ["ip", "link", "set", "dev", "eth1", "mtu", "9000"],
        ["ip", "link", "set", "dev", "eth1", "up"],
        ["ip", "address", "add", "10.99.0.12/24", "dev", "eth1"],
    ]  # fmt: skip
    after = hostnode_replication.predicted(links, WANT)
    assert after["eth1"] == {"mtu": 9000, "up": True, "addresses": [
        "10.99.0.21/24", "192.0.2.7/24", "2001:db8::7/64", "10.99.0.12/24"]}  # fmt: skip
    assert hostnode_replication.plan(after, WANT) == []
    assert hostnode_replication.changes(links, after, "eth1") == {"eth1": {
        "mtu": {"old": 1500, "new": 9000}, "up": {"old": False, "new": True},
        "addresses": {"added": ["10.99.0.12/24"], "removed": []},
    }}  # fmt: skip


def test_without_an_address_only_the_mtu_and_the_link_state_are_planned():
    links = {"eth1": {"mtu": 9000, "up": False, "addresses": []}}
    assert hostnode_replication.plan(links, {**WANT, "address": None}) == [
        ["ip", "link", "set", "dev", "eth1", "up"]
    ]


def test_a_missing_nic_is_a_problem_and_no_nic_plans_nothing():
    assert hostnode_replication.problems({}, WANT) == [
        "hostnode:node:ganeti:replication:nic: eth1 does not exist on this node"
    ]
    nothing = {"nic": None, "address": None, "mtu": None}
    assert hostnode_replication.problems({}, nothing) == []
    assert hostnode_replication.plan({}, nothing) == []
    assert hostnode_replication.render("ifupdown", nothing) == {}


def test_ifupdown_stanza_static_with_the_address_manual_without():
    assert hostnode_replication.render("ifupdown", WANT) == {
        "etc/network/interfaces.d/hostnode-replication-eth1": HEADER
        + "\nauto eth1\niface eth1 inet static\n    address 10.99.0.12/24\n    mtu 9000\n"
    }
    (text,) = hostnode_replication.render("ifupdown", {**WANT, "address": None}).values()
    assert text == HEADER + "\nauto eth1\niface eth1 inet manual\n    mtu 9000\n"
    (text,) = hostnode_replication.render("ifupdown", {**WANT, "address": "fd00::12/64"}).values()
    assert "iface eth1 inet6 static\n    address fd00::12/64\n" in text


def test_netplan_file():
    assert hostnode_replication.render("netplan", WANT) == {
        "etc/netplan/90-hostnode-replication-eth1.yaml": HEADER + "network:\n  ethernets:\n"
        "    eth1:\n      addresses:\n      - 10.99.0.12/24\n      mtu: 9000\n  version: 2\n"
    }


def test_networkd_own_file_or_a_drop_in_beside_the_nodes():
    body = "[Link]\nMTUBytes=9000\n\n[Network]\nAddress=10.99.0.12/24\n"
    assert hostnode_replication.render("networkd", WANT) == {
        "etc/systemd/network/10-hostnode-replication-eth1.network":
            HEADER + "[Match]\nName=eth1\n\n" + body,
    }  # fmt: skip
    beside = hostnode_replication.render("networkd", WANT, "etc/systemd/network/20-eth1.network")
    assert beside == {
        "etc/systemd/network/20-eth1.network.d/hostnode-replication.conf": HEADER + body
    }


@pytest.mark.skipif(shutil.which("ifquery") is None, reason="needs ifquery (package ifupdown)")
def test_ifquery_reads_the_stanza(tmp_path):
    (text,) = hostnode_replication.render("ifupdown", WANT).values()
    path = tmp_path / "interfaces"
    path.write_text(text)
    query = subprocess.run(["ifquery", "-i", str(path), "eth1"], capture_output=True, text=True,
                           check=True)  # fmt: skip
    assert "address: 10.99.0.12\n" in query.stdout and "mtu: 9000\n" in query.stdout


@pytest.mark.skipif(shutil.which("netplan") is None, reason="needs netplan (package netplan.io)")
def test_netplan_generate_renders_the_mtu_and_address_for_networkd(tmp_path):
    ((relative, text),) = hostnode_replication.render("netplan", WANT).items()
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(text)
    path.chmod(0o600)
    subprocess.run(["netplan", "generate", "--root-dir", str(tmp_path)], check=True,
                   capture_output=True)  # fmt: skip
    rendered = (tmp_path / "run/systemd/network/10-netplan-eth1.network").read_text()
    assert "Address=10.99.0.12/24" in rendered
    assert "MTUBytes=9000" in (tmp_path / "run/systemd/network/10-netplan-eth1.link").read_text()


def test_the_module_applies_the_plan_and_writes_the_stanza(tmp_path, monkeypatch):
    before = fixture_text("ip", "addr-storage-node.txt")
    table = CommandTable({("ip", "-json", "address", "show"): [(0, before, ""), (0, before, "")]})
    for name, value in salt_dunders(table, tmp_path).items():
        monkeypatch.setattr(bridges, name, value, raising=False)
    monkeypatch.setattr(bridges.salt.utils.path, "which", lambda name: None)
    changes = bridges.replication("stor-b", "198.51.100.12/24", 9000, backend="ifupdown")
    assert table.argvs() == [
        ["ip", "-json", "address", "show"],
        ["ip", "link", "set", "dev", "stor-b", "mtu", "9000"],
        ["ip", "-json", "address", "show"],
    ]
    assert list(changes["files"]) == [
        str(tmp_path / "etc/network/interfaces.d/hostnode-replication-stor-b")
    ]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"nic": "eth1", "mtu": "9000"}, "mtu: '9000' is not an MTU"),
    ({"nic": "eth1", "address": "10.99.0.300/24"}, "address: '10.99.0.300/24' is not IP/prefix"),
    ({"address": "10.99.0.12/24"}, "address: needs a nic"),
    ({"nic": "-eth1"}, "nic: '-eth1' is not a valid interface name"),
])  # fmt: skip
def test_bad_arguments_name_the_field_before_anything_runs(tmp_path, monkeypatch, arguments,
                                                           message):  # fmt: skip
    table = CommandTable()
    for name, value in salt_dunders(table, tmp_path).items():
        monkeypatch.setattr(bridges, name, value, raising=False)
    with pytest.raises(SaltInvocationError, match=message):
        bridges.replication(**arguments)
    assert table.calls == []


def test_a_missing_nic_fails_and_nothing_is_written(tmp_path, monkeypatch):
    table = CommandTable({("ip", "-json", "address", "show"): (0, "[]", "")})
    for name, value in salt_dunders(table, tmp_path).items():
        monkeypatch.setattr(bridges, name, value, raising=False)
    with pytest.raises(CommandExecutionError, match="eth1 does not exist on this node"):
        bridges.replication("eth1", "10.99.0.12/24", 9000, backend="ifupdown")
    assert not (tmp_path / "etc").exists()


def test_preflight_refuses_the_replication_pillar_of_a_node_that_gets_node_replication():
    node = load_module("modules", "node")
    node.__pillar__, node.__opts__, node.__salt__ = {}, {"id": NODE}, {}
    settings = {"ganeti": {**SETTINGS, "replication": {"nic": "eth1", "mtu": 9000}}}
    with pytest.raises(CommandExecutionError) as refused:
        node.preflight(settings, ["node.bridges", "node.replication"])
    assert str(refused.value) == (
        "pillar refused, nothing changed: hostnode:node:ganeti:replication:network: needed "
        "for the prefix of hv2.lab.example.net's secondary IP 10.99.0.12 on eth1"
    )
    assert node.preflight(settings, ["node.bridges"]) is True
    assert node.preflight({"ganeti": SETTINGS}, ["node.replication"]) is True
