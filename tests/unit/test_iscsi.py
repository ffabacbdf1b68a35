"""iscsiadm parsers on outputs captured in the guest, portal normal form, and the iscsi module's
read functions over saved outputs and a stand-in iscsiadm."""

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import iscsi as hostnode_iscsi
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

iscsi = load_module("modules", "iscsi")
TARGET = "iqn.2026-11.net.example:san"


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("192.0.2.10", "192.0.2.10:3260"),
        ("192.0.2.10:3261", "192.0.2.10:3261"),
        ("2001:DB8::1", "[2001:db8::1]:3260"),
        ("[2001:db8::1]:3260", "[2001:db8::1]:3260"),
        (" [2001:db8:0::1] ", "[2001:db8::1]:3260"),
    ],
)
def test_portal_normal_form(given, normal):
    assert hostnode_iscsi.normal_portal(given) == normal


@pytest.mark.parametrize(
    "bad", ["", "san.example.net:3260", "192.0.2.10:0", "192.0.2.10:x", "[::1]:99999", None]
)
def test_bad_portals(bad):
    with pytest.raises(ValueError, match=r"portal|port"):
        hostnode_iscsi.normal_portal(bad)


def test_sendtargets_discovery_from_the_guest():
    records = hostnode_iscsi.parse_records(
        fixture_text("iscsiadm", "discovery-sendtargets-two-portals.txt")
    )
    assert records == [
        {"portal": "127.0.0.1:3260", "tpgt": 1, "target": TARGET},
        {"portal": "127.0.0.2:3260", "tpgt": 1, "target": TARGET},
    ]


def test_discovery_records_and_sessions_from_the_guest():
    assert hostnode_iscsi.parse_discovery_records(fixture_text("iscsiadm", "discovery.txt")) == [
        {"portal": "127.0.0.1:3260", "method": "sendtargets"}
    ]
    sessions = hostnode_iscsi.parse_sessions(fixture_text("iscsiadm", "session-two-portals.txt"))
    assert [(s["sid"], s["portal"], s["flash"]) for s in sessions] == [
        (1, "127.0.0.2:3260", False),
        (2, "127.0.0.1:3260", False),
    ]
    older = fixture_text("iscsiadm", "session-two-portals.txt").replace(" (non-flash)", "")
    assert hostnode_iscsi.parse_sessions(older) == sessions


def test_ipv6_records_and_errors_name_the_line():
    text = fixture_text("iscsiadm", "discovery-sendtargets-two-portals.txt").replace(
        "127.0.0.2:3260", "[2001:db8::2]:3260"
    )
    assert hostnode_iscsi.parse_records(text)[1]["portal"] == "[2001:db8::2]:3260"
    with pytest.raises(ValueError, match="line 2: not 'portal,tpgt target'"):
        hostnode_iscsi.parse_records(text.splitlines()[0] + "\ngarbage\n")
    with pytest.raises(ValueError, match="line 1: not a session line"):
        hostnode_iscsi.parse_sessions("tcp: [x] 127.0.0.1:3260,1\n")


@pytest.fixture
def iscsiadm():
    return CommandTable(
        {
            ("iscsiadm", "-m", "session"): (21, "", "iscsiadm: No active sessions.\n"),
            ("iscsiadm", "-m", "node"): (21, "", "iscsiadm: No records found\n"),
        }
    )


@pytest.fixture
def configure_loader_modules(iscsiadm, config_root, monkeypatch):
    monkeypatch.setattr(iscsi.salt.utils.path, "which", lambda name: f"/usr/sbin/{name}")
    return {iscsi: salt_dunders(iscsiadm, config_root)}


def test_module_reads_live_and_saved(iscsiadm):
    assert iscsi.sessions() == [] and iscsi.nodes() == []
    saved = str(FIXTURES / "iscsiadm/session-two-portals.txt")
    assert len(iscsi.sessions(source=saved)) == 2
    iscsi.discover("2001:db8::10")
    assert iscsiadm.argvs()[-1] == [
        "iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", "[2001:db8::10]:3260",
        "-o", "nonpersistent",
    ]  # fmt: skip


def test_bad_input_runs_nothing(iscsiadm, tmp_path):
    with pytest.raises(SaltInvocationError, match=r"portal: .san\.example. is not a portal"):
        iscsi.discover("san.example")
    with pytest.raises(SaltInvocationError, match=r"source: .* does not exist"):
        iscsi.sessions(source=str(tmp_path / "missing"))
    noise = tmp_path / "noise"
    noise.write_bytes(b"\x00\xfe binary noise\n")
    with pytest.raises(CommandExecutionError, match=r"noise: not text \(byte 1 is not UTF-8\)"):
        iscsi.sessions(source=str(noise))
    garbled = tmp_path / "garbled"
    garbled.write_text("tcp: [1] 127.0.0.1:3260,1\n")
    with pytest.raises(CommandExecutionError, match="garbled: line 1: not iscsiadm -m session"):
        iscsi.sessions(source=str(garbled))
    assert iscsiadm.calls == []


def test_initiator_name_from_the_config_root(config_root):
    assert iscsi.initiator_name() is None
    (config_root / "etc/iscsi").mkdir(parents=True)
    (config_root / "etc/iscsi/initiatorname.iscsi").write_text(
        "## DO NOT EDIT\nInitiatorName=iqn.2026-11.net.example:guest\n"
    )
    assert iscsi.initiator_name() == "iqn.2026-11.net.example:guest"


def saved(name):
    return str(FIXTURES / "iscsiadm" / name)


@pytest.mark.parametrize("layout", ["session-P1.txt", "session-P3.txt"])
def test_sessions_read_every_layout_iscsiadm_prints(iscsiadm, layout):
    flat = iscsi.sessions(source=saved("session-two-ifaces.txt"))
    assert [(s["sid"], s["portal"], s["transport"], s["flash"]) for s in flat] == [
        (1, "192.0.2.1:3260", "tcp", False),
        (2, "198.51.100.1:3260", "tcp", False),
    ]
    assert iscsi.sessions(source=saved(layout)) == flat
    assert iscsiadm.calls == []


def test_nodes_and_discover_read_the_trees_too(iscsiadm):
    assert iscsi.nodes(source=saved("node-P1.txt")) == iscsi.nodes(
        source=saved("node-six-records.txt")
    )
    offered = iscsi.discover(source=saved("discovery-sendtargets-P1.txt"))
    assert [(r["portal"], r["tpgt"]) for r in offered] == [
        ("192.0.2.1:3260", 1),
        ("198.51.100.1:3260", 1),
        ("192.0.2.3:3260", 1),
    ]
    assert iscsi.discover(source=saved("discovery-P1-two-ifaces.txt")) == offered * 2
    with pytest.raises(CommandExecutionError, match="line 1: not iscsiadm -m discovery output"):
        iscsi.discover(source=saved("discovery.txt"))
    assert iscsiadm.calls == []


@pytest.mark.parametrize(
    ("parser", "text", "message"),
    [
        (hostnode_iscsi.parse_sessions, "Target: t (non-flash)\n\tCurrent Portal: x,1\n",
         "line 2: "),
        (hostnode_iscsi.parse_sessions, "Target: t\n\tCurrent Portal: 192.0.2.1:3260,1\n"
         "\t\tSID: one\n", "line 3: SID: 'one' is not a number"),
        (hostnode_iscsi.parse_records, "Target: t\n\tPortal: 192.0.2.1:3260\n",
         "line 2: a portal outside a target"),
        (hostnode_iscsi.parse_records, "192.0.2.1:3260,1 t\n192.0.2.1:3260 via sendtargets\n",
         "line 2: a discovery address"),
    ],
)  # fmt: skip
def test_a_tree_line_that_cannot_be_read_names_its_line(parser, text, message):
    with pytest.raises(ValueError, match=message):
        parser(text)


def test_the_other_layouts_captured_in_the_guest(iscsiadm):
    three = iscsi.sessions(source=saved("session-P0-three.txt"))
    assert [(s["sid"], s["portal"]) for s in three] == [
        (4, "192.0.2.1:3260"),
        (5, "198.51.100.1:3260"),
        (6, "192.0.2.1:3260"),
    ]
    assert iscsi.sessions(source=saved("session-P2-three.txt")) == three
    assert iscsi.discover(source=saved("discoverydb-P1-no-targets.txt")) == []
    with pytest.raises(CommandExecutionError, match="line 1: not iscsiadm -m iface output"):
        iscsi.ifaces(source=saved("iface-P1.txt"))
    assert iscsiadm.calls == []


@pytest.mark.parametrize("layout", ["session-P1-same-portal.txt", "session-P3-same-portal.txt"])
def test_a_second_session_on_the_same_portal_is_a_session_of_its_own(iscsiadm, layout):
    tree = hostnode_iscsi.parse_session_tree(fixture_text("iscsiadm", layout))
    assert [(s["sid"], s["portal"], s["iface"], s["netdev"]) for s in tree] == [
        (4, "192.0.2.1:3260", "ieth-a", "stor-c"),
        (6, "192.0.2.1:3260", "ieth-x", "stor-a"),
        (7, "198.51.100.1:3260", "ieth-b", "stor-b"),
    ]
    flat = iscsi.sessions(source=saved("session-P0-same-portal.txt"))
    assert iscsi.sessions(source=saved(layout)) == flat and len(flat) == 3
