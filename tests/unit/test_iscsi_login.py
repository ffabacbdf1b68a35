"""
iscsiadm's trees, ifaces and records captured in the guest, the login plan, and iscsi.login /
iscsi.logout over a stand-in iscsiadm and a node database in a temporary directory.
"""

import stat

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import iscsi as hostnode_iscsi
from support import CommandTable, fixture_text, load_module, salt_dunders

iscsi = load_module("modules", "iscsi")
TARGET = "iqn.2026-11.net.example:san"
SECRET = "Chap-S3cret-42"
PORTALS = [
    {"portal": "192.0.2.1", "iface": "ieth-a", "netdev": "stor-a"},
    {"portal": "198.51.100.1", "iface": "ieth-b", "netdev": "stor-b"},
]
NO_SESSIONS = (21, "", "iscsiadm: No active sessions.\n")


def test_session_trees_give_the_iface_and_never_chap():
    (first, second) = hostnode_iscsi.parse_session_tree(fixture_text("iscsiadm", "session-P3.txt"))
    assert first["sid"] == 1 and first["portal"] == "192.0.2.1:3260" and first["tpgt"] == 1
    assert (first["iface"], first["netdev"], first["ipaddress"]) == (
        "ieth-a",
        "stor-a",
        "192.0.2.10",
    )
    assert first["initiator"] == "iqn.2026-11.net.example:guest"
    assert first["connection_state"] == "LOGGED IN" and first["session_state"] == "LOGGED_IN"
    assert first["timeouts"] == {"recovery": 5, "target_reset": 30, "lun_reset": 30, "abort": 15}
    assert first["devices"] == [
        {"host": 6, "channel": 0, "id": 0, "lun": 0, "device": "sda", "state": "running"}
    ]
    assert second["iface"] == "ieth-b" and second["devices"][0]["device"] == "sdb"
    assert "hostnode" not in repr([first, second])  # the CHAP user name is not returned
    brief = hostnode_iscsi.parse_session_tree(fixture_text("iscsiadm", "session-P1.txt"))
    assert [(s["sid"], s["iface"], s["devices"]) for s in brief] == [
        (1, "ieth-a", []),
        (2, "ieth-b", []),
    ]


def test_plain_lists_of_the_same_sessions_and_records():
    sessions = hostnode_iscsi.parse_sessions(fixture_text("iscsiadm", "session-two-ifaces.txt"))
    assert [(s["sid"], s["portal"]) for s in sessions] == [
        (1, "192.0.2.1:3260"),
        (2, "198.51.100.1:3260"),
    ]
    records = hostnode_iscsi.parse_records(fixture_text("iscsiadm", "node-six-records.txt"))
    assert len(records) == 6 and {r["tpgt"] for r in records} == {1}


def test_a_failed_path_shows_in_the_session_tree():
    sessions = hostnode_iscsi.parse_session_tree(
        fixture_text("iscsiadm", "session-P3-one-failed.txt")
    )
    assert [(s["connection_state"], s["session_state"]) for s in sessions] == [
        ("LOGGED IN", "LOGGED_IN"),
        ("TRANSPORT WAIT", "FREE"),
    ]
    assert sessions[1]["devices"][0]["state"] == "transport-offline"


def test_node_and_discovery_trees():
    nodes = hostnode_iscsi.parse_tree(fixture_text("iscsiadm", "node-P1.txt"))
    assert [(n["portal"], n["iface"]) for n in nodes] == [
        (portal, iface)
        for portal in ("192.0.2.1:3260", "192.0.2.3:3260", "198.51.100.1:3260")
        for iface in ("ieth-a", "ieth-b")
    ]
    assert {n["method"] for n in nodes} == {None}
    found = hostnode_iscsi.parse_tree(fixture_text("iscsiadm", "discovery-P1-two-ifaces.txt"))
    assert len(found) == 6 and {f["method"] for f in found} == {"sendtargets"}
    assert [f["discovery"] for f in found] == ["192.0.2.1:3260"] * 3 + ["198.51.100.1:3260"] * 3
    sendtargets = hostnode_iscsi.parse_tree(
        fixture_text("iscsiadm", "discovery-sendtargets-P1.txt")
    )
    assert [s["portal"] for s in sendtargets][-1] == "192.0.2.3:3260"
    ipv6 = "Target: t\n\tPortal: [2001:db8::1]:3260,1\n\t\tIface Name: default\n"
    assert hostnode_iscsi.parse_tree(ipv6)[0]["portal"] == "[2001:db8::1]:3260"


@pytest.mark.parametrize(
    ("parser", "text", "message"),
    [
        (hostnode_iscsi.parse_tree, "\tPortal: 192.0.2.1:3260,1\n", "line 1: a portal outside"),
        (hostnode_iscsi.parse_tree, "Target: t\nsomething else\n", "line 2: not part of"),
        (hostnode_iscsi.parse_session_tree, "\tCurrent Portal: x\n", "line 1: a session before"),
        (hostnode_iscsi.parse_session_tree, "Target: t\n\tCurrent Portal: 1.2.3.4\n", "line 2"),
        (hostnode_iscsi.parse_ifaces, "default tcp,<empty>\n", "line 1: not 'name transport"),
        (hostnode_iscsi.parse_record, "# BEGIN RECORD\nnode.name: x\n", "line 2: not 'key"),
    ],
)
def test_bad_trees_name_the_line(parser, text, message):
    with pytest.raises(ValueError, match=message):
        parser(text)


def test_ifaces_and_records():
    ifaces = hostnode_iscsi.parse_ifaces(fixture_text("iscsiadm", "iface-two-bound.txt"))
    assert ifaces[0] == {
        "name": "ieth-a", "transport": "tcp", "hwaddress": None, "ipaddress": None,
        "netdev": "stor-a", "initiator": None,
    }  # fmt: skip
    record = hostnode_iscsi.parse_record(fixture_text("iscsiadm", "node-record-chap.txt"))
    assert record["node.name"] == TARGET and record["iface.net_ifacename"] == "stor-a"
    assert record["node.session.auth.password"] == "********"  # iscsiadm masks it when printing


def test_set_record_values_adds_the_chap_lines_open_iscsi_leaves_out():
    text = fixture_text("iscsiadm", "record-file-discovered.txt")
    chap = hostnode_iscsi.chap_values({"username": "hostnode", "password": SECRET}, "chap")
    updated = hostnode_iscsi.set_record_values(text, chap)
    lines = updated.splitlines()
    at = lines.index("node.session.auth.authmethod = CHAP")
    assert lines[at + 1 : at + 4] == [
        "node.session.auth.chap_algs = MD5",
        "node.session.auth.username = hostnode",
        f"node.session.auth.password = {SECRET}",
    ]
    assert len(lines) == len(text.splitlines()) + 2 and lines[-1] == "# END RECORD"
    assert hostnode_iscsi.set_record_values(updated, chap) == updated


@pytest.mark.parametrize(
    ("chap", "message"),
    [
        ({"username": "u"}, "need username and password"),
        ({"username": "u", "password": "p", "user": "x"}, "unknown CHAP key"),
        ({"username": "u", "password": "p", "username_in": "v"}, "needs both"),
        ({"username": "u", "password": "two words"}, r"chap:password: must be text"),
    ],
)
def test_bad_chap_names_the_field_not_the_secret(chap, message):
    with pytest.raises(ValueError, match=message) as caught:
        hostnode_iscsi.chap_values(chap, "chap")
    assert "two words" not in str(caught.value)


class FakeIscsiadm(CommandTable):
    """A CommandTable whose `-m node -o new` writes the record file iscsiadm would write."""

    def __init__(self, nodes, answers):
        super().__init__(answers)
        self.nodes = nodes
        self.sys_block, self.map_in = None, None

    def __call__(self, argv, python_shell=False, stdin=None, **options):
        if argv[-1] == "--logout" and self.sys_block:  # the disks leave their map, and the
            for holders in self.sys_block.glob("*/holders/*"):  # map takes them back 3 reads
                holders.rmdir()  # of the session tree later
            self.map_in = 3
        if argv[:3] == ["iscsiadm", "-m", "session"] and self.map_in is not None:
            self.map_in -= 1
            if self.map_in == 0:
                for holders in self.sys_block.glob("*/holders"):
                    (holders / "dm-0").mkdir()
                self.map_in = None
        if argv[:4] == ["iscsiadm", "-m", "node", "-o"] and argv[4] == "new":
            host_port, tpgt = argv[8].rsplit(",", 1)
            address, port = host_port.rsplit(":", 1)
            folder = self.nodes / argv[6] / f"{address.strip('[]')},{port},{tpgt}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / argv[10]).write_text(fixture_text("iscsiadm", "record-file-discovered.txt"))
        return super().__call__(argv, python_shell, stdin, **options)


@pytest.fixture
def node_db(tmp_path, monkeypatch):
    nodes = tmp_path / "nodes"
    monkeypatch.setattr(iscsi, "NODE_DBS", (str(nodes),))
    return nodes


def discovery(portal, iface):
    return ("iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", portal, "-I", iface,
            "-o", "nonpersistent")  # fmt: skip


@pytest.fixture
def iscsiadm(node_db):
    offered = (
        fixture_text("iscsiadm", "discovery-sendtargets-two-portals.txt")
        .replace("127.0.0.1", "192.0.2.1")
        .replace("127.0.0.2", "198.51.100.1")
    )
    return FakeIscsiadm(
        node_db,
        {
            ("iscsiadm", "-m", "iface"): (0, "default tcp,<empty>,<empty>,<empty>,<empty>\n", ""),
            ("iscsiadm", "-m", "session", "-P", "3"): NO_SESSIONS,
            discovery("192.0.2.1:3260", "ieth-a"): (0, offered, ""),
            discovery("198.51.100.1:3260", "ieth-b"): (0, offered, ""),
        },
    )


@pytest.fixture
def configure_loader_modules(iscsiadm, config_root, monkeypatch):
    monkeypatch.setattr(iscsi.salt.utils.path, "which", lambda name: f"/usr/sbin/{name}")
    dunders = salt_dunders(iscsiadm, config_root)
    dunders["__pillar__"] = {"storage": {"chap": {"username": "hostnode", "password": SECRET}}}
    return {iscsi: dunders}


def node(portal, iface, *rest):
    return ["iscsiadm", "-m", "node", "-T", TARGET, "-p", portal, "-I", iface, *rest]


SETTINGS = {
    "node.startup": "automatic",
    "node.conn[0].startup": "automatic",
    "node.conn[0].timeo.login_timeout": "10",
    "node.session.initial_login_retry_max": "1",
}


def test_test_mode_predicts_the_changes_and_runs_nothing_that_writes(iscsiadm, node_db):
    predicted = iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap", test=True)
    assert list(predicted) == ["192.0.2.1:3260 via ieth-a", "198.51.100.1:3260 via ieth-b"]
    first = predicted["192.0.2.1:3260 via ieth-a"]
    assert first["iface_netdev"] == {"old": None, "new": "stor-a"}
    assert first["record"] == "created" and first["chap"] == "credentials set"
    assert first["settings"]["node.startup"] == {"old": None, "new": "automatic"}
    assert first["session"] == "logged in"
    assert [argv[:4] for argv in iscsiadm.argvs()] == [
        ["iscsiadm", "-m", "iface"],
        ["iscsiadm", "-m", "session", "-P"],
    ]
    assert not node_db.exists()
    assert SECRET not in repr(predicted)


def test_login_runs_exactly_the_plan_and_keeps_the_secret_off_argv(iscsiadm, node_db):
    predicted = iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap", test=True)
    assert iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap") == predicted
    argvs = iscsiadm.argvs()[4:]  # after iface, session (test run) and iface, session again
    assert argvs[:5] == [
        ["iscsiadm", "-m", "iface", "-I", "ieth-a", "-o", "new"],
        ["iscsiadm", "-m", "iface", "-I", "ieth-a", "-o", "update",
         "-n", "iface.net_ifacename", "-v", "stor-a"],
        list(discovery("192.0.2.1:3260", "ieth-a")),
        ["iscsiadm", "-m", "node", "-o", "new", "-T", TARGET, "-p", "192.0.2.1:3260,1",
         "-I", "ieth-a"],
        node("192.0.2.1:3260", "ieth-a", "-o", "update", "-n", "node.startup", "-v", "automatic"),
    ]  # fmt: skip
    assert argvs[8] == node("192.0.2.1:3260", "ieth-a", "--login")
    assert all(SECRET not in " ".join(argv) for argv in iscsiadm.argvs())
    record = node_db / TARGET / "192.0.2.1,3260,1" / "ieth-a"
    values = hostnode_iscsi.parse_record(record.read_text())
    assert values["node.session.auth.password"] == SECRET
    assert stat.S_IMODE(record.stat().st_mode) == 0o600


def test_a_portal_that_fails_fails_alone(iscsiadm):
    iscsiadm.answers[tuple(node("198.51.100.1:3260", "ieth-b", "--login"))] = (
        8, "", "iscsiadm: initiator reported error (8 - connection timed out)\n",
    )  # fmt: skip
    with pytest.raises(CommandExecutionError) as caught:
        iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap")
    assert "1 portal(s) failed: 198.51.100.1:3260 via ieth-b" in str(caught.value)
    assert "connection timed out" in str(caught.value)
    done = caught.value.info
    assert done["192.0.2.1:3260 via ieth-a"]["session"] == "logged in"
    half = done["198.51.100.1:3260 via ieth-b"]  # what was made before its login failed
    assert half["record"] == "created" and half["chap"] == "credentials set"
    assert "session" not in half


def test_nothing_to_do_when_records_match_and_sessions_are_open(iscsiadm, node_db):
    iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap")
    for record in node_db.glob("*/*/*"):
        text = record.read_text()
        record.write_text(hostnode_iscsi.set_record_values(text, SETTINGS))
    iscsiadm.answers[("iscsiadm", "-m", "session", "-P", "3")] = (
        0, fixture_text("iscsiadm", "session-P3.txt"), "",
    )  # fmt: skip
    iscsiadm.answers[("iscsiadm", "-m", "iface")] = (
        0, fixture_text("iscsiadm", "iface-two-bound.txt"), "",
    )  # fmt: skip
    before = len(iscsiadm.calls)
    assert iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap") == {}
    assert [argv[:3] for argv in iscsiadm.argvs()[before:]] == [
        ["iscsiadm", "-m", "iface"],
        ["iscsiadm", "-m", "session"],
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: iscsi.login("not-an-iqn", PORTALS), "target: 'not-an-iqn' is not an iSCSI"),
        (lambda: iscsi.login(TARGET, []), "portals: must be a non-empty list"),
        (lambda: iscsi.login(TARGET, ["san.example"]), "portals:0:portal:"),
        (lambda: iscsi.login(TARGET, [{"portal": "192.0.2.1", "iface": "ieth-x"}]),
         "portals:0:iface: no iscsiadm iface 'ieth-x'"),
        (lambda: iscsi.login(TARGET, ["192.0.2.1", "192.0.2.1:3260"]), "portals:1: .* twice"),
        (lambda: iscsi.login(TARGET, [{"portal": "192.0.2.1", "tpgt": -1}]), "portals:0:tpgt"),
        (lambda: iscsi.login(TARGET, PORTALS, startup="always"), "startup: 'always'"),
        (lambda: iscsi.login(TARGET, PORTALS, login_timeout=0), "login_timeout: 0"),
        (lambda: iscsi.login(TARGET, PORTALS, chap_pillar="storage:none"), "chap_pillar: pillar"),
        (lambda: iscsi.login(TARGET, PORTALS, settings={"node.session.auth.password": "x"}),
         "settings: CHAP comes from chap_pillar"),
    ],
)  # fmt: skip
def test_bad_input_changes_nothing(iscsiadm, call, message):
    with pytest.raises(SaltInvocationError, match=message):
        call()
    assert all(argv[2] in ("iface", "session") for argv in iscsiadm.argvs())


def test_logout_logs_out_and_deletes_the_records(iscsiadm):
    iscsiadm.answers[("iscsiadm", "-m", "session", "-P", "3")] = (
        0, fixture_text("iscsiadm", "session-P3.txt"), "",
    )  # fmt: skip
    iscsiadm.answers[("iscsiadm", "-m", "node", "-P", "1")] = (
        0, fixture_text("iscsiadm", "node-P1.txt"), "",
    )  # fmt: skip
    predicted = iscsi.logout(TARGET, ["192.0.2.1"], test=True)
    assert predicted == {
        "192.0.2.1:3260 via ieth-a": {"session": "logged out", "record": "deleted"},
        "192.0.2.1:3260 via ieth-b": {"record": "deleted"},
    }
    assert iscsi.logout(TARGET, ["192.0.2.1"]) == predicted
    assert iscsiadm.argvs()[-3:] == [
        node("192.0.2.1:3260", "ieth-a", "--logout"),
        node("192.0.2.1:3260", "ieth-a", "-o", "delete"),
        node("192.0.2.1:3260", "ieth-b", "-o", "delete"),
    ]


def test_unknown_timeouts_and_unavailable_devices_read_as_unknown():
    text = fixture_text("iscsiadm", "session-P3.txt").replace(
        "Target Reset Timeout: 30", "Target Reset Timeout: <empty>"
    )
    text = text.replace("\t\tHost Number: 6\tState: running\n", "\t\tUnavailable\n")
    text = text.replace("\t\tscsi6 Channel 00 Id 0 Lun: 0\n\t\t\tAttached scsi disk sda\t\t"
                        "State: running\n", "")  # fmt: skip
    first, second = hostnode_iscsi.parse_session_tree(text)
    assert first["timeouts"]["target_reset"] is None and first["devices"] == []
    assert second["devices"][0]["device"] == "sdb"


# --- Re-login: a changed NIC, setting or CHAP credential reaches the open session ----------

MOVED = [{**PORTALS[0], "netdev": "stor-c"}, PORTALS[1]]
SESSIONS = ("iscsiadm", "-m", "session", "-P", "3")


def tree(netdev_a="stor-a", disk_a="sda", disk_b="sdb", sids=(1, 2)):
    """
    The captured -P 3 tree, with ieth-a's session leaving by netdev_a with disk disk_a, ieth-b's
    with disk_b, and the session ids sids (a session logged in again has a new one).
    """
    text = fixture_text("iscsiadm", "session-P3.txt")
    for old, new in (
        ("Iface Netdev: stor-a", f"Iface Netdev: {netdev_a}"),
        ("scsi disk sda", f"scsi disk {disk_a}"),
        ("scsi disk sdb", f"scsi disk {disk_b}"),
        ("SID: 1\n", f"SID: {sids[0]}\n"),
        ("SID: 2\n", f"SID: {sids[1]}\n"),
    ):
        text = text.replace(old, new)
    return (0, text, "")


@pytest.fixture
def logged_in(iscsiadm, node_db, tmp_path, monkeypatch):
    """Both portals logged in through ieth-a (stor-a) and ieth-b, their disks in one map."""
    iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap")
    for record in node_db.glob("*/*/*"):
        record.write_text(hostnode_iscsi.set_record_values(record.read_text(), SETTINGS))
    iscsiadm.answers[SESSIONS] = tree()
    iscsiadm.answers[("iscsiadm", "-m", "iface")] = (
        0, fixture_text("iscsiadm", "iface-two-bound.txt"), "",
    )  # fmt: skip
    sys_block = tmp_path / "sys-block"
    for disk in ("sda", "sdb", "sdc"):
        (sys_block / disk / "holders" / "dm-0").mkdir(parents=True)
    monkeypatch.setattr(iscsi, "SYS_BLOCK", str(sys_block), raising=False)  # new in the fix
    iscsiadm.sys_block = sys_block
    monkeypatch.setattr(iscsi.time, "sleep", lambda seconds: None)
    iscsiadm.calls.clear()
    return iscsiadm


def writes(iscsiadm):
    """The argvs of a run but for the reads (iface, session)."""
    return [argv for argv in iscsiadm.argvs() if argv[2] not in ("iface", "session")
            or "-o" in argv]  # fmt: skip


def test_a_new_nic_re_logs_in_that_portal_and_waits_until_it_is_back(logged_in):
    logged_in.answers[SESSIONS] = [tree(), tree(), tree(), tree("stor-c", "sdc", sids=(3, 2))]
    predicted = iscsi.login(TARGET, MOVED, chap_pillar="storage:chap", test=True)
    assert predicted == {
        "192.0.2.1:3260 via ieth-a": {
            "iface_netdev": {"old": "stor-a", "new": "stor-c"},
            "session": "re-logged in",
        }
    }
    assert writes(logged_in) == []
    assert iscsi.login(TARGET, MOVED, chap_pillar="storage:chap") == predicted
    assert writes(logged_in) == [
        ["iscsiadm", "-m", "iface", "-I", "ieth-a", "-o", "update",
         "-n", "iface.net_ifacename", "-v", "stor-c"],
        node("192.0.2.1:3260", "ieth-a", "--logout"),
        node("192.0.2.1:3260", "ieth-a", "--login"),
    ]  # fmt: skip
    # after the login, the session tree was read until ieth-a was back by stor-c with its disk,
    # and that disk in the map again
    assert (
        logged_in.argvs()[-4:]
        == [node("192.0.2.1:3260", "ieth-a", "--login")] + [list(SESSIONS)] * 3
    )


def test_a_changed_setting_or_chap_re_logs_in_one_portal_after_the_other(logged_in, node_db):
    logged_in.answers[SESSIONS] = [tree(), tree("stor-a", "sdc", sids=(3, 2)),
                                   tree("stor-a", "sdc", "sdd", sids=(3, 4))]  # fmt: skip
    (node_db.parent / "sys-block" / "sdd" / "holders" / "dm-0").mkdir(parents=True)
    pillar = iscsi.__pillar__["storage"]["chap"]
    pillar["password"] = SECRET + "-new"
    changes = iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap",
                          settings={"node.session.timeo.replacement_timeout": "15"})  # fmt: skip
    assert sorted(changes) == ["192.0.2.1:3260 via ieth-a", "198.51.100.1:3260 via ieth-b"]
    first = changes["192.0.2.1:3260 via ieth-a"]
    assert first["chap"] == "credentials set" and first["session"] == "re-logged in"
    assert list(first["settings"]) == ["node.session.timeo.replacement_timeout"]
    steps = [argv[-1] for argv in logged_in.argvs() if argv[-1] in ("--login", "--logout")
             or argv[:3] == list(SESSIONS[:3])]  # fmt: skip
    # ieth-b is logged out only once ieth-a's new disk is running and back in the map
    back = ["--logout", "--login", "3", "3", "3"]
    assert steps == ["3", *back, *back]
    assert all(SECRET not in " ".join(argv) for argv in logged_in.argvs())
    assert SECRET not in repr(changes)


def test_a_boot_only_setting_changes_the_record_and_leaves_the_session(logged_in):
    changes = iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap", startup="manual")
    assert changes["192.0.2.1:3260 via ieth-a"] == {
        "settings": {
            "node.startup": {"old": "automatic", "new": "manual"},
            "node.conn[0].startup": {"old": "automatic", "new": "manual"},
        }
    }
    assert not [argv for argv in logged_in.argvs() if argv[-1] in ("--login", "--logout")]


def test_a_session_not_back_in_time_fails_and_holds_back_the_next(logged_in, monkeypatch):
    no_disk = tree(sids=(3, 2))[1].replace("\t\t\tAttached scsi disk sda\t\tState: running\n", "")
    logged_in.answers[SESSIONS] = [tree(), (0, no_disk, "")]
    clock = iter(range(0, 1000, 20))
    monkeypatch.setattr(iscsi.time, "monotonic", lambda: next(clock))
    settings = {"node.session.timeo.replacement_timeout": "15"}
    with pytest.raises(CommandExecutionError) as caught:
        iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap", settings=settings)
    message = str(caught.value)
    assert (
        "2 portal(s) failed: 192.0.2.1:3260 via ieth-a: not back 50 s after its login: "
        "0 of 1 disk(s) running, 0 of 1 in a multipath map" in message
    )
    assert "198.51.100.1:3260 via ieth-b: not re-logged in: an earlier re-login" in message
    assert not [argv for argv in logged_in.argvs() if "ieth-b" in argv]  # untouched


def test_the_last_logged_in_session_is_never_logged_out(logged_in):
    logged_in.answers[SESSIONS] = (0, fixture_text("iscsiadm", "session-P3-one-failed.txt"), "")
    settings = {"node.session.timeo.replacement_timeout": "15"}
    for test in (True, False):
        with pytest.raises(CommandExecutionError) as caught:
            iscsi.login(TARGET, PORTALS, chap_pillar="storage:chap", settings=settings, test=test)
        assert (
            "1 portal(s) failed: 192.0.2.1:3260 via ieth-a: not re-logged in: it is the only "
            "logged-in session of the target; when its I/O may pause, run 'iscsiadm -m node -T "
            f"{TARGET} -p 192.0.2.1:3260 -I ieth-a --logout'" in str(caught.value)
        )
    assert not [argv for argv in logged_in.argvs() if "ieth-a" in argv]  # untouched


def test_relogin_goes_one_session_at_a_time(logged_in):
    logged_in.answers[SESSIONS] = [tree(), tree(), tree(), tree("stor-a", "sdc", "sdd", (3, 4))]
    (logged_in.nodes.parent / "sys-block" / "sdd" / "holders" / "dm-0").mkdir(parents=True)
    expected = {
        "192.0.2.1:3260 via ieth-a": {"session": "re-logged in"},
        "198.51.100.1:3260 via ieth-b": {"session": "re-logged in"},
    }
    assert iscsi.relogin(TARGET, test=True) == expected
    assert writes(logged_in) == []
    assert iscsi.relogin(TARGET) == expected
    assert writes(logged_in) == [
        node("192.0.2.1:3260", "ieth-a", "--logout"),
        node("192.0.2.1:3260", "ieth-a", "--login"),
        node("198.51.100.1:3260", "ieth-b", "--logout"),
        node("198.51.100.1:3260", "ieth-b", "--login"),
    ]
    assert iscsi.relogin(TARGET, ["198.51.100.1"], test=True) == {
        "198.51.100.1:3260 via ieth-b": {"session": "re-logged in"}
    }
