"""Signatures read by wipefs on real loop devices, mounts and holders: which devices may be
written, and why not."""

import json
import os
import pathlib

import pytest

from saltext.hostnode.utils import disks as hostnode_disks
from support import CommandTable, fixture_text, load_module, salt_dunders

FSID = "4c0e1e0a-6d5e-4a39-9a49-0d2c3e1b7f10"
OTHER = "0f9d2a51-33c1-4d1e-8a8e-5b1c2d3e4f50"


def facts(case=None, **given):
    signatures = hostnode_disks.parse_wipefs(fixture_text("wipefs", case)) if case else []
    return {"signatures": signatures, "devnums": ["7:3"], "mounted": set(), "holders": [],
            "osd_cluster_fsid": None, **given}  # fmt: skip


def test_real_signatures():
    assert hostnode_disks.parse_wipefs(fixture_text("wipefs", "blank.json")) == []
    assert hostnode_disks.parse_wipefs("") == []
    (ext4,) = hostnode_disks.parse_wipefs(fixture_text("wipefs", "ext4.json"))
    assert ext4["type"] == "ext4" and ext4["offset"] == 0x438
    gpt = hostnode_disks.parse_wipefs(fixture_text("wipefs", "gpt.json"))
    assert [s["type"] for s in gpt] == ["gpt", "gpt", "PMBR"]
    (pv,) = hostnode_disks.parse_wipefs(fixture_text("wipefs", "lvm-pv.json"))
    assert pv["type"] == "LVM2_member"


@pytest.mark.parametrize(
    ("text", "message"),
    [("{oops", "line 1: not wipefs JSON"), ('{"signatures": [{"type": "x"}]}', "'offset'")],
)
def test_bad_wipefs_output(text, message):
    with pytest.raises(ValueError, match=message):
        hostnode_disks.parse_wipefs(text)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("ext4.json", "/dev/loop3 holds ext4 (force: true to overwrite)"),
        ("gpt.json", "/dev/loop3 holds PMBR, gpt (force: true to overwrite)"),
        ("lvm-pv.json", "/dev/loop3 holds LVM2_member (force: true to overwrite)"),
    ],
)
def test_signatures_refuse_unless_forced(case, reason):
    refused = hostnode_disks.verdict("/dev/loop3", facts(case), FSID)
    assert (refused["writable"], refused["reason"]) == (False, reason)
    assert hostnode_disks.verdict("/dev/loop3", facts(case), FSID, force=True)["writable"]


def test_a_blank_device_is_writable_and_an_osd_is_ours_or_foreign():
    assert hostnode_disks.verdict("/dev/loop3", facts("blank.json"), FSID)["writable"] is True
    osd = [{"offset": 0, "type": "ceph_bluestore", "uuid": None, "label": None}]
    ours = hostnode_disks.verdict("/dev/loop3", facts(signatures=osd, osd_cluster_fsid=FSID), FSID)
    assert (ours["writable"], ours["osd"], ours["reason"]) == (False, "ours", None)
    purged = hostnode_disks.verdict(
        "/dev/loop3",
        facts(signatures=osd, osd_cluster_fsid=FSID, osd_id=2, live_ids={0, 1}),
        FSID,
    )
    assert purged["reason"].startswith("/dev/loop3 holds osd.2 of this cluster, which was purged")
    foreign = hostnode_disks.verdict(
        "/dev/loop3", facts(signatures=osd, osd_cluster_fsid=OTHER), FSID
    )
    assert foreign["reason"] == f"/dev/loop3 holds an OSD of another cluster (fsid {OTHER})"


def test_mounts_and_holders_refuse_even_when_forced():
    """The root filesystem's device, from this machine's own mountinfo, counts as mounted."""
    mounted = hostnode_disks.mounted_devices(pathlib.Path("/proc/self/mountinfo").read_text())
    root = pathlib.Path("/")
    devnum = f"{os.major(root.stat().st_dev)}:{os.minor(root.stat().st_dev)}"
    assert devnum in mounted
    refused = hostnode_disks.verdict(
        "/dev/vda", facts("ext4.json", devnums=[devnum], mounted=mounted), FSID, force=True
    )
    assert refused["reason"] == f"/dev/vda is mounted (device {devnum})"
    held = hostnode_disks.verdict("/dev/loop3", facts(holders=["dm-0"]), FSID, force=True)
    assert held["reason"] == "/dev/loop3 is in use by dm-0"
    with pytest.raises(ValueError, match="line 1: not a mountinfo line"):
        hostnode_disks.mounted_devices("garbage\n")


def test_the_ceph_grain_reads_osd_folders(tmp_path, monkeypatch):
    """An OSD folder as `ceph-volume raw activate` leaves it (files and the block link)."""
    grain = load_module("grains", "hostnode_ceph")
    monkeypatch.setattr(grain, "OSD_ROOT", str(tmp_path))
    assert grain.hostnode_ceph() == {}
    folder = tmp_path / "ceph-3"
    folder.mkdir()
    for name, text in (("whoami", "3"), ("fsid", "838e6b24"), ("ceph_fsid", FSID),
                       ("type", "bluestore")):  # fmt: skip
        (folder / name).write_text(text + "\n")
    (folder / "block").symlink_to("/dev/null")
    (tmp_path / "lost+found").mkdir()
    assert grain.hostnode_ceph() == {
        "hostnode_ceph_osds": {
            "3": {"cluster": "ceph", "osd_fsid": "838e6b24", "cluster_fsid": FSID,
                  "objectstore": "bluestore", "devices": ["/dev/null"], "db_device": None}
        }
    }  # fmt: skip


def lvm_osd(**given):
    """The data disk of osd.0 on LVM, as the guest saw it: an LVM PV held by the OSD's LV."""
    osd = {"holders": ["dm-0"], "osd_cluster_fsid": FSID, "osd_id": 0, "live_ids": {0},
           "lvm_osd": True}  # fmt: skip
    return facts("lvm-osd.json", **{**osd, **given})


def test_an_lvm_osd_of_ours_is_ours_though_its_lv_holds_it():
    ours = hostnode_disks.verdict("/dev/vdb", lvm_osd(), FSID)
    assert (ours["writable"], ours["osd"], ours["reason"]) == (False, "ours", None)
    assert hostnode_disks.verdict("/dev/vdb", lvm_osd(), FSID, force=True)["osd"] == "ours"
    purged = hostnode_disks.verdict("/dev/vdb", lvm_osd(live_ids={1}), FSID)
    assert purged["reason"] == "/dev/vdb is in use by dm-0"
    foreign = hostnode_disks.verdict("/dev/vdb", lvm_osd(osd_cluster_fsid=OTHER), FSID)
    assert foreign["reason"] == "/dev/vdb is in use by dm-0"
    # a PV that no OSD's LV tags name (another VG's disk): held, or at least LVM
    plain = facts("lvm-osd.json", holders=["dm-0"])
    assert hostnode_disks.verdict("/dev/vdb", plain, FSID)["reason"] == "/dev/vdb is in use by dm-0"
    idle = hostnode_disks.verdict("/dev/vdb", facts("lvm-osd.json"), FSID)
    assert idle["reason"] == "/dev/vdb holds LVM2_member (force: true to overwrite)"


def test_check_device_reads_the_lv_tags_of_a_physical_volume(monkeypatch, tmp_path):
    """ceph_osd.check_device on the guest's OSD disk (here /dev/null standing in for /dev/vdb)."""
    ceph_osd = load_module("modules", "ceph_osd")
    lvm_list = fixture_text("ceph-volume", "lvm-list-db.json").replace('"/dev/vdb"', '"/dev/null"')
    fsid = json.loads(lvm_list)["0"][0]["tags"]["ceph.cluster_fsid"]
    table = CommandTable({
        ("wipefs", "--no-act", "--json", "/dev/null"): (0, fixture_text("wipefs", "lvm-osd.json"),
                                                        ""),
        ("ceph", "osd", "tree", "-f", "json"): (0, fixture_text("ceph", "osd-tree-one-down.json"),
                                                ""),
        ("ceph-volume", "lvm", "list", "--format", "json"): (0, lvm_list, ""),
        ("ceph", "fsid", "-f", "json"): (0, json.dumps({"fsid": fsid}), ""),
    })  # fmt: skip
    held = {"devnums": ["254:16"], "holders": ["dm-0"]}  # the OSD's LV holds its PV
    monkeypatch.setattr(ceph_osd.salt.utils.path, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(ceph_osd.hostnode_disks, "block_facts", lambda root, name: held)
    for name, value in salt_dunders(table, tmp_path).items():
        monkeypatch.setattr(ceph_osd, name, value, raising=False)
    verdict = ceph_osd.check_device("/dev/null")
    assert verdict == {"device": "/dev/null", "writable": False, "reason": None, "osd": "ours"}
    assert table.argvs() == [
        ["wipefs", "--no-act", "--json", "/dev/null"],
        ["ceph", "osd", "tree", "-f", "json"],
        ["ceph-volume", "lvm", "list", "--format", "json"],
        ["ceph", "fsid", "-f", "json"],
    ]


@pytest.mark.parametrize(("case", "reason"), [
    ("ext4.json", "holds ext4"),
    ("gpt.json", "holds PMBR, gpt"),
    ("lvm-osd.json", "holds LVM2_member"),
])  # fmt: skip
def test_the_db_device_of_a_new_osd_must_hold_nothing(monkeypatch, tmp_path, case, reason):
    """A blank data device (/dev/null) with a DB device (/dev/zero) that holds something."""
    ceph_osd = load_module("modules", "ceph_osd")
    wipefs = ("wipefs", "--no-act", "--json")
    table = CommandTable({
        (*wipefs, "/dev/null"): (0, fixture_text("wipefs", "blank.json"), ""),
        (*wipefs, "/dev/zero"): (0, fixture_text("wipefs", case), ""),
        ("ceph", "osd", "tree", "-f", "json"): (0, fixture_text("ceph", "osd-tree-healthy.json"),
                                                ""),
        ("ceph", "fsid", "-f", "json"): (0, json.dumps({"fsid": FSID}), ""),
        ("ceph-volume", "lvm", "list", "--format", "json"): (0, "{}", ""),
    })  # fmt: skip
    monkeypatch.setattr(ceph_osd.salt.utils.path, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(ceph_osd.hostnode_disks, "block_facts",
                        lambda root, name: {"devnums": [], "holders": []})  # fmt: skip
    for name, value in salt_dunders(table, tmp_path).items():
        monkeypatch.setattr(ceph_osd, name, value, raising=False)
    entry = {"device": "/dev/null", "db_device": "/dev/zero", "force": True}
    with pytest.raises(
        ceph_osd.SaltInvocationError,
        match=f"db_device of /dev/null: /dev/zero {reason} \\(wipe it yourself\\)",
    ):
        ceph_osd.provision([entry], method="lvm")
    assert not [argv for argv in table.argvs() if argv[0] == "ceph-volume" and "prepare" in argv]


def loaded_ceph_osd(monkeypatch, tmp_path, table):
    ceph_osd = load_module("modules", "ceph_osd")
    monkeypatch.setattr(ceph_osd.salt.utils.path, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(ceph_osd.hostnode_disks, "block_facts",
                        lambda root, name: {"devnums": [], "holders": []})  # fmt: skip
    for name, value in salt_dunders(table, tmp_path).items():
        monkeypatch.setattr(ceph_osd, name, value, raising=False)
    return ceph_osd


def cluster_answers(more=None):
    blank = fixture_text("wipefs", "blank.json")
    return {
        ("wipefs", "--no-act", "--json", "/dev/null"): (0, blank, ""),
        ("ceph", "osd", "tree", "-f", "json"): (0, fixture_text("ceph", "osd-tree-healthy.json"),
                                                ""),
        ("ceph", "fsid", "-f", "json"): (0, json.dumps({"fsid": FSID}), ""),
        **(more or {}),
    }  # fmt: skip


def test_a_failed_create_reports_the_commands_that_ran(monkeypatch, tmp_path):
    table = CommandTable(cluster_answers({("ceph-osd", "-i", "3"): (1, "", "killed")}))
    ceph_osd = loaded_ceph_osd(monkeypatch, tmp_path, table)
    monkeypatch.setattr(ceph_osd, "_systemd", lambda: False)
    with pytest.raises(ceph_osd.CommandExecutionError, match="ceph-osd -i 3 exited 1") as raised:
        ceph_osd.provision(["/dev/null"])
    ((device, made),) = raised.value.info.items()
    assert device == "/dev/null" and made["osd_id"] == 3
    assert [argv[:3] for argv in made["commands"]] == [
        ["ceph-volume", "raw", "prepare"], ["ceph-volume", "raw", "activate"]]  # fmt: skip


def test_an_osd_of_ours_without_its_daemon_is_started(monkeypatch, tmp_path):
    osd = [{"offset": 0, "type": "ceph_bluestore", "uuid": None, "label": None}]
    table = CommandTable(cluster_answers())
    ceph_osd = loaded_ceph_osd(monkeypatch, tmp_path, table)
    ours = facts(signatures=osd, osd_cluster_fsid=FSID, osd_id=1, live_ids={0, 1, 2})
    monkeypatch.setattr(ceph_osd, "_device_facts", lambda device: ours)
    monkeypatch.setattr(ceph_osd, "_systemd", lambda: False)
    monkeypatch.setattr(ceph_osd, "_pid", lambda osd_id: None)
    changes = ceph_osd.provision(["/dev/null"])
    assert changes["/dev/null"]["osd_id"] == 1
    assert changes["/dev/null"]["commands"][-1] == ["ceph-osd", "-i", "1"]
    monkeypatch.setattr(ceph_osd, "_pid", lambda osd_id: "4242")
    assert ceph_osd.provision(["/dev/null"]) == {}
