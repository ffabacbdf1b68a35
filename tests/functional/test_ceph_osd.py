"""
ceph_osd on a real one-host cluster (tests/ceph_cluster.py: Debian's ceph-mon, ceph-mgr and
ceph-osd, loop devices, its own mount namespace), driven as a user drives it: `state.apply
ceph_osd` with this host's devices in pillar, through bin/hostnode-call. Seven devices of the
session's cluster (``ceph_lab``, tests/conftest.py) are this module's own, and only the OSDs on
them count (other modules may have OSDs in the cluster): three OSDs created (raw method: no
device-mapper on this host), HEALTH_OK and a rados round trip, a second run without changes,
test=True predicting the exact commands, three devices refused and left byte for byte as they
were, a fourth OSD under a second CRUSH host that this host refuses to retire or remove,
clean leaving every OSD alone, purge_host taking exactly the named host's OSDs, and one OSD
retired (drained, purged) while the cluster keeps its data.
"""

import hashlib
import json
import pathlib
import socket
import threading

import pytest

from support import REPO

HOST = "osdhost.lab.example.net"
DEVICES, RETIRE = "hostnode-ceph-osd-devices", "hostnode-ceph-osd-retire"

pytestmark = pytest.mark.slow


def checksum(device):
    """SHA-256 of the whole device, read from the host (loop devices are host-wide)."""
    digest = hashlib.sha256()
    with open(device, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def cluster(ceph_lab, tmp_path_factory):
    """This module's share of the session's cluster: seven devices, its own Salt home and pillar."""
    lab = ceph_lab.lend(7)
    lab.home = tmp_path_factory.mktemp("ceph-salt")
    pillar = lab.home / "pillar"
    pillar.mkdir()
    (pillar / "top.sls").write_text("base:\n  '*':\n    - ceph_osd\n")
    settings = {"hostnode": {"ceph_osd": {"expected_fsid": lab.fsid, "method": "raw"}}}
    (pillar / "ceph_osd.sls").write_text(json.dumps(settings))
    return lab


def salt_env(cluster):
    return {"HOSTNODE_HOME": str(cluster.home / "salt"), "HOSTNODE_ID": HOST,
            "HOSTNODE_PILLAR": str(cluster.home / "pillar")}  # fmt: skip


def call(cluster, *args):
    """What bin/hostnode-call printed under "local"."""
    done = cluster.run(str(REPO / "bin/hostnode-call"), "--out=json", *args, check=False,
                       env=salt_env(cluster))  # fmt: skip
    return json.loads(done.stdout)["local"]


def listed(cluster):
    """This cluster's OSDs on this module's devices (ceph_osd.list shows all the host has)."""
    ours = set(cluster.devices)
    return [osd for osd in call(cluster, "ceph_osd.list")
            if osd["cluster_fsid"] == cluster.fsid and set(osd["devices"]) <= ours]  # fmt: skip


def apply(cluster, devices, *extra, retire=(), sls="ceph_osd", more=None):
    """state.apply sls with this host's devices and OSDs to retire (and more) in pillar."""
    host = {"devices": devices, "retire": list(retire), **(more or {}).get("host", {})}
    pillar = {"hostnode": {"ceph_osd": {"hosts": {HOST: host}}, **(more or {}).get("top", {})}}
    returns = call(cluster, "state.apply", sls, f"pillar={json.dumps(pillar)}", *extra)
    return {key.split("_|-")[1]: value for key, value in returns.items()}


@pytest.fixture(scope="module")
def created(cluster):
    devices = cluster.devices[:3]
    predicted = apply(cluster, devices, "test=True")[DEVICES]
    applied = apply(cluster, devices)[DEVICES]
    ids = [applied["changes"].get(device, {}).get("osd_id") for device in devices]
    cluster.wait(lambda: cluster.healthy(ids), 180, "HEALTH_OK with the 3 new OSDs")
    cluster.run("ceph", "osd", "pool", "create", "data", "16")
    cluster.run("ceph", "osd", "pool", "application", "enable", "data", "rados")
    cluster.run("rados", "-p", "data", "put", "object", "/etc/os-release")
    return {"devices": devices, "ids": ids, "predicted": predicted, "applied": applied,
            "again": apply(cluster, devices)[DEVICES]}  # fmt: skip


def test_present_creates_three_osds_as_test_mode_said(cluster, created):
    predicted, applied = created["predicted"], created["applied"]
    assert predicted["result"] is None and applied["result"] is True, applied["comment"]
    assert sorted(applied["changes"]) == sorted(created["devices"])
    for device, change in applied["changes"].items():
        assert change["commands"] == predicted["changes"][device]["commands"]
        assert change["commands"][0][:4] == ["ceph-volume", "raw", "prepare", "--bluestore"]
    ids = created["ids"]  # as test mode predicted them (its commands carry the ids)
    assert len(set(ids)) == 3
    assert cluster.osd_ids() == dict(zip(created["devices"], ids, strict=True))
    osds = listed(cluster)
    assert [(o["id"], o["method"], o["cluster_fsid"]) for o in osds] == [
        (n, "raw", cluster.fsid) for n in sorted(ids)
    ]


def test_the_cluster_is_healthy_and_keeps_an_object(cluster, created):
    cluster.wait(lambda: cluster.healthy(created["ids"]), 120, "HEALTH_OK with a pool")
    got = cluster.run("rados", "-p", "data", "get", "object", "-").stdout
    assert got == pathlib.Path("/etc/os-release").read_text()
    assert created["again"]["result"] is True and created["again"]["changes"] == {}


@pytest.mark.parametrize("kind", ["ext4", "gpt", "foreign OSD"])
def test_a_device_holding_something_is_refused_and_untouched(cluster, created, kind):
    device = cluster.devices[{"ext4": 3, "gpt": 4, "foreign OSD": 5}[kind]]
    if kind == "ext4":
        cluster.run("mkfs.ext4", "-q", "-F", device)
    elif kind == "gpt":
        cluster.run("sfdisk", "-q", device, stdin="label: gpt\n", check=False)
    else:
        cluster.make_foreign_osd(device)
    before = checksum(device)
    refused = apply(cluster, [*created["devices"], device])[DEVICES]
    assert refused["result"] is False and refused["changes"] == {}
    assert refused["comment"].startswith("refused, nothing written: " + device)
    reasons = {"ext4": "holds ext4", "gpt": "holds PMBR, gpt",
               "foreign OSD": "holds an OSD of another cluster"}  # fmt: skip
    assert reasons[kind] in refused["comment"]
    assert checksum(device) == before


def test_cephfs_rstats_of_a_real_filesystem(cluster, created):
    """An MDS, a CephFS on a pool pair, ceph-fuse, a few files: du in one call."""
    root = cluster.cephfs()
    tree = f"{root}/projects"
    script = (f"mkdir -p {tree}/a/b && head -c 100000 /dev/urandom > {tree}/a/one"
              f" && printf hello > {tree}/a/b/two && printf x > {tree}/three && sync")  # fmt: skip
    cluster.run("sh", "-c", script)
    # subdirs counts the directory itself; entries = files + subdirs
    expected = {"bytes": 100006, "files": 3, "subdirs": 3, "entries": 6}
    seen = {}

    def settled():
        seen.update(call(cluster, "cephfs.rstats", tree))
        return {key: seen.get(key) for key in expected} == expected

    try:
        cluster.wait(settled, 60, "rstats")
    except RuntimeError:
        pytest.fail(f"rstats never reached {expected}: last {seen}")
    assert seen["ctime"] > 1.7e9
    elsewhere = cluster.run(str(REPO / "bin/hostnode-call"), "cephfs.rstats", "/var/lib/ceph",
                            check=False, env=salt_env(cluster))  # fmt: skip
    assert elsewhere.returncode != 0
    assert "/var/lib/ceph is not on CephFS" in elsewhere.stdout + elsewhere.stderr


def placed(cluster):
    """{osd id: (CRUSH host, up, in)} of the whole cluster."""
    hosts = {child: node["name"] for node in cluster.ceph("osd", "tree")["nodes"]
             if node["type"] == "host" for child in node["children"]}  # fmt: skip
    return {osd["osd"]: (hosts.get(osd["osd"]), osd["up"], osd["in"])
            for osd in cluster.ceph("osd", "dump")["osds"]}  # fmt: skip


@pytest.fixture(scope="module")
def elsewhere(cluster, created):
    """An OSD of a second CRUSH host: made on this module's seventh device, moved under host
    `otherhost` as that host's ceph-osd would have placed it."""
    osd_id = cluster.make_osd(cluster.devices[6])
    cluster.run("ceph", "osd", "crush", "create-or-move", f"osd.{osd_id}", "0.0029",
                "root=default", "host=otherhost")  # fmt: skip
    cluster.wait(lambda: cluster.healthy([*created["ids"], osd_id]), 180, "HEALTH_OK, 4 OSDs")
    return osd_id


def test_an_osd_of_another_crush_host_is_refused_naming_it(cluster, created, elsewhere):
    here = socket.gethostname().split(".")[0]
    assert placed(cluster)[created["ids"][0]][0] == here  # ceph-osd placed ours under it
    before = placed(cluster)
    assert before[elsewhere] == ("otherhost", 1, 1)
    wanted = [created["ids"][2], elsewhere]  # one of ours and the other host's: all refused
    for extra in (["test=True"], []):
        refused = apply(cluster, created["devices"], *extra, retire=wanted)[RETIRE]
        assert refused["result"] is False and refused["changes"] == {}
        assert refused["comment"] == (f"refused, nothing changed: not on this host ({here}): "
                                      f"osd.{elsewhere} is on host otherhost")  # fmt: skip
    done = cluster.run(str(REPO / "bin/hostnode-call"), "ceph_osd.remove", str(elsewhere),
                       check=False, env=salt_env(cluster))  # fmt: skip
    assert done.returncode != 0 and f"osd.{elsewhere} is on host otherhost" in done.stderr
    assert placed(cluster) == before


def test_clean_leaves_every_osd_alone(cluster, created, elsewhere):
    before = placed(cluster)
    # the grain lists this host's OSDs: all of them are there for clean to leave alone
    assert {str(n) for n in created["ids"]} <= set(
        call(cluster, "grains.get", "hostnode_ceph_osds")
    )
    for extra in (["test=True"], []):
        (clean,) = apply(cluster, created["devices"], *extra, sls="ceph_osd.clean").values()
        assert clean["result"] is True and clean["changes"] == {}
    assert placed(cluster) == before


def test_purging_a_host_needs_its_name_and_takes_only_its_osds(cluster, created, elsewhere):
    before = placed(cluster)
    (unconfirmed,) = apply(cluster, [], sls="ceph_osd.purge_host").values()
    assert (
        unconfirmed["result"] is False and "is not this node's CRUSH host" in unconfirmed["comment"]
    )
    # this minion acting as the other host (option hostnode:crush_host, here from pillar)
    more = {"host": {"purge_host": "otherhost"}, "top": {"crush_host": "otherhost"}}
    (predicted,) = apply(cluster, [], "test=True", sls="ceph_osd.purge_host", more=more).values()
    assert predicted["result"] is None and list(predicted["changes"]) == [f"osd.{elsewhere}"]
    (purged,) = apply(cluster, [], sls="ceph_osd.purge_host", more=more).values()
    assert purged["result"] is True, purged["comment"]
    assert purged["changes"] == predicted["changes"]
    assert placed(cluster) == {k: v for k, v in before.items() if k != elsewhere}
    (again,) = apply(cluster, [], sls="ceph_osd.purge_host", more=more).values()
    assert again["result"] is True and again["changes"] == {}


class Watch(threading.Thread):
    """Every 2 s until stopped: no HEALTH_ERR, and the rados object reads back."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster, self.samples, self.errors = cluster, 0, []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(2):
            status = self.cluster.ceph("health")["status"]
            read = self.cluster.run("rados", "-p", "data", "get", "object", "-", check=False)
            self.samples += 1
            if status == "HEALTH_ERR" or read.returncode != 0:
                self.errors.append((status, read.returncode, read.stderr[-200:]))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.join()


def test_retire_drains_and_purges_one_osd_and_the_data_stays(cluster, created):
    kept, (*staying, retired) = created["devices"][:2], created["ids"]
    predicted = apply(cluster, kept, "test=True", retire=[retired])[RETIRE]
    with Watch(cluster) as watch:  # health and the object, sampled while the OSD drains
        removed = apply(cluster, kept, retire=[retired])[RETIRE]
    assert watch.samples >= 3 and watch.errors == [], watch.errors
    assert removed["result"] is True, removed["comment"]
    assert removed["changes"] == predicted["changes"]
    purge = ["ceph", "osd", "purge", str(retired), "--yes-i-really-mean-it"]
    assert purge in removed["changes"][f"osd.{retired}"]["commands"]
    in_tree = {n["id"] for n in cluster.ceph("osd", "tree")["nodes"] if n["id"] >= 0}
    assert retired not in in_tree and set(staying) <= in_tree
    cluster.wait(lambda: cluster.healthy(staying), 120, "HEALTH_OK with the 2 kept OSDs")
    assert cluster.run("rados", "-p", "data", "get", "object", "-").stdout.startswith("PRETTY")
    assert all(r["changes"] == {} for r in apply(cluster, kept, retire=[retired]).values())
    # its device still holds the purged OSD: creating on it again is refused, not done silently
    again = apply(cluster, created["devices"])[DEVICES]
    assert again["result"] is False
    assert f"holds osd.{retired} of this cluster, which was purged" in again["comment"]
