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
                             disks=2, disk_mb=6144, cpu=guest.TCG_CPU_CEPH)  # fmt: skip


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


# === The host's LVM filter (node_lvm.global_filter): the block of the same name in the job ===
# A VG xen-vg on a loop device stands for Ganeti's; inst1-disk0 is one of its LVs holding a
# guest's VG guest1 as a whole-disk PV, inst2-disk0 one with a partition table whose first
# partition (mapped by kpartx) is the PV of guest2.


def vg_names(results, name):
    return guest.result(results, name).split()


def filter_states(results, name):
    return {key.split("_|-")[1]: value for key, value in local(results, name).items()}


def test_lvm_filter_without_it_the_host_sees_the_vgs_inside_instance_disks(results):
    before = vg_names(results, "lvm-filter-vgs-before.txt")
    assert {"xen-vg", "guest2"} <= set(before), guest.result(results, "lvm-filter.log")
    assert "guest1" not in before, "LVM's default scan_lvs = 0 hides a PV that is a whole LV"
    assert {"guest1", "guest2"} <= set(vg_names(results, "lvm-filter-vgs-before-scan-lvs.txt"))
    partition = guest.result(results, "lvm-filter-partition.txt").strip()
    assert partition.startswith("/dev/mapper/xen--vg-inst2--disk0"), partition


def test_lvm_filter_test_mode_predicts_the_file_and_a_second_run_changes_nothing(results):
    made = local(results, "lvm-filter-vg.json")
    assert made["commands"][-1][:2] == ["vgcreate", "xen-vg"], made
    predicted = filter_states(results, "lvm-filter-salt-test.json")["hostnode-node-lvm-filter"]
    applied = filter_states(results, "lvm-filter-salt.json")
    assert predicted["result"] is None, predicted["comment"]
    assert applied["hostnode-node-lvm-filter"]["result"] is True
    assert applied["hostnode-node-lvm-filter"]["changes"] == predicted["changes"] != {}
    assert applied["hostnode-node-lvm-vg"]["changes"] == {}, "the VG had its device already"
    again = filter_states(results, "lvm-filter-salt-again.json")
    assert all((s["result"], s["changes"]) == (True, {}) for s in again.values()), again
    written = guest.result(results, "lvm-filter-lvmlocal.conf")
    assert '"r|^/dev/xen-vg/|", "r|^/dev/mapper/xen--vg-[^-]|"' in written


def test_lvm_filter_hides_the_inner_vgs_and_keeps_the_hosts(results):
    for name in ("lvm-filter-vgs-after.txt", "lvm-filter-vgs-after-scan-lvs.txt"):
        after = vg_names(results, name)
        assert "xen-vg" in after and not {"guest1", "guest2"} & set(after), (name, after)
        assert any(vg.startswith("ceph-") for vg in after), "the OSD's VGs are still seen"
    pvs = guest.result(results, "lvm-filter-pvs-after.txt")
    assert "xen-vg" in pvs and "guest" not in pvs and "/dev/mapper/xen--vg" not in pvs, pvs
    vgchange = guest.result(results, "lvm-filter-vgchange.txt")
    assert 'Volume group "guest2" not found' in vgchange and "exit 0" not in vgchange, vgchange
