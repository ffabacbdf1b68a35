"""
A node's maintenance: the pillar checked field by field, Ceph's answers captured from the real
cluster of tests/ceph_cluster.py (tests/fixtures/ceph/README.md) judged as the gates judge them,
and the exact commands of each step, under test=True and in a real run (which reads first).
"""

import re

import pytest

from saltext.hostnode.utils import ceph as hostnode_ceph
from saltext.hostnode.utils import drbd as hostnode_drbd
from saltext.hostnode.utils import maintenance as hostnode_maintenance
from saltext.hostnode.utils import verify_disks as hostnode_verify_disks
from support import CommandTable, fixture_text, load_module, salt_dunders

NODE = "hv2.ams1.example.net"
NODE_STATE = ("gnt-node", "list", "--no-headers", "--separator=|", "-o", "name,drained,pinst_cnt",
              NODE)  # fmt: skip
HEALTH = ("ceph", "health", "--format", "json")
OK_TO_STOP_0 = ("ceph", "osd", "ok-to-stop", "0", "-f", "json")


def ceph_answer(name):
    """(retcode, stdout, stderr) of a captured ceph command (its .exit file, when it has one)."""
    stdout = fixture_text("ceph", name)
    try:
        retcode, stderr = fixture_text("ceph", f"{name}.exit").split("\n", 1)
    except FileNotFoundError:
        return 0, stdout, ""
    return int(retcode), stdout, stderr


def as_printed(tool, case):
    """A fixture of tests/fixtures/{drbd,hcheck} without its first line (naming its source)."""
    return fixture_text(tool, case).split("\n", 1)[1]


def test_settings_defaults_and_each_refusal_names_its_field():
    assert hostnode_maintenance.settings({"targets": ["HV2.ams1.example.net."]}) == {
        **hostnode_maintenance.DEFAULTS, "targets": [NODE]
    }  # fmt: skip
    refusals = {
        "hostnode_maintenance: expected a mapping": None,
        "hostnode_maintenance:targets: a non-empty list": {"targets": []},
        "hostnode_maintenance:targets:1: 'hv3' is not a fully": {"targets": [NODE, "hv3"]},
        "hostnode_maintenance:targets: a node is named twice": {"targets": [NODE, NODE]},
        "hostnode_maintenance:reboots: unknown key": {"targets": [NODE], "reboots": True},
        "hostnode_maintenance:reboot: true or false": {"targets": [NODE], "reboot": "yes"},
        "hostnode_maintenance:start_timeout: a number of seconds": {"targets": [NODE],
                                                                    "start_timeout": 0},
        "hostnode_maintenance:payload:0: one of sls or function": {"targets": [NODE],
                                                                   "payload": ["pkg.upgrade"]},
        "hostnode_maintenance:payload:1:function: module.function": {
            "targets": [NODE], "payload": [{"sls": "node"}, {"function": "reboot"}]},
        "hostnode_maintenance:payload:0:sls: one SLS name and nothing else": {
            "targets": [NODE], "payload": [{"sls": "node", "arg": []}]},
        "hostnode_maintenance:ceph_allowed_warnings: a list of Ceph health check codes": {
            "targets": [NODE], "ceph_allowed_warnings": ["noout"]},
    }  # fmt: skip
    for message, value in refusals.items():
        with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
            hostnode_maintenance.settings(value)


def test_ganeti_role_of_a_member_none_outside_and_the_master_refused():
    cluster = {"master": "hv1.ams1.example.net", "nodes": [NODE, "hv3.ams1.example.net"]}
    assert hostnode_maintenance.ganeti_role(NODE, cluster) == {
        "master": "hv1.ams1.example.net",
        "nodes": ["hv1.ams1.example.net", NODE, "hv3.ams1.example.net"],
    }
    assert hostnode_maintenance.ganeti_role("stor1.ams1.example.net", cluster) is None
    assert hostnode_maintenance.ganeti_role(NODE, {}) is None
    with pytest.raises(ValueError, match=r"hv1\.ams1\.example\.net is its Ganeti cluster's master"):
        hostnode_maintenance.ganeti_role("hv1.ams1.example.net", cluster)


def test_health_of_the_real_cluster_and_what_pillar_allows():
    parse = hostnode_maintenance.parse_health
    assert parse(fixture_text("ceph", "health-ok.json")) == {"status": "HEALTH_OK", "checks": {}}
    assert parse(fixture_text("ceph", "status-ok.json")) == {"status": "HEALTH_OK", "checks": {}}
    noout = parse(fixture_text("ceph", "health-noout.json"))
    assert noout["status"] == "HEALTH_WARN" and list(noout["checks"]) == ["OSD_FLAGS"]
    assert hostnode_maintenance.health_problems(noout, []) == [
        "ceph HEALTH_WARN: OSD_FLAGS: 1 OSDs or CRUSH {nodes, device-classes} have "
        "{NOUP,NODOWN,NOIN,NOOUT} flags set"
    ]
    assert hostnode_maintenance.health_problems(noout, ["OSD_FLAGS"]) == []
    down = parse(fixture_text("ceph", "health-noout-osd-down.json"))
    assert hostnode_maintenance.health_problems(down, ["OSD_FLAGS"]) == [
        "ceph HEALTH_WARN: OSD_DOWN: 1 osds down"
    ]
    with pytest.raises(ValueError, match="ceph health: no status"):
        parse("{}")


def test_osds_not_back_while_one_is_down_under_noout():
    tree = hostnode_ceph.parse_osd_tree(fixture_text("ceph", "osd-tree-noout-osd-down.json"))
    assert hostnode_maintenance.osds_not_back(tree, [0, 1, 7]) == [
        "osd.0 is down and in",
        "osd.7 is not in the cluster's OSD tree",
    ]
    healthy = hostnode_ceph.parse_osd_tree(fixture_text("ceph", "osd-tree-healthy.json"))
    assert hostnode_maintenance.osds_not_back(healthy, [0, 1, 2]) == []


def test_verify_disks_is_judged_by_its_one_parser():
    parse = hostnode_maintenance.parse_verify_disks

    def captured(case):  # without the fixture's first line, which says where it came from
        return fixture_text("ganeti", case).split("\n", 1)[1]

    assert parse(captured("verify-disks-healthy-3.0.txt")) == {"clean": True, "problems": []}
    activated = parse(captured("verify-disks-activate-3.0.txt"))
    assert activated["clean"] is False
    assert activated["problems"] == hostnode_verify_disks.problems(
        hostnode_verify_disks.parse(captured("verify-disks-activate-3.0.txt"))
    )


def test_node_state_and_the_ganeti_commands():
    text = f"{NODE}|N|2\n"
    state = hostnode_maintenance.parse_node_state(text, NODE)
    assert state == {"drained": False, "primaries": 2}
    assert hostnode_maintenance.drain_commands(NODE, state) == [
        ["gnt-node", "modify", "--drained=yes", "--auto-promote", NODE],
        ["gnt-node", "migrate", "-f", NODE],
    ]
    assert hostnode_maintenance.drain_commands(NODE, {"drained": True, "primaries": 0}) == []
    assert hostnode_maintenance.undrain_commands(NODE, {"drained": True}) == [
        ["gnt-cluster", "verify-disks"],
        ["gnt-node", "modify", "--drained=no", NODE],
    ]
    with pytest.raises(ValueError, match=r"hv3\.ams1\.example\.net is not a node"):
        hostnode_maintenance.parse_node_state(text, "hv3.ams1.example.net")
    assert hostnode_maintenance.noout_command([0, 3], on=True) == [
        "ceph", "osd", "add-noout", "osd.0", "osd.3"
    ]  # fmt: skip


@pytest.fixture
def maintenance(monkeypatch, tmp_path):
    module = load_module("modules", "maintenance")
    table = CommandTable()
    monkeypatch.setattr(module.salt.utils.path, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(module, "POLL", 0)
    for name, value in salt_dunders(table, tmp_path).items():
        monkeypatch.setattr(module, name, value, raising=False)
    return module, table


def test_the_osds_of_a_node_from_their_data_directories(maintenance, tmp_path):
    module, _ = maintenance
    assert module.osds() == []
    for cluster, osd_id in (("ceph", 3), ("ceph", 0)):
        folder = tmp_path / f"var/lib/ceph/osd/{cluster}-{osd_id}"
        folder.mkdir(parents=True)
        (folder / "whoami").write_text(f"{osd_id}\n")
    assert module.osds() == [0, 3]
    (tmp_path / "var/lib/ceph/osd/ceph-0/whoami").write_text("zero\n")
    with pytest.raises(module.CommandExecutionError, match="whoami: 'zero' is not an OSD id"):
        module.osds()


def test_the_ceph_gate_refuses_what_would_leave_pgs_inactive(maintenance):
    module, table = maintenance
    table.answers.update({HEALTH: ceph_answer("health-ok.json"),
                          OK_TO_STOP_0: ceph_answer("ok-to-stop-0-min-size-2.json")})  # fmt: skip
    with pytest.raises(module.CommandExecutionError) as refused:
        module.ceph_gate([0])
    assert str(refused.value) == (
        "the Ceph gate refused: ceph osd ok-to-stop 0: Error EBUSY: unsafe to stop osd(s) at "
        "this time (8 PGs are or would become offline); nothing moved"
    )
    table.answers[OK_TO_STOP_0] = ceph_answer("ok-to-stop-0-min-size-1.json")
    assert module.ceph_gate([0]) == {
        "checked": ["ceph health --format json", "ceph osd ok-to-stop 0 -f json"]
    }
    assert table.argvs() == [list(HEALTH), list(OK_TO_STOP_0)] * 2


def test_the_ceph_gate_asks_again_while_ceph_cannot_judge_yet(maintenance, monkeypatch):
    """EAGAIN (PGs in state unknown, as right after a pool's creation): asked again, and the
    gate refuses with Ceph's words only once UNKNOWN_PGS_WAIT has passed."""
    module, table = maintenance
    unknown, allowed = (ceph_answer(f"ok-to-stop-0-{name}.json")
                        for name in ("unknown-pgs", "min-size-1"))  # fmt: skip
    table.answers.update({HEALTH: ceph_answer("health-ok.json"), OK_TO_STOP_0: [unknown, allowed]})
    assert module.ceph_gate([0])["checked"][1] == "ceph osd ok-to-stop 0 -f json"
    assert table.argvs() == [list(HEALTH), list(OK_TO_STOP_0), list(OK_TO_STOP_0)]
    monkeypatch.setattr(module, "UNKNOWN_PGS_WAIT", 0)
    table.answers[OK_TO_STOP_0] = unknown
    with pytest.raises(module.CommandExecutionError) as refused:
        module.ceph_gate([0])
    assert str(refused.value) == (
        "the Ceph gate refused: ceph osd ok-to-stop 0: Error EAGAIN: 32 pgs have unknown state; "
        "cannot draw any conclusions; nothing moved"
    )


def test_test_mode_runs_nothing_and_lists_what_a_fresh_run_runs(maintenance):
    module, table = maintenance
    assert module.ganeti_drain(NODE, failover=True, test=True) == {
        "commands": [
            f"gnt-node modify --drained=yes --auto-promote {NODE}",
            f"gnt-node migrate -f {NODE}",
        ],
        "if_migration_fails": [f"gnt-node failover -f {NODE}"],
    }
    assert module.ganeti_return(NODE, test=True) == {
        "commands": ["gnt-cluster verify-disks", f"gnt-node modify --drained=no {NODE}"]
    }
    assert module.ceph_drain([0, 1], test=True) == {"commands": ["ceph osd add-noout osd.0 osd.1"]}
    assert module.ceph_return([0, 1], test=True) == {"commands": ["ceph osd rm-noout osd.0 osd.1"]}
    assert module.ganeti_gate(NODE, test=True) == {
        "checked": ["gnt-cluster verify-disks", "hcheck --machine-readable -L"]
    }
    assert table.calls == []


def test_a_real_drain_reads_first_and_resumes(maintenance):
    module, table = maintenance
    table.answers[NODE_STATE] = [(0, f"{NODE}|N|1\n", ""), (0, f"{NODE}|Y|0\n", "")]
    assert module.ganeti_drain(NODE) == {
        "commands": [
            f"gnt-node modify --drained=yes --auto-promote {NODE}",
            f"gnt-node migrate -f {NODE}",
        ]
    }
    table.calls.clear()
    table.answers[NODE_STATE] = (0, f"{NODE}|Y|0\n", "")
    assert module.ganeti_drain(NODE) == {}
    assert table.argvs() == [list(NODE_STATE)] * 2


def test_a_failed_migration_fails_over_only_when_allowed(maintenance):
    module, table = maintenance
    migrate = ("gnt-node", "migrate", "-f", NODE)
    table.answers[migrate] = (1, "", "Migration not possible")
    table.answers[NODE_STATE] = [(0, f"{NODE}|Y|1\n", ""), (0, f"{NODE}|Y|0\n", "")]
    assert module.ganeti_drain(NODE, failover=True) == {
        "commands": [f"gnt-node failover -f {NODE}"]
    }
    table.answers[NODE_STATE] = (0, f"{NODE}|N|1\n", "")
    with pytest.raises(module.CommandExecutionError, match="Migration not possible") as failed:
        module.ganeti_drain(NODE)
    assert failed.value.info == {
        "commands": [f"gnt-node modify --drained=yes --auto-promote {NODE}"]
    }


def test_the_return_waits_for_the_osds_then_unsets_noout(maintenance, monkeypatch):
    module, table = maintenance
    tree = ("ceph", "osd", "tree", "-f", "json")
    table.answers[tree] = [ceph_answer("osd-tree-noout-osd-down.json"),
                           ceph_answer("osd-tree-healthy.json")]  # fmt: skip
    assert module.ceph_return([0], timeout=60) == {"commands": ["ceph osd rm-noout osd.0"]}
    assert table.argvs() == [list(tree), list(tree), ["ceph", "osd", "rm-noout", "osd.0"]]
    table.calls.clear()
    table.answers[tree] = ceph_answer("osd-tree-noout-osd-down.json")
    with pytest.raises(module.CommandExecutionError, match=r"osd\.0 is down and in"):
        module.ceph_return([0], timeout=0)
    assert ["ceph", "osd", "rm-noout", "osd.0"] not in table.argvs()


def test_the_state_runs_one_step_and_names_a_bad_one(maintenance, monkeypatch):
    module, _ = maintenance
    state = load_module("states", "maintenance")
    functions = {f"maintenance.{name}": getattr(module, name)
                 for name in ("ganeti_drain", "ceph_drain")}  # fmt: skip
    monkeypatch.setattr(state, "__salt__", functions, raising=False)
    monkeypatch.setattr(state, "__opts__", {"test": True}, raising=False)
    settings = {"targets": [NODE]}
    ret = state.step(NODE, "ceph_drain", settings, osds=[2])
    assert (ret["result"], ret["changes"]) == (None, {"commands": ["ceph osd add-noout osd.2"]})
    ret = state.step(NODE, "drain", settings)
    assert ret["result"] is False and ret["comment"].startswith("step: 'drain' is not one of")
    ret = state.step(NODE, "ceph_drain", {"targets": NODE})
    assert ret["result"] is False
    assert ret["comment"].startswith("hostnode_maintenance:targets: a non-empty list")


def test_the_ganeti_gate_refuses_a_cluster_not_n1_happy(maintenance):
    """hcheck's real answer on Ganeti's n1-failure snapshot (tests/fixtures/hcheck)."""
    module, table = maintenance
    table.answers[("hcheck", "--machine-readable", "-L")] = (
        1, as_printed("hcheck", "n1-failure-machine.txt"), ""
    )  # fmt: skip
    with pytest.raises(module.CommandExecutionError) as refused:
        module.ganeti_gate(NODE)
    assert str(refused.value) == (
        f"the Ganeti gate of {NODE} refused: hcheck: 4 nodes not N+1 happy; nothing moved"
    )
    table.answers[("hcheck", "--machine-readable", "-L")] = (
        0, as_printed("hcheck", "common-suffix-machine.txt"), ""
    )  # fmt: skip
    table.answers[("gnt-cluster", "verify-disks")] = (1, "", "Cannot communicate with the master")
    with pytest.raises(module.CommandExecutionError, match="exited 1: Cannot communicate"):
        module.ganeti_gate(NODE)


def test_a_two_node_drbd_cluster_passes_though_no_node_is_directly_evacuable(maintenance):
    """hcheck on the live two-node cluster of the cluster lane: N+1 happy, evacuation (which
    also moves secondaries) impossible with two nodes; the drain migrates, so it may go on."""
    module, table = maintenance
    table.answers[("hcheck", "--machine-readable", "-L")] = (
        0, as_printed("hcheck", "two-node-drbd-machine.txt"), ""
    )  # fmt: skip
    table.answers[("gnt-cluster", "verify-disks")] = (0, "No disks need to be activated.\n", "")
    assert module.ganeti_gate(NODE) == {
        "checked": ["gnt-cluster verify-disks", "hcheck --machine-readable -L"]
    }


def test_the_drbd_gate_refuses_a_minor_not_up_to_date(maintenance):
    """A DRBD 9 minor Outdated and unconnected (tests/fixtures/drbd), as ganeti.health sees it."""
    module, _ = maintenance
    text = as_printed("drbd", "status-verbose-outdated-unconnected.txt")
    health = hostnode_drbd.health(hostnode_drbd.parse(text))
    looked = []
    module.__salt__["ganeti.health"] = lambda **kwargs: looked.append(kwargs) or health
    with pytest.raises(module.CommandExecutionError) as refused:
        module.drbd_synced(0)
    # DRBD alone: on the master, verify-disks is the Ganeti gate's, run after this one.
    assert looked == [{"verify_disks": False}]
    assert str(refused.value).startswith("DRBD UpToDate/UpToDate not reached after 0 s: drbd ")
    assert health["problems"] and all(p in str(refused.value) for p in health["problems"])


def test_the_return_repeats_verify_disks_until_the_node_answers_then_undrains(maintenance):
    module, table = maintenance
    table.answers[NODE_STATE] = (0, f"{NODE}|Y|0\n", "")
    table.answers[("gnt-cluster", "verify-disks")] = [
        (1, f"Error gathering data on node {NODE}: Error 7: Failed connect to {NODE}:1811\n", ""),
        (0, "Activating disks for instance 'web1'\n", ""),
    ]
    assert module.ganeti_return(NODE, timeout=60) == {
        "commands": ["gnt-cluster verify-disks", f"gnt-node modify --drained=no {NODE}"]
    }
    assert table.argvs() == [
        list(NODE_STATE),
        ["gnt-cluster", "verify-disks"],
        ["gnt-cluster", "verify-disks"],
        ["gnt-node", "modify", "--drained=no", NODE],
    ]
    table.calls.clear()
    table.answers[("gnt-cluster", "verify-disks")] = (1, "", "Cannot communicate")
    with pytest.raises(module.CommandExecutionError, match="verify-disks exiting 0 not reached"):
        module.ganeti_return(NODE, timeout=0)
    assert ["gnt-node", "modify", "--drained=no", NODE] not in table.argvs()
