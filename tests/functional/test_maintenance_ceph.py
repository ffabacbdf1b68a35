"""
The Ceph steps of a node's maintenance on the session's real cluster (``ceph_lab``,
tests/conftest.py), run as the orchestration runs them on the node: `state.apply
node.maintenance_step` with the step in pillar, through bin/hostnode-call. This module's two
OSDs get a CRUSH root of their own and a pool of size 2 on them alone (a CRUSH rule of that
root), and the other modules' pools never place a PG on them.

- the gate refuses while stopping the node's OSDs would leave PGs inactive (min_size 2), and
  passes at min_size 1;
- with the monitors' down-out interval shortened to 5 s (and no minimum share of OSDs in), a
  stopped OSD without noout is marked out (the control); the drain sets noout on the other,
  whose daemon is stopped as a restart does: it stays in; the daemon starts again;
- the return waits until it is up and in, unsets noout, and the cluster ends HEALTH_OK.
"""

import json
import pathlib
import time

import pytest

from support import REPO

HOST = "osdhost.maint.example.net"
# The module's OSDs sit under a CRUSH root of their own: the session's other pools (default
# root) never place a PG on them, so ok-to-stop judges this module's pool alone.
POOL, ROOT = "maint", "maint"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(ceph_lab, tmp_path_factory):
    """Two OSDs of this module's own, a pool of size 2 and min_size 2 on them alone."""
    lab = ceph_lab.lend(2)
    lab.home = tmp_path_factory.mktemp("maintenance-salt")
    (lab.home / "pillar").mkdir()
    (lab.home / "pillar/top.sls").write_text("base: {}\n")
    lab.ids = [lab.make_osd(device) for device in lab.devices]
    lab.run("ceph", "osd", "crush", "add-bucket", ROOT, "root")
    for osd_id in lab.ids:
        # kept there when the tests restart the daemon (by default it moves back to its host)
        lab.run("ceph", "config", "set", f"osd.{osd_id}", "osd_crush_update_on_start", "false")
        lab.run("ceph", "osd", "crush", "set", f"osd.{osd_id}", "0.01", f"root={ROOT}")
    lab.run("ceph", "osd", "crush", "rule", "create-replicated", POOL, ROOT, "osd")
    lab.run("ceph", "osd", "pool", "create", POOL, "8", "8", "replicated", POOL)
    for key, value in (("size", "2"), ("min_size", "2")):
        lab.run("ceph", "osd", "pool", "set", POOL, key, value, "--yes-i-really-mean-it")
    lab.run("ceph", "osd", "pool", "application", "enable", POOL, "rbd")
    lab.wait(lambda: lab.healthy(lab.ids) and clean(lab), 180, "HEALTH_OK, the pool clean")
    return lab


def clean(cluster):
    states = cluster.ceph("pg", "ls-by-pool", POOL)["pg_stats"]
    return bool(states) and all(pg["state"] == "active+clean" for pg in states)


def known(cluster):
    """No PG of the whole cluster in state unknown: while one is (another module's pool not yet
    reported by its OSDs to a busy mgr), ok-to-stop answers EAGAIN, "cannot draw any
    conclusions", whatever the OSDs asked about."""
    dump = cluster.ceph("pg", "dump", "pgs_brief")
    stats = dump["pg_stats"] if isinstance(dump, dict) else dump
    return not any("unknown" in pg["state"] for pg in stats)


def salt_env(cluster):
    return {"HOSTNODE_HOME": str(cluster.home / "salt"), "HOSTNODE_ID": HOST,
            "HOSTNODE_PILLAR": str(cluster.home / "pillar")}  # fmt: skip


def step(cluster, name, osds):
    """The state return of maintenance.step name for osds, as the orchestration runs it."""
    settings = {"targets": [HOST], "settle_timeout": 180}
    pillar = {"hostnode_maintenance_step": {"node": HOST, "step": name, "settings": settings,
                                            "osds": osds}}  # fmt: skip
    done = cluster.run(str(REPO / "bin/hostnode-call"), "--out=json", "state.apply",
                       "node.maintenance_step", f"pillar={json.dumps(pillar)}", check=False,
                       env=salt_env(cluster))  # fmt: skip
    (ret,) = json.loads(done.stdout)["local"].values()
    return ret


def stop_daemon(cluster, osd_id):
    """Kill ceph-osd -i osd_id of this cluster, as a node going down for a restart does."""
    for pid in cluster._pids("ceph-osd"):
        argv = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if argv[1:3] == [b"-i", str(osd_id).encode()]:
            cluster.run("kill", str(pid))


def test_the_node_s_osds_are_found_in_their_data_directories(cluster):
    """maintenance.osds reads what ceph-volume raw activate left (the lab's other modules'
    OSDs are on this host too)."""
    done = cluster.run(str(REPO / "bin/hostnode-call"), "--out=json", "maintenance.osds",
                       check=False, env=salt_env(cluster))  # fmt: skip
    found = json.loads(done.stdout)["local"]
    assert set(cluster.ids) <= set(found), found
    live = {osd["osd"] for osd in cluster.ceph("osd", "dump")["osds"]}
    assert set(found) <= live


def test_the_gate_refuses_what_would_leave_pgs_inactive(cluster):
    cluster.wait(lambda: known(cluster), 180, "every PG's state known")
    refused = step(cluster, "ceph_gate", cluster.ids)
    assert refused["result"] is False and refused["changes"] == {}
    ids = " ".join(map(str, cluster.ids))
    assert refused["comment"].startswith(f"the Ceph gate refused: ceph osd ok-to-stop {ids}: ")
    assert "PGs are or would become offline" in refused["comment"]
    assert refused["comment"].endswith("; nothing moved")
    one = step(cluster, "ceph_gate", cluster.ids[:1])
    assert one["result"] is False and "PGs are or would become offline" in one["comment"]


def osd_state(cluster, osd_id):
    (osd,) = [o for o in cluster.ceph("osd", "dump")["osds"] if o["osd"] == osd_id]
    return {"up": bool(osd["up"]), "in": bool(osd["in"]), "noout": "noout" in osd["state"]}


@pytest.fixture
def quick_out(cluster):
    """Monitors that mark a down OSD out after 5 s, whatever share of OSDs stays in."""
    for key, value in (("mon_osd_down_out_interval", "5"), ("mon_osd_min_in_ratio", "0")):
        cluster.run("ceph", "config", "set", "mon", key, value)
    yield
    for key in ("mon_osd_down_out_interval", "mon_osd_min_in_ratio"):
        cluster.run("ceph", "config", "rm", "mon", key)


def test_noout_holds_an_osd_in_through_a_restart_then_health_ok(cluster, quick_out):
    control, osd_id = cluster.ids[1], cluster.ids[0]
    cluster.run("ceph", "osd", "pool", "set", POOL, "min_size", "1")
    cluster.wait(lambda: clean(cluster), 60, "the pool clean at min_size 1")
    # without noout, a stopped OSD is marked out within seconds here
    stop_daemon(cluster, control)
    cluster.wait(lambda: not osd_state(cluster, control)["in"], 60, f"osd.{control} out")
    cluster.start_osd(control)
    cluster.run("ceph", "osd", "in", f"osd.{control}")
    cluster.wait(lambda: cluster.healthy(cluster.ids) and clean(cluster) and known(cluster), 180,
                 "HEALTH_OK again")  # fmt: skip

    gate = step(cluster, "ceph_gate", [osd_id])
    assert gate["result"] is True, gate["comment"]
    drained = step(cluster, "ceph_drain", [osd_id])
    assert drained["changes"] == {"commands": [f"ceph osd add-noout osd.{osd_id}"]}
    assert osd_state(cluster, osd_id)["noout"]
    stop_daemon(cluster, osd_id)
    cluster.wait(lambda: not osd_state(cluster, osd_id)["up"], 60, f"osd.{osd_id} down")
    time.sleep(20)  # four down-out intervals: the control was out by now
    assert osd_state(cluster, osd_id) == {"up": False, "in": True, "noout": True}
    cluster.start_osd(osd_id)
    back = step(cluster, "ceph_return", [osd_id])
    assert back["result"] is True, back["comment"]
    assert back["changes"] == {"commands": [f"ceph osd rm-noout osd.{osd_id}"]}
    assert osd_state(cluster, osd_id) == {"up": True, "in": True, "noout": False}
    healthy = step(cluster, "ceph_healthy", [osd_id])
    assert healthy["result"] is True, healthy["comment"]
    assert cluster.ceph("health")["status"] == "HEALTH_OK"
