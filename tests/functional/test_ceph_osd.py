"""
ceph_osd on a real one-host cluster (tests/ceph_cluster.py: Debian's ceph-mon, ceph-mgr and
ceph-osd, loop devices, its own mount namespace), driven as a user drives it: the states through
bin/hostnode-call. One cluster for the module: three OSDs created by ceph_osd.present (raw
method: no device-mapper on this host), HEALTH_OK and a rados round trip, a second run without
changes, test=True predicting the exact commands, three devices refused and left byte for byte
as they were, and one OSD removed by ceph_osd.absent while the cluster keeps its data.
"""

import hashlib
import json
import pathlib

import ceph_cluster
import pytest

from support import REPO

pytestmark = pytest.mark.slow


def checksum(device):
    """SHA-256 of the whole device, read from the host (loop devices are host-wide)."""
    digest = hashlib.sha256()
    with open(device, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = ceph_cluster.missing()
    if reason:
        pytest.skip(reason)
    lab = ceph_cluster.Cluster(osd_devices=6).start()
    lab.home = tmp_path_factory.mktemp("ceph-salt")
    yield lab
    lab.stop()


def call(cluster, *args):
    done = cluster.run(str(REPO / "bin/hostnode-call"), "--out=json", *args, check=False,
                       env={"HOSTNODE_HOME": str(cluster.home)})  # fmt: skip
    (ret,) = json.loads(done.stdout)["local"].values()
    return ret


def listed(cluster):
    done = cluster.run(str(REPO / "bin/hostnode-call"), "--out=json", "ceph_osd.list",
                       env={"HOSTNODE_HOME": str(cluster.home)})  # fmt: skip
    # other clusters' OSDs on this host's loop devices are listed too: keep ours
    return [osd for osd in json.loads(done.stdout)["local"] if osd["cluster_fsid"] == cluster.fsid]


def present(cluster, devices, *extra):
    return call(cluster, "state.single", "ceph_osd.present", "name=osds",
                f"devices={json.dumps(devices)}", *extra)  # fmt: skip


@pytest.fixture(scope="module")
def created(cluster):
    devices = cluster.devices[:3]
    predicted = present(cluster, devices, "test=True")
    applied = present(cluster, devices)
    cluster.wait(lambda: cluster.healthy(3), 180, "HEALTH_OK with 3 OSDs")
    cluster.run("ceph", "osd", "pool", "create", "data", "16")
    cluster.run("ceph", "osd", "pool", "application", "enable", "data", "rados")
    cluster.run("rados", "-p", "data", "put", "object", "/etc/os-release")
    return {"devices": devices, "predicted": predicted, "applied": applied,
            "again": present(cluster, devices)}  # fmt: skip


def test_present_creates_three_osds_as_test_mode_said(cluster, created):
    predicted, applied = created["predicted"], created["applied"]
    assert predicted["result"] is None and applied["result"] is True, applied["comment"]
    assert sorted(applied["changes"]) == created["devices"]
    for device, change in applied["changes"].items():
        assert change["commands"] == predicted["changes"][device]["commands"]
        assert change["commands"][0][:4] == ["ceph-volume", "raw", "prepare", "--bluestore"]
    assert sorted(c["osd_id"] for c in applied["changes"].values()) == [0, 1, 2]
    osds = listed(cluster)
    assert [(o["id"], o["method"], o["cluster_fsid"]) for o in osds] == [
        (n, "raw", cluster.fsid) for n in range(3)
    ]


def test_the_cluster_is_healthy_and_keeps_an_object(cluster, created):
    cluster.wait(lambda: cluster.healthy(3), 120, "HEALTH_OK with a pool")
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
    refused = present(cluster, [*created["devices"], device])
    assert refused["result"] is False and refused["changes"] == {}
    assert refused["comment"].startswith("refused, nothing written: " + device)
    reasons = {"ext4": "holds ext4", "gpt": "holds PMBR, gpt",
               "foreign OSD": "holds an OSD of another cluster"}  # fmt: skip
    assert reasons[kind] in refused["comment"]
    assert checksum(device) == before


def test_absent_drains_and_purges_one_osd_and_the_data_stays(cluster, created):
    test_the_cluster_is_healthy_and_keeps_an_object(cluster, created) if not cluster.ceph(
        "osd", "pool", "ls"
    ) else None
    predicted = call(cluster, "state.single", "ceph_osd.absent", "name=retire", "osd_ids=[2]",
                     "test=True")  # fmt: skip
    removed = call(cluster, "state.single", "ceph_osd.absent", "name=retire", "osd_ids=[2]",
                   "timeout=300")  # fmt: skip
    assert removed["result"] is True, removed["comment"]
    assert removed["changes"] == predicted["changes"]
    purge = ["ceph", "osd", "purge", "2", "--yes-i-really-mean-it"]
    assert purge in removed["changes"]["osd.2"]["commands"]
    assert sorted(n["id"] for n in cluster.ceph("osd", "tree")["nodes"] if n["id"] >= 0) == [0, 1]
    cluster.wait(lambda: cluster.healthy(2), 120, "HEALTH_OK with 2 OSDs")
    assert cluster.run("rados", "-p", "data", "get", "object", "-").stdout.startswith("PRETTY")
    again = call(cluster, "state.single", "ceph_osd.absent", "name=retire", "osd_ids=[2]")
    assert again["result"] is True and again["changes"] == {}
