"""The multipath -ll parser on both layouts (the guest's capture, a RHEL 5 sample between debug
lines), path health, and the multipath module's read functions."""

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import multipath as hostnode_multipath
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

multipath = load_module("modules", "multipath")
TREE = fixture_text("multipath", "ll-two-paths.txt")


def test_tree_layout_from_the_guest():
    (mpath,) = hostnode_multipath.parse_ll(TREE)
    assert {k: v for k, v in mpath.items() if k != "groups"} == {
        "name": "mpatha",
        "wwid": "360014059b6fc20151e64750ad190c5c3",
        "dm": "dm-0",
        "vendor": "LIO-ORG",
        "product": "lun0",
        "size": "64M",
        "features": "1 queue_if_no_path",
        "hwhandler": "1 alua",
    }
    (group,) = mpath["groups"]
    assert (group["policy"], group["prio"], group["status"]) == ("service-time 0", 50, "active")
    assert group["paths"][0] == {
        "hctl": "7:0:0:0",
        "device": "sda",
        "devnum": "8:0",
        "dm_state": "active",
        "checker": "ready",
        "online": "running",
    }


def test_bracket_layout_between_debug_lines():
    (mpath,) = hostnode_multipath.parse_ll(fixture_text("multipath", "insights-rhel5-v4-ll.txt"))
    assert (mpath["name"], mpath["dm"], mpath["vendor"], mpath["product"]) == (
        "L004", "dm-9", "DGC", "RAID 5"
    )  # fmt: skip
    assert [g["status"] for g in mpath["groups"]] == ["active", "enabled"]
    assert [p["device"] for g in mpath["groups"] for p in g["paths"]] == [
        "sdk",
        "sdp",
        "sdf",
        "sdu",
    ]
    assert all(p["online"] is None for g in mpath["groups"] for p in g["paths"])


def test_a_map_without_alias_a_missing_path_and_a_failed_one():
    text = TREE.replace(
        "mpatha (360014059b6fc20151e64750ad190c5c3)", "360014059b6fc20151e64750ad190c5c3"
    )
    text = text.replace(
        "7:0:0:0 sda 8:0  active ready running", "#:#:#:# - #:# active faulty running"
    )
    text = text.replace(
        "6:0:0:0 sdb 8:16 active ready running", "6:0:0:0 sdb 8:16 failed ready running"
    )
    (mpath,) = hostnode_multipath.parse_ll(text)
    assert mpath["name"] == mpath["wwid"] == "360014059b6fc20151e64750ad190c5c3"
    assert hostnode_multipath.health([mpath]) == {
        mpath["name"]: {"paths": 2, "active": 0, "failed": ["#:#:#:#", "sdb"], "healthy": False}
    }


def test_no_driver_and_log_lines_are_not_maps():
    assert hostnode_multipath.parse_ll("\n".join(hostnode_multipath.NO_DRIVER) + "\n") == []
    logged = "Nov 22 14:55:01 | sdc: failed to get udev uid: Invalid argument\n" + TREE
    assert [m["name"] for m in hostnode_multipath.parse_ll(logged)] == ["mpatha"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TREE.splitlines()[0] + "\n", "map 'mpatha' ends without its size line"),
        ("\n".join(TREE.splitlines()[3:]), "line 1: a path outside any map"),
        (
            "\n".join([TREE.splitlines()[0], TREE.splitlines()[3]]),
            "line 2: map 'mpatha' has no size",
        ),
    ],
)
def test_truncated_output_names_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        hostnode_multipath.parse_ll(text)


# Real outputs of other releases and hosts (see tests/fixtures/multipath/README.md): per map
# its name, dm, path group statuses and prios, and per path device, dm state and checker.
OTHER_RELEASES = {
    "opensvc-0.4.5-l-no-checker.txt": [
        ("mpath1", None, [("active", 0), ("enabled", 0)],
         {"sda": ("active", "undef"), "sde": ("active", "undef"), "sdf": ("active", "undef"),
          "sdi": ("active", "undef"), "sdc": ("active", "undef"), "sdd": ("active", "undef"),
          "sdh": ("active", "undef"), "sdb": ("active", "undef")}),
    ],
    "checkmk-l-dm-state-only.txt": [
        ("mpath1", None, [("active", 0)], {"sdd": ("active", "undef")}),
    ],
    "checkmk-no-alias-no-dm.txt": [
        ("360a980004334644d654a364469555a76", None, [("active", 0)],
         {"sdc": ("active", "ready"), "sdl": ("active", "ready")}),
    ],
    "ubuntu-forums-0.4.8-create-no-dm.txt": [
        ("netapp", None, [("undef", 1)] * 4,
         {"sda": ("undef", "ready"), "sdb": ("undef", "ready"), "sdc": ("undef", "ready"),
          "sdd": ("undef", "ready")}),
    ],
    "checkmk-glued-dm.txt": [
        ("360a980004334644d654a316e65306e51", "dm-4", [("active", 0), ("enabled", 0)],
         {"sdg": ("active", "undef"), "sdl": ("active", "undef")}),
    ],
    "checkmk-ddn-two-failed.txt": [
        ("SDDN_S2A_9900_1308xxxxxxxx", "dm-13", [("active", 0), ("enabled", 0)],
         {"sdaj": ("failed", "undef"), "sdbh": ("failed", "undef"), "sddd": ("active", "undef"),
          "sdeb": ("active", "undef"), "sdcf": ("active", "undef"), "sdl": ("active", "undef")}),
    ],
    "checkmk-two-maps-negative-prio.txt": [
        ("anzvol2", "dm-15", [("active", -6)],
         {d: ("active", "undef") for d in ("sdbf", "sdau", "sdaj", "sdy", "sdn", "sdc")}),
        ("anzvol1", "dm-16", [("active", -6)],
         {d: ("active", "undef") for d in ("sdbe", "sdat", "sdai", "sdx", "sdm", "sdb")}),
    ],
    "checkmk-exadata-host-number-widths.txt": [
        ("iqn.2015-05.com.oracle:QD_DG_VOTE101_EXAO2ADM1VM101", "dm-7",
         [("active", 0)] + [("enabled", 0)] * 3,
         {d: ("active", "undef") for d in ("sdg", "sdh", "sdi", "sdj")}),
    ],
    "checkmk-rhel6-wwid-with-spaces.txt": [
        ("1IET     00010001", "dm-4", [("active", 0)] + [("enabled", 0)] * 3,
         {d: ("active", "undef") for d in ("sdk", "sdj", "sdg", "sdi")}),
    ],
    "checkmk-sles11-padded-devices.txt": [
        ("3600508b40006d7da0001a00004740000", "dm-0", [("active", -1), ("enabled", -1)],
         {d: ("active", "undef") for d in ("sda", "sdo", "sdv", "sdh")}),
    ],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(OTHER_RELEASES))
def test_every_release_and_padding_parses(case):
    maps = hostnode_multipath.parse_ll(fixture_text("multipath", case))
    assert [
        (
            m["name"],
            m["dm"],
            [(g["status"], g["prio"]) for g in m["groups"]],
            {p["device"]: (p["dm_state"], p["checker"]) for g in m["groups"] for p in g["paths"]},
        )
        for m in maps
    ] == OTHER_RELEASES[case]


def test_a_degraded_bracket_map_reports_its_failed_paths():
    maps = hostnode_multipath.parse_ll(fixture_text("multipath", "checkmk-ddn-two-failed.txt"))
    assert hostnode_multipath.health(maps)["SDDN_S2A_9900_1308xxxxxxxx"] == {
        "paths": 6, "active": 4, "failed": ["sdaj", "sdbh"], "healthy": False
    }  # fmt: skip


def test_old_headers_and_size_lines_fill_what_they_print():
    (old,) = hostnode_multipath.parse_ll(
        fixture_text("multipath", "opensvc-0.4.5-l-no-checker.txt")
    )
    assert (old["wwid"], old["size"], old["features"], old["hwhandler"], old["vendor"]) == (
        "3600508b4000971ca0000f00010650000", "404 GB", "1 queue_if_no_path", "0", None
    )  # fmt: skip
    (dry,) = hostnode_multipath.parse_ll(
        fixture_text("multipath", "ubuntu-forums-0.4.8-create-no-dm.txt")
    )
    assert (dry["wwid"], dry["vendor"], dry["product"]) == (
        "360a98000486e5770584a4a3944577365", "NETAPP", "LUN"
    )  # fmt: skip


def test_a_bold_header_from_a_terminal_parses():
    lines = TREE.splitlines()
    bold = "\n".join(["\x1b[1m" + lines[0] + "\x1b[0m", *lines[1:]])
    assert hostnode_multipath.parse_ll(bold) == hostnode_multipath.parse_ll(TREE)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (" \\_ 1:0:1:0 sdd 8:48  [active]", " \\_ 1:0:1:0 sdd [active]", "line 5: a path line"),
        ("\\_ round-robin 0 [active]", "\\_ round-robin 0 [prio=high]", "line 4: a group line"),
        ('[size=41 GB][features="0"][hwhandler="0"]', "[size=41 GB][queue]", "line 3: a size"),
        ("mpath1 (SIBM_____SwapA__________DA02BF71)", " mpath1", "line 2: a map header"),
    ],
)
def test_a_line_shaped_like_the_topology_but_unreadable_is_an_error(old, new, message):
    text = fixture_text("multipath", "checkmk-l-dm-state-only.txt")
    assert old in text
    with pytest.raises(ValueError, match=message):
        hostnode_multipath.parse_ll(text.replace(old, new))


def test_min_paths_decides_health():
    maps = hostnode_multipath.parse_ll(TREE)
    assert hostnode_multipath.health(maps, 2)["mpatha"]["healthy"] is True
    assert hostnode_multipath.health(maps, 3)["mpatha"]["healthy"] is False


@pytest.fixture
def configure_loader_modules(tmp_path):
    return {multipath: salt_dunders(CommandTable(), tmp_path)}


def test_module_reads_saved_output_and_validates(tmp_path):
    source = str(FIXTURES / "multipath/ll-two-paths.txt")
    assert multipath.health(min_paths=2, source=source) == {
        "mpatha": {"paths": 2, "active": 2, "failed": [], "healthy": True}
    }
    with pytest.raises(SaltInvocationError, match="min_paths: 0 is not"):
        multipath.health(min_paths=0, source=source)
    with pytest.raises(SaltInvocationError, match=r"source: .* does not exist"):
        multipath.maps(source=str(tmp_path / "missing"))
    broken = tmp_path / "broken"
    broken.write_text(TREE.splitlines()[0] + "\n")
    with pytest.raises(CommandExecutionError, match="broken: line 1: not multipath -ll or"):
        multipath.maps(source=str(broken))
    assert multipath.__salt__["cmd.run_all"].calls == []


def test_the_beacon_reports_lost_and_regained_paths_only(tmp_path):
    beacon = load_module("beacons", "multipath")
    beacon.__salt__ = {"multipath.events": multipath.events}
    beacon.__context__ = {}
    source = tmp_path / "multipath-ll.txt"
    source.write_text(TREE)
    config = [{"min_paths": 2}, {"source": str(source)}]
    assert beacon.validate(config)[0] is True
    assert beacon.validate([{"min_paths": 0}])[0] is False
    assert beacon.beacon(config) == []  # the first look only records
    assert beacon.beacon(config) == []
    source.write_text(
        TREE.replace(
            "6:0:0:0 sdb 8:16 active ready running", "6:0:0:0 sdb 8:16 failed faulty running"
        )
    )
    assert beacon.beacon(config) == [
        {"tag": "mpatha/lost", "map": "mpatha", "paths": ["sdb"], "active": 1}
    ]
    assert beacon.beacon(config) == []
    source.write_text(TREE)
    assert beacon.beacon(config) == [
        {"tag": "mpatha/regained", "map": "mpatha", "paths": ["sdb"], "active": 2}
    ]


def test_write_metrics_validates_before_writing(tmp_path):
    source = str(FIXTURES / "multipath/ll-two-paths.txt")
    with pytest.raises(SaltInvocationError, match=r"path: 'metrics\.txt' must be an absolute path"):
        multipath.write_metrics("metrics.txt", source=source)
    with pytest.raises(SaltInvocationError, match=r"min_paths: 0 is not"):
        multipath.write_metrics(str(tmp_path / "m.prom"), min_paths=0, source=source)
    assert list(tmp_path.iterdir()) == []


def test_the_check_state_names_the_failed_paths(tmp_path):
    state = load_module("states", "multipath")
    state.__salt__ = {"multipath.health": multipath.health}
    state.__opts__ = {"test": False}
    source = tmp_path / "multipath-ll.txt"
    source.write_text(TREE)
    ok = state.healthy("san", min_paths=2, source=str(source))
    assert ok["result"] is True and ok["changes"] == {}
    source.write_text(
        TREE.replace(
            "6:0:0:0 sdb 8:16 active ready running", "6:0:0:0 sdb 8:16 failed faulty running"
        )
    )
    sick = state.healthy("san", min_paths=2, source=str(source))
    assert (sick["result"], sick["comment"]) == (False, "mpatha: 1/2 active, failed: sdb")
    assert (
        state.healthy("san", maps=["mpathz"], source=str(source))["comment"]
        == "mpathz: no such map"
    )
    source.write_text("")
    assert state.healthy("san", source=str(source))["result"] is True
    none = state.healthy("san", min_maps=1, source=str(source))
    assert (none["result"], none["comment"]) == (False, "0 map(s), 1 expected")
    state.__opts__ = {"test": True}
    assert state.healthy("san", min_maps=1, source=str(source))["result"] is None


def test_the_grain_reads_initiator_and_maps_from_files(tmp_path, monkeypatch):
    grain = load_module("grains", "hostnode_storage")
    monkeypatch.setattr(grain, "SYS_BLOCK", str(tmp_path / "sys-block"))
    monkeypatch.setattr(
        grain, "__opts__", {"hostnode": {"config_root": str(tmp_path)}}, raising=False
    )
    assert grain.hostnode_storage() == {}
    (tmp_path / "etc/iscsi").mkdir(parents=True)
    (tmp_path / "etc/iscsi/initiatorname.iscsi").write_text(
        "InitiatorName=iqn.2026-11.net.example:guest\n"
    )
    for dm, name, uuid in (
        ("dm-0", "mpatha", "mpath-360014059b6fc20151e64750ad190c5c3"),
        ("dm-1", "vg-lv", "LVM-abc"),
    ):
        (tmp_path / "sys-block" / dm / "dm").mkdir(parents=True)
        (tmp_path / "sys-block" / dm / "dm/name").write_text(name + "\n")
        (tmp_path / "sys-block" / dm / "dm/uuid").write_text(uuid + "\n")
    assert grain.hostnode_storage() == {
        "hostnode_iscsi_initiator": "iqn.2026-11.net.example:guest",
        "hostnode_multipath_maps": {"mpatha": "360014059b6fc20151e64750ad190c5c3"},
    }
