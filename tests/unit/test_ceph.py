"""ceph-volume's and ceph's JSON captured from the real cluster of tests/ceph_cluster.py (and
public samples of an LVM OSD and of an old release), and the exact commands hostnode runs."""

import json

import pytest

from saltext.hostnode.utils import ceph as hostnode_ceph
from support import CommandTable, fixture_text, load_module, salt_dunders

FSID = "d0917d9c-4ea2-4cd1-9b54-8624bb7c7606"


def test_raw_list_of_three_osds():
    osds = hostnode_ceph.parse_raw_list(fixture_text("ceph-volume", "raw-list-three.json"))
    assert [(o["id"], o["devices"], o["method"]) for o in osds] == [
        (0, ["/dev/loop0"], "raw"),
        (1, ["/dev/loop1"], "raw"),
        (2, ["/dev/loop2"], "raw"),
    ]
    assert {o["cluster_fsid"] for o in osds} == {FSID}
    assert osds[0]["objectstore"] == "bluestore" and osds[0]["encrypted"] is False
    assert hostnode_ceph.list_format(fixture_text("ceph-volume", "raw-list-three.json")) == "raw"


def test_lvm_list_tags_give_the_same_model():
    text = fixture_text("ceph-volume", "lvm-list-docs.json")
    assert hostnode_ceph.list_format(text) == "lvm"
    (osd,) = hostnode_ceph.parse_lvm_list(text)
    assert osd == {
        "id": 0, "osd_fsid": "943949f0-ce37-47ca-a33c-3413d46ee9ec",
        "cluster_fsid": "ce454d91-d748-4751-a318-ff7f7aa18ffd", "method": "lvm",
        "objectstore": "filestore", "devices": ["/dev/sda"], "db_device": None,
        "wal_device": None, "encrypted": False, "device_class": None,
    }  # fmt: skip
    assert hostnode_ceph.parse_lvm_list(fixture_text("ceph-volume", "lvm-list-none.json")) == []


def test_osd_trees_new_and_old():
    down = hostnode_ceph.parse_osd_tree(fixture_text("ceph", "osd-tree-one-down.json"))
    assert [(o["id"], o["host"], o["status"], o["reweight"]) for o in down] == [
        (0, "vm", "up", 1.0),
        (1, "vm", "up", 0.0),
        (2, "vm", "down", 1.0),
    ]
    assert down[0]["device_class"] == "hdd" and isinstance(down[0]["crush_weight"], float)
    old = hostnode_ceph.parse_osd_tree(fixture_text("ceph", "calamari-2014-osd-tree.json"))
    assert [(o["name"], o["host"], o["crush_weight"]) for o in old] == [
        ("osd.0", "gravel2", 0.909988),
        ("osd.1", "gravel2", 0.909988),
    ]


def test_the_cluster_answers_on_stopping_and_destroying():
    def exit_of(name):
        code, _, stderr = fixture_text("ceph", f"{name}.exit").partition("\n")
        return int(code), stderr

    busy = hostnode_ceph.parse_ok_to_stop(fixture_text("ceph", "ok-to-stop-1.json"),
                                          *exit_of("ok-to-stop-1.json"))  # fmt: skip
    assert busy["ok"] is False and "9 PGs are or would become offline" in busy["reason"]
    drained = hostnode_ceph.parse_ok_to_stop(fixture_text("ceph", "ok-to-stop-1-out.json"), 0)
    assert drained == {"ok": True, "osds": [1], "reason": None, "again": False}
    unknown = hostnode_ceph.parse_ok_to_stop(fixture_text("ceph", "ok-to-stop-0-unknown-pgs.json"),
                                             *exit_of("ok-to-stop-0-unknown-pgs.json"))  # fmt: skip
    assert (unknown["ok"], unknown["again"]) == (False, True)
    assert unknown["reason"] == (
        "Error EAGAIN: 32 pgs have unknown state; cannot draw any conclusions"
    )
    holding = hostnode_ceph.parse_safe_to_destroy(
        fixture_text("ceph", "safe-to-destroy-1-in.json"), 11
    )
    assert holding["ok"] is False and holding["active"] == [1]
    safe = hostnode_ceph.parse_safe_to_destroy(
        fixture_text("ceph", "safe-to-destroy-1-out.json"), 0
    )
    assert safe["ok"] is True and safe["safe"] == [1]


def test_inventory_label_and_fsid():
    devices = hostnode_ceph.parse_inventory(fixture_text("ceph-volume", "inventory.json"))
    first = devices[0]
    assert first["path"] == "/dev/loop0" and first["available"] is False
    assert "Has BlueStore device label" in first["rejected_reasons"]
    label = hostnode_ceph.parse_label(fixture_text("ceph", "bluestore-label.json"), "/dev/loop0")
    assert label["ceph_fsid"] == FSID and label["description"] == "main"
    assert hostnode_ceph.parse_fsid(json.dumps({"fsid": FSID})) == FSID


@pytest.mark.parametrize(
    ("parser", "text", "message"),
    [
        (hostnode_ceph.parse_raw_list, "[]", "not a mapping"),
        (hostnode_ceph.parse_raw_list, '{"x": {"osd_id": 0}}', "OSD x: missing or wrong"),
        (hostnode_ceph.parse_lvm_list, '{"0": [{"type": "db"}]}', "osd 0: missing or wrong"),
        (hostnode_ceph.parse_osd_tree, '{"nodes": [{"type": "osd"}]}', "missing or wrong"),
        (hostnode_ceph.parse_inventory, "[{}]", "missing or wrong 'path'"),
        (hostnode_ceph.parse_fsid, "{}", "no fsid"),
        (hostnode_ceph.parse_osd_tree, "{oops", "line 1: not JSON"),
    ],
)
def test_bad_json_names_what_is_wrong(parser, text, message):
    with pytest.raises(ValueError, match=message):
        parser(text)


def test_create_and_remove_commands_exactly():
    entry = {"device": "/dev/sdc", "db_device": "/dev/nvme0n1p1", "device_class": "hdd"}
    assert hostnode_ceph.create_commands(entry, "raw", 3, False, systemd=False) == [
        ["ceph-volume", "raw", "prepare", "--bluestore", "--data", "/dev/sdc", "--osd-id", "3",
         "--block.db", "/dev/nvme0n1p1", "--crush-device-class", "hdd"],
        ["ceph-volume", "raw", "activate", "--device", "/dev/sdc", "--block.db",
         "/dev/nvme0n1p1", "--no-systemd"],
        ["ceph-osd", "-i", "3"],
    ]  # fmt: skip
    lvm = hostnode_ceph.create_commands({"device": "/dev/sdd"}, "lvm", 4, True, systemd=True)
    assert lvm[0][-1] == "--dmcrypt" and lvm[-1] == ["systemctl", "enable", "--now", "ceph-osd@4"]
    steps = hostnode_ceph.remove_commands(2, ["/dev/sdc"], systemd=False, pid="4242")
    assert steps["out"] == [["ceph", "osd", "out", "2"]]
    assert steps["purge"] == [
        ["kill", "-TERM", "4242"],
        ["timeout", "60", "tail", "--pid=4242", "-f", "/dev/null"],
        ["ceph", "osd", "down", "2"],
        ["ceph", "osd", "purge", "2", "--yes-i-really-mean-it"],
        ["umount", "/var/lib/ceph/osd/ceph-2"],
        ["ceph-volume", "lvm", "zap", "--destroy", "/dev/sdc"],
    ]


def test_start_commands_of_a_prepared_osd_activate_only_when_not_primed():
    entry = {"device": "/dev/sdc", "db_device": "/dev/nvme0n1p1"}
    assert hostnode_ceph.start_commands(entry, "raw", 3, systemd=False) == [
        ["ceph-volume", "raw", "activate", "--device", "/dev/sdc", "--block.db",
         "/dev/nvme0n1p1", "--no-systemd"],
        ["ceph-osd", "-i", "3"],
    ]  # fmt: skip
    assert hostnode_ceph.start_commands(entry, "lvm", 3, systemd=True, primed=True) == [
        ["systemctl", "enable", "--now", "ceph-osd@3"]
    ]


def test_free_ids_and_the_osd_process():
    osds = [{"id": 0}, {"id": 2}]
    assert hostnode_ceph.free_ids(osds, 3) == [1, 3, 4]
    cmdlines = {"10": ["ceph-osd", "-i", "12", "-f"], "11": ["/usr/bin/ceph-osd", "--id=2"],
                "12": ["ceph-mon", "-i", "2"]}  # fmt: skip
    assert hostnode_ceph.osd_pid(cmdlines, 2) == "11"
    assert (
        hostnode_ceph.osd_pid(cmdlines, 12) == "10" and hostnode_ceph.osd_pid(cmdlines, 5) is None
    )


def test_rstats_from_the_virtual_xattrs():
    """Values shaped as ceph-fuse returns them (bytes, rctime as seconds.nanoseconds)."""
    raw = {"rbytes": b"100006", "rfiles": b"3", "rsubdirs": b"3", "rentries": b"5",
           "rctime": b"1795374948.131613747"}  # fmt: skip
    assert hostnode_ceph.parse_rstats(raw) == {
        "bytes": 100006,
        "files": 3,
        "subdirs": 3,
        "entries": 5,
        "ctime": 1795374948.131613747,
    }
    with pytest.raises(ValueError, match=r"ceph.dir.rfiles: b'x' is not a number"):
        hostnode_ceph.parse_rstats({**raw, "rfiles": b"x"})


def test_raw_db_and_wal_devices_and_a_db_device_alone():
    osds = hostnode_ceph.parse_raw_list(fixture_text("ceph-volume", "raw-list-db-wal.json"))
    assert [(o["id"], o["db_device"], o["wal_device"]) for o in osds] == [
        (0, None, None),
        (1, None, None),
        (2, "/dev/loop3", "/dev/loop4"),
    ]
    assert hostnode_ceph.parse_raw_list(fixture_text("ceph-volume", "raw-list-db-only.json")) == []


def test_lvm_osds_of_a_rook_node():
    osds = hostnode_ceph.parse_lvm_list(fixture_text("ceph-volume", "lvm-list-rook.json"))
    assert {o["method"] for o in osds} == {"lvm"} and {o["objectstore"] for o in osds} == {
        "bluestore"
    }
    assert all(o["device_class"] is None and o["devices"] for o in osds)


GUEST_FSID = "859a3fdf-ecf7-4305-b6a5-24711dfa16e2"
DB_LV = ("/dev/ceph-8aef3667-64b8-48e5-8c4c-4d0fadd2b21b/"
         "osd-db-92f4ec2e-8769-42b8-9e1e-208de49ea0f4")  # fmt: skip


def test_an_lvm_osd_with_its_db_on_a_disk_of_its_own_from_the_guest():
    """ceph-volume lvm prepare --data /dev/vdb --block.db /dev/vdc, as the guest lane ran it."""
    text = fixture_text("ceph-volume", "lvm-list-db.json")
    assert hostnode_ceph.list_format(text) == "lvm"
    assert hostnode_ceph.parse_lvm_list(text) == [{
        "id": 0, "osd_fsid": "aebd53a9-d2c6-495d-b2a5-45faa24d6a22", "cluster_fsid": GUEST_FSID,
        "method": "lvm", "objectstore": "bluestore", "devices": ["/dev/vdb"],
        "db_device": DB_LV, "wal_device": None, "encrypted": False, "device_class": "hdd",
    }]  # fmt: skip
    # raw list knows nothing of it; the inventory rejects both of its disks
    assert hostnode_ceph.parse_raw_list(fixture_text("ceph-volume", "raw-list-lvm-host.json")) == []
    devices = hostnode_ceph.parse_inventory(fixture_text("ceph-volume", "inventory-lvm.json"))
    disks = {d["path"]: d for d in devices if d["path"] in ("/dev/vdb", "/dev/vdc")}
    assert [d["available"] for d in disks.values()] == [False, False]
    assert all("LVM detected" in d["rejected_reasons"] for d in disks.values())
    assert disks["/dev/vdb"]["size"] == 6 * 1024**3


TWO_HOSTS = "osd-tree-two-hosts.json"  # osd.0 under host vm, osd.1 under stor2


def test_own_osds_are_those_under_this_crush_host():
    tree = hostnode_ceph.parse_osd_tree(fixture_text("ceph", TWO_HOSTS))
    assert [(o["id"], o["host"]) for o in tree] == [(0, "vm"), (1, "stor2")]
    assert hostnode_ceph.own_osds(tree, [0, 0, 7], "vm") == [0]  # 7: already gone
    with pytest.raises(ValueError, match=r"^not on this host \(vm\): osd\.1 is on host stor2$"):
        hostnode_ceph.own_osds(tree, [0, 1], "vm")
    stray = [{"id": 4, "host": None}]
    with pytest.raises(ValueError, match=r"osd\.4 is under no CRUSH host"):
        hostnode_ceph.own_osds(stray, [4], "vm")


def loaded(monkeypatch, tmp_path, crush_host="vm"):
    """ceph_osd on this host (CRUSH host vm) of the two-host cluster, every answer captured."""
    ceph_osd = load_module("modules", "ceph_osd")
    table = CommandTable({
        ("ceph", "osd", "tree", "-f", "json"): (0, fixture_text("ceph", TWO_HOSTS), ""),
        ("ceph", "fsid", "-f", "json"): (0, json.dumps({"fsid": FSID}), ""),
        ("ceph-volume", "lvm", "list", "--format", "json"):
            (0, fixture_text("ceph-volume", "lvm-list-none.json"), ""),
        ("ceph-volume", "raw", "list", "--format", "json"):
            (0, fixture_text("ceph-volume", "raw-list-three.json"), ""),
    })  # fmt: skip
    monkeypatch.setattr(ceph_osd.salt.utils.path, "which", lambda name: f"/usr/bin/{name}")
    dunders = salt_dunders(table, tmp_path)
    dunders["__salt__"]["config.get"] = {"hostnode:crush_host": crush_host}.get
    for name, value in dunders.items():
        monkeypatch.setattr(ceph_osd, name, value, raising=False)
    monkeypatch.setattr(ceph_osd, "_systemd", lambda: False)
    monkeypatch.setattr(ceph_osd, "_pid", lambda osd_id: None)
    return ceph_osd, table


READS = {"tree", "fsid", "list"}


def writes(table):
    return [argv for argv in table.argvs() if not READS & set(argv)]


def test_removing_an_osd_of_another_host_is_refused_naming_it(monkeypatch, tmp_path):
    ceph_osd, table = loaded(monkeypatch, tmp_path)
    for call in (lambda: ceph_osd.remove(1, force=True), lambda: ceph_osd.retire([0, 1])):
        with pytest.raises(
            ceph_osd.SaltInvocationError,
            match=r"refused, nothing changed: not on this host \(vm\): osd\.1 is on host stor2",
        ):
            call()
    assert writes(table) == []


def test_removing_an_osd_of_this_host_runs_what_test_mode_said(monkeypatch, tmp_path):
    ceph_osd, table = loaded(monkeypatch, tmp_path)
    predicted = ceph_osd.remove(0, zap=True, test=True)
    assert writes(table) == []
    assert predicted == {"osd_id": 0, "commands": [
        ["ceph", "osd", "out", "0"], ["ceph", "osd", "down", "0"],
        ["ceph", "osd", "purge", "0", "--yes-i-really-mean-it"],
        ["umount", "/var/lib/ceph/osd/ceph-0"],
        ["ceph-volume", "lvm", "zap", "--destroy", "/dev/loop0"],
    ]}  # fmt: skip
    assert ceph_osd.remove(0, zap=True, force=True) == predicted
    assert writes(table) == predicted["commands"]
    assert ceph_osd.retire([7], test=True) == {}  # no longer in the cluster: nothing to do


def test_purging_a_host_needs_this_hosts_crush_name(monkeypatch, tmp_path):
    ceph_osd, table = loaded(monkeypatch, tmp_path)
    for wrong in (None, "stor2", "vm.example.net"):
        with pytest.raises(ceph_osd.SaltInvocationError, match=r"is not this node's CRUSH host"):
            ceph_osd.purge_host(wrong, test=True)
    assert list(ceph_osd.purge_host("vm", test=True)) == ["osd.0"]
    stor2, _ = loaded(monkeypatch, tmp_path, crush_host="stor2")
    assert list(stor2.purge_host("stor2", test=True)) == ["osd.1"]
    assert writes(table) == []


def test_the_crush_host_is_the_short_hostname_unless_configured(monkeypatch, tmp_path):
    ceph_osd, _ = loaded(monkeypatch, tmp_path, crush_host=None)
    monkeypatch.setattr(ceph_osd.socket, "gethostname", lambda: "stor1.ams1.example.net")
    assert ceph_osd.crush_host() == "stor1"
    configured, _ = loaded(monkeypatch, tmp_path, crush_host="rack7-stor1")
    assert configured.crush_host() == "rack7-stor1"
