"""
The maintenance orchestration (formulas/node/maintenance.sls) from the session's real master
over its fleet (conftest.py), under test=True: a batch of three nodes, hv2 of ams1's Ganeti
cluster (master hv1, with hv3: tests/conftest.py), stor1 of ams1 with two OSDs (their data
directories under its config root, as ceph-volume activate leaves them) and stor1 of fra1 with
neither. Each node's steps
come in order, one node after the other, each step listing what it would run on the minion
that would run it (the Ganeti master, the cluster's nodes, the node itself), and nothing runs.
A Ganeti master among the targets, or a bad pillar, refuses the whole run before any step.
"""

import json
import pathlib
import shutil

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HV1, HV2, HV3 = "hv1.ams1.example.net", "hv2.ams1.example.net", "hv3.ams1.example.net"
STOR1, FRA1_STOR1 = "stor1.ams1.example.net", "stor1.fra1.example.net"
BATCH = [HV2, STOR1, FRA1_STOR1]


@pytest.fixture(scope="module")
def osds(minions, salt_cli):
    """osd.0 and osd.3 on stor1.ams1: what ceph-volume activate writes in their directories."""
    (factory,) = [f for f in minions if f.id == STOR1]
    root = pathlib.Path(factory.config["hostnode"]["config_root"])
    for osd_id in (0, 3):
        folder = root / f"var/lib/ceph/osd/ceph-{osd_id}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "whoami").write_text(f"{osd_id}\n")
    return [0, 3]


@pytest.fixture
def orchestrate(master, salt_cli):
    cli = master.salt_run_cli(timeout=600)

    def run(settings):
        pillar = json.dumps({"hostnode_maintenance": settings})
        result = cli.run("state.orchestrate", "node.maintenance", f"pillar={pillar}", "test=True")
        assert isinstance(result.data, dict), result.stderr
        (steps,) = result.data["data"].values()
        return [steps[key] for key in sorted(steps, key=lambda k: steps[k]["__run_num__"])]

    return run


def step_changes(step):
    """{minion: changes of its maintenance.step} of a salt.state step."""
    return {minion: state["changes"]
            for minion, states in step["changes"]["ret"].items()
            for state in states.values()}  # fmt: skip


def test_three_nodes_each_step_in_order_and_nothing_runs(orchestrate, osds, hv3):
    steps = orchestrate({"targets": BATCH, "reboot": True, "failover": True})
    assert [s["__id__"] for s in steps] == [
        *(f"hostnode-maintenance-{step}-{HV2}" for step in (
            "gate-drbd", "gate-ganeti", "drain-ganeti", "payload-1", "reboot", "back",
            "return-ganeti", "return-drbd", "after-ganeti")),
        *(f"hostnode-maintenance-{step}-{STOR1}" for step in (
            "gate-ceph", "drain-ceph", "payload-1", "reboot", "back", "return-ceph",
            "after-ceph")),
        *(f"hostnode-maintenance-{step}-{FRA1_STOR1}" for step in ("payload-1", "reboot", "back")),
    ]  # fmt: skip
    assert all(s["result"] is None for s in steps), [s for s in steps if s["result"] is not None]
    by_id = {s["__id__"]: s for s in steps}

    def changes(step, node):
        return step_changes(by_id[f"hostnode-maintenance-{step}-{node}"])

    # the minions run on this machine: hcheck is checked where htools is installed
    htools = ["hcheck --machine-readable -L"] if shutil.which("hcheck") else []
    gate = {HV1: {"checked": ["gnt-cluster verify-disks", *htools]}}
    assert changes("gate-ganeti", HV2) == gate == changes("after-ganeti", HV2)
    drbd = {"checked": ["DRBD minors UpToDate on both sides (within 0 s)"]}
    assert changes("gate-drbd", HV2) == {HV1: drbd, HV2: drbd, HV3: drbd}
    resync = {"checked": ["DRBD minors UpToDate on both sides (within 1800 s)"]}
    assert changes("return-drbd", HV2) == {HV1: resync, HV2: resync, HV3: resync}
    assert changes("drain-ganeti", HV2) == {HV1: {
        "commands": [f"gnt-node modify --drained=yes --auto-promote {HV2}",
                     f"gnt-node migrate -f {HV2}"],
        "if_migration_fails": [f"gnt-node failover -f {HV2}"],
    }}  # fmt: skip
    assert changes("return-ganeti", HV2) == {
        HV1: {"commands": ["gnt-cluster verify-disks", f"gnt-node modify --drained=no {HV2}"]}
    }
    assert changes("gate-ceph", STOR1) == {STOR1: {
        "checked": ["ceph health --format json", "ceph osd ok-to-stop 0 3 -f json"]
    }}  # fmt: skip
    assert changes("drain-ceph", STOR1) == {STOR1: {"commands": ["ceph osd add-noout osd.0 osd.3"]}}
    assert changes("return-ceph", STOR1) == {STOR1: {"commands": ["ceph osd rm-noout osd.0 osd.3"]}}
    for node in BATCH:  # the default payload, then the reboot, in a minute
        payload = by_id[f"hostnode-maintenance-payload-1-{node}"]["comment"]
        assert payload == f"Function pkg.upgrade would be executed on target {node}"
        reboot = by_id[f"hostnode-maintenance-reboot-{node}"]["comment"]
        assert reboot == f"Function system.reboot would be executed on target {node}"
    back = by_id[f"hostnode-maintenance-back-{FRA1_STOR1}"]
    assert back["comment"] == f"Orchestration would wait for event 'salt/minion/{FRA1_STOR1}/start'"


def test_a_ganeti_master_or_a_bad_pillar_refuses_the_run(orchestrate):
    (refused,) = orchestrate({"targets": [HV2, HV1]})
    assert refused["result"] is False
    assert f"{HV1} is its Ganeti cluster's master" in refused["name"], refused
    (refused,) = orchestrate({"targets": [HV2], "payload": "pkg.upgrade"})
    assert "hostnode_maintenance:payload: a non-empty list" in refused["name"], refused
    (refused,) = orchestrate({"target": [HV2]})
    assert refused["name"] == "hostnode_maintenance:targets: a list of minion ids, got None"


def test_a_payload_restarting_the_minion_itself_is_waited_for(orchestrate):
    payload = [{"sls": "node.time"}, {"function": "service.restart", "arg": ["salt-minion"]}]
    steps = orchestrate({"targets": [FRA1_STOR1], "payload": payload, "wait_start": True})
    assert [s["__id__"] for s in steps] == [
        f"hostnode-maintenance-{step}-{FRA1_STOR1}" for step in ("payload-1", "payload-2", "back")
    ]
    assert steps[0]["changes"]["ret"][FRA1_STOR1], "the SLS ran with test=True on the node"
    assert all(s["result"] is not False for s in steps), steps
