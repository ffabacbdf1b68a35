"""
The ceph_osd formula with method lvm and a DB device in the guest (one boot, jobs/ceph-lvm.sh),
where device-mapper exists: a one-host cluster of Debian's ceph-mon and ceph-osd, the OSD's data
on /dev/vdb and its DB on /dev/vdc (two sparse 6 GiB disks). test=True predicts the commands the
real run executes, the OSD comes up with a dedicated DB and keeps an object, and a second run
changes nothing.
"""

import json

import guest
import pytest

pytestmark = [pytest.mark.vm, pytest.mark.slow]
DEVICES = "hostnode-ceph-osd-devices"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return guest.job_results("ceph-lvm.sh", tmp_path_factory.mktemp("guest-ceph-lvm"),
                             disks=2, disk_mb=6144)  # fmt: skip


def state(results, name):
    (ret,) = [v for k, v in json.loads(guest.result(results, name))["local"].items()
              if k.split("_|-")[1] == DEVICES]  # fmt: skip
    return ret


def local(results, name):
    return json.loads(guest.result(results, name))["local"]


def test_test_mode_predicts_the_commands_the_run_executes(results):
    predicted, applied = state(results, "salt-ceph-test.json"), state(results, "salt-ceph.json")
    assert predicted["result"] is None and applied["result"] is True, applied["comment"]
    assert applied["changes"] == predicted["changes"]
    assert applied["changes"]["/dev/vdb"] == {"osd_id": 0, "commands": [
        ["ceph-volume", "lvm", "prepare", "--bluestore", "--data", "/dev/vdb", "--osd-id", "0",
         "--block.db", "/dev/vdc", "--crush-device-class", "hdd"],
        ["ceph-volume", "lvm", "activate", "--all", "--no-systemd"],
        ["ceph-osd", "-i", "0"],
    ]}  # fmt: skip


def test_the_osd_is_listed_as_lvm_with_its_db_device(results):
    fsid = guest.result(results, "fsid.txt").strip()
    (osd,) = local(results, "ceph-osd-list.json")
    assert (osd["id"], osd["method"], osd["cluster_fsid"]) == (0, "lvm", fsid)
    assert osd["devices"] == ["/dev/vdb"]
    assert (osd["objectstore"], osd["device_class"]) == ("bluestore", "hdd")
    assert osd["db_device"].startswith("/dev/ceph-") and "/osd-db-" in osd["db_device"]
    assert osd["wal_device"] is None and osd["encrypted"] is False
    lvs = guest.result(results, "lvs.txt")
    assert f"{osd['db_device']} " in lvs and "/dev/vdc(0)" in lvs


def test_the_cluster_runs_it_with_a_dedicated_db_and_it_keeps_an_object(results):
    (osd,) = json.loads(guest.result(results, "osd-dump.json"))["osds"]
    assert (osd["osd"], osd["up"], osd["in"]) == (0, 1, 1)
    (node,) = local(results, "ceph-osd-tree.json")
    assert (node["status"], node["device_class"]) == ("up", "hdd")
    metadata = json.loads(guest.result(results, "osd-metadata-0.json"))
    assert metadata["bluefs_dedicated_db"] == "1"
    assert (metadata["bluestore_bdev_devices"], metadata["bluefs_db_devices"]) == ("vdb", "vdc")
    assert guest.result(results, "rados-object.txt").startswith('PRETTY_NAME="Debian')


def test_a_second_run_changes_nothing(results):
    again = state(results, "salt-ceph-again.json")
    assert (again["result"], again["changes"]) == (True, {}), again["comment"]
