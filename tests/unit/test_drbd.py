"""
DRBD and cluster health: the /proc/drbd and drbdsetup status parsers and the hcheck parser on
every fixture, the ganeti module's drbd/health/events/write_metrics, and the ganeti_health
beacon.
"""

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import drbd as hostnode_drbd
from saltext.hostnode.utils import hcheck as hostnode_hcheck
from saltext.hostnode.utils import prometheus as hostnode_prometheus
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

ganeti = load_module("modules", "ganeti")


def _text(tool, case):
    """A fixture without its first line (the line naming its source)."""
    return fixture_text(tool, case).split("\n", 1)[1]


def _saved(tmp_path, tool, case):
    """The path of a copy of a fixture as the tool printed it (without its source line)."""
    path = tmp_path / case
    path.write_text(_text(tool, case))
    return str(path)


def _rows(minors):
    keys = ("minor", "resource", "connection", "role", "peer_role", "disk", "peer_disk",
            "out_of_sync_kib", "sync_percent", "degraded")  # fmt: skip
    return [tuple(m[k] for k in keys) for m in minors]


HEALTHY_8 = [
    (0, None, "Connected", "Primary", "Secondary", "UpToDate", "UpToDate", 0, None, False),
    (1, None, "Connected", "Secondary", "Primary", "UpToDate", "UpToDate", 0, None, False),
]
CASES = {
    "proc-drbd8.txt": [
        (0, None, "Connected", "Primary", "Secondary", "UpToDate", "UpToDate", None, None, False),
        (1, None, "Connected", "Secondary", "Primary", "UpToDate", "UpToDate", None, None, False),
        (4, None, "WFConnection", "Primary", "Unknown", "UpToDate", "DUnknown", None, None, True),
        (5, None, "Connected", "Primary", "Secondary", "UpToDate", "Diskless", None, None, True),
        (6, None, "Connected", "Secondary", "Primary", "Diskless", "UpToDate", None, None, True),
        (7, None, "WFConnection", "Secondary", "Unknown", "UpToDate", "DUnknown", None, None,
         True),
        (8, None, "StandAlone", "Secondary", "Unknown", "UpToDate", "DUnknown", None, None, True),
    ],
    "proc-drbd83.txt": [
        *HEALTHY_8,
        (4, None, "WFConnection", "Primary", "Unknown", "UpToDate", "DUnknown", 0, None, True),
        (5, None, "Connected", "Primary", "Secondary", "UpToDate", "Diskless", 0, None, True),
        (6, None, "Connected", "Secondary", "Primary", "Diskless", "UpToDate", 0, None, True),
        (7, None, "WFConnection", "Secondary", "Unknown", "UpToDate", "DUnknown", 0, None, True),
        (8, None, "StandAlone", "Secondary", "Unknown", "UpToDate", "DUnknown", 0, None, True),
    ],
    "proc-drbd83-sync.txt": [
        *HEALTHY_8,
        (3, None, "SyncTarget", "Primary", "Secondary", "Inconsistent", "UpToDate", 346112, 34.9,
         True),
        (4, None, "WFConnection", "Primary", "Unknown", "UpToDate", "DUnknown", 0, None, True),
    ],
    "proc-drbd83-sync-want.txt": [
        (0, None, "SyncTarget", "Secondary", "Primary", "Inconsistent", "UpToDate", 588416, 44.4,
         True),
    ],
    "proc-drbd84.txt": [
        *HEALTHY_8,
        (4, None, "WFConnection", "Primary", "Unknown", "UpToDate", "DUnknown", 1048320, None,
         True),
        (6, None, "Connected", "Secondary", "Primary", "Diskless", "UpToDate", 0, None, True),
        (8, None, "StandAlone", "Secondary", "Unknown", "UpToDate", "DUnknown", 1048320, None,
         True),
    ],
    "proc-drbd84-sync.txt": [
        (0, None, "StandAlone", "Primary", "Unknown", "UpToDate", "DUnknown", 1048320, None, True),
        (5, None, "SyncSource", "Secondary", "Secondary", "UpToDate", "Inconsistent", 335744,
         68.5, True),
    ],
    "proc-drbd84-lane-connected-primary.txt": [HEALTHY_8[0]],
    "proc-drbd84-lane-connected-secondary.txt": [
        (0, None, "Connected", "Secondary", "Primary", "UpToDate", "UpToDate", 0, None, False),
    ],
    "proc-drbd84-lane-synctarget.txt": [
        (0, None, "SyncTarget", "Secondary", "Primary", "Inconsistent", "UpToDate", 61440, 11.8,
         True),
    ],
    "proc-drbd84-lane-wfconnection.txt": [
        (0, None, "WFConnection", "Primary", "Unknown", "UpToDate", "DUnknown", 0, None, True),
    ],
    "status-pacemaker-connecting.txt": [
        (None, "wwwdata", "Connecting", "Secondary", "Unknown", "Inconsistent", "DUnknown", None,
         None, True),
    ],
    "status-pacemaker-syncsource.txt": [
        (None, "wwwdata", "Connected", "Primary", "Secondary", "UpToDate", "Inconsistent", None,
         None, True),
    ],
    "status-synctarget-done.txt": [
        (None, "one-vm-6967-disk-0", "Connected", "Secondary", "Primary", "Inconsistent",
         "Diskless", None, 3.04, True),
    ],
    "status-verbose-outdated-unconnected.txt": [
        (3194, "one-vm-10154-disk-0", "Unconnected", "Secondary", "Unknown", "Outdated",
         "DUnknown", None, None, True),
    ],
    "status-verbose-statistics-primary.txt": [
        (1, "postgresql", "Connected", "Primary", "Secondary", "UpToDate", "UpToDate", 0, None,
         False),
    ],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_fixture_reads_as_its_minors(case):
    assert _rows(hostnode_drbd.parse(_text("drbd", case))) == CASES[case]


def test_every_fixture_is_covered():
    assert sorted(p.name for p in (FIXTURES / "drbd").glob("*.txt")) == sorted(CASES)


def test_unconfigured_minors_are_left_out_and_volumes_counted():
    minors = hostnode_drbd.parse(_text("drbd", "proc-drbd84.txt"))
    assert 2 not in [m["minor"] for m in minors]
    status = hostnode_drbd.parse(_text("drbd", "status-verbose-statistics-primary.txt"))
    assert (status[0]["resource"], status[0]["volume"]) == ("postgresql", 0)


def test_a_minor_line_that_does_not_read_is_an_error_naming_the_line():
    text = _text("drbd", "proc-drbd84.txt").replace(
        " 6: cs:Connected ro:Secondary/Primary", " 6: cs:Connected ro:Secondary"
    )
    with pytest.raises(ValueError, match=r"^line 12: not a DRBD minor line: '6: cs:Connected"):
        hostnode_drbd.parse(text)


def test_a_counter_that_is_not_a_number_is_an_error_naming_the_line():
    text = _text("drbd", "proc-drbd84.txt").replace("wo:f oos:1048320", "wo:f oos:lots", 1)
    with pytest.raises(ValueError, match=r"^line 10: oos:lots is not a number"):
        hostnode_drbd.parse(text)


def test_status_lines_that_do_not_read_are_errors_naming_the_line():
    text = _text("drbd", "status-pacemaker-syncsource.txt")
    with pytest.raises(ValueError, match=r"^line 1: 'role' is not key:value"):
        hostnode_drbd.parse_status(text.replace("role:Primary", "role"))
    with pytest.raises(ValueError, match=r"^line 1: not a DRBD resource line: 'disk:UpToDate'"):
        hostnode_drbd.parse_status(text.split("\n", 1)[1])
    lines = text.splitlines()
    with pytest.raises(ValueError, match=r"^line 3: a peer volume without a peer"):
        hostnode_drbd.parse_status("\n".join([lines[0], lines[1], lines[3]]))


def test_health_names_each_degraded_minor_and_events_compare_two_looks():
    healthy = hostnode_drbd.health(hostnode_drbd.parse(_text("drbd", "proc-drbd84.txt"))[:2])
    assert healthy == {"healthy": True, "problems": []}
    syncing = hostnode_drbd.health(hostnode_drbd.parse(_text("drbd", "proc-drbd84-sync.txt")))
    assert syncing == {
        "healthy": False,
        "problems": [
            "drbd minor 0: StandAlone Primary/Unknown UpToDate/DUnknown",
            "drbd minor 5: SyncSource Secondary/Secondary UpToDate/Inconsistent, synced 68.5%",
        ],
    }
    assert hostnode_drbd.events(healthy, syncing) == [
        {"tag": "degraded", "problem": p} for p in syncing["problems"]
    ]
    assert hostnode_drbd.events(syncing, healthy) == [
        {"tag": "recovered", "problem": p} for p in syncing["problems"]
    ]
    assert hostnode_drbd.events(syncing, syncing) == []


HCHECK = {
    "n1-failure": (4, 4, True),
    "shared-n1-failure": (0, 1, True),
    "common-suffix": (0, 0, False),
    "two-node-drbd": (0, 1, True),
}


@pytest.mark.parametrize("layout", ["plain", "machine"])
@pytest.mark.parametrize("case", sorted(HCHECK))
def test_hcheck_reads_both_layouts_alike(case, layout):
    report = hostnode_hcheck.parse(_text("hcheck", f"{case}-{layout}.txt"))
    n1_fail, gn1_fail, rebalance = HCHECK[case]
    assert report == {"n1_fail": n1_fail, "conflict_tags": 0, "offline_pri": 0, "offline_sec": 0,
                      "gn1_fail": gn1_fail, "need_rebalance": rebalance}  # fmt: skip


def test_hcheck_without_the_cluster_statistics_is_an_error():
    text = _text("hcheck", "n1-failure-plain.txt").replace("Cluster statistics", "Totals")
    with pytest.raises(ValueError, match="without the cluster's n1_fail"):
        hostnode_hcheck.parse(text)
    with pytest.raises(ValueError, match=r"^line 9: 'x' is not a count"):
        hostnode_hcheck.parse(
            _text("hcheck", "n1-failure-machine.txt").replace("N1_FAIL=4", "N1_FAIL=x")
        )


@pytest.fixture
def configure_loader_modules(tmp_path):
    return {ganeti: salt_dunders(CommandTable(), tmp_path)}


def test_module_reads_saved_output_of_either_layout(tmp_path):
    proc = ganeti.drbd(source=_saved(tmp_path, "drbd", "proc-drbd84.txt"))
    assert _rows(proc) == CASES["proc-drbd84.txt"]
    status = ganeti.drbd(source=_saved(tmp_path, "drbd", "status-verbose-statistics-primary.txt"))
    assert _rows(status) == CASES["status-verbose-statistics-primary.txt"]


def test_module_reads_proc_drbd_and_asks_drbdsetup_on_drbd_9(tmp_path, monkeypatch):
    proc = tmp_path / "drbd"
    monkeypatch.setattr(ganeti, "PROC_DRBD", str(proc))
    assert ganeti.drbd() == []  # no drbd module
    proc.write_text(_text("drbd", "proc-drbd83-sync.txt"))
    assert _rows(ganeti.drbd()) == CASES["proc-drbd83-sync.txt"]
    proc.write_text("version: 9.2.4 (api:2/proto:86-122)\n")
    status = _text("drbd", "status-verbose-outdated-unconnected.txt")
    table = CommandTable({tuple(ganeti.DRBD_STATUS): (0, status, "")})
    monkeypatch.setitem(ganeti.__salt__, "cmd.run_all", table)
    assert _rows(ganeti.drbd()) == CASES["status-verbose-outdated-unconnected.txt"]
    assert table.argvs() == [ganeti.DRBD_STATUS]


def test_a_hung_drbdsetup_is_a_timeout_event(tmp_path, monkeypatch):
    proc = tmp_path / "drbd"
    proc.write_text("version: 9.2.4 (api:2/proto:86-122)\n")
    monkeypatch.setattr(ganeti, "PROC_DRBD", str(proc))
    hung = f"{' '.join(ganeti.DRBD_STATUS)} : Timed out after 10 seconds"
    monkeypatch.setitem(ganeti.__salt__, "cmd.run_all", CommandTable({
        tuple(ganeti.DRBD_STATUS): (1, hung, ""),
    }))  # fmt: skip
    before = {"healthy": True, "problems": []}
    assert ganeti.events(before) == {
        "health": before,
        "events": [{"tag": "timeout", "command": " ".join(ganeti.DRBD_STATUS), "timeout": 10}],
    }


def test_health_adds_hcheck_problems_and_rejects_what_is_not_its_output(tmp_path):
    drbd = _saved(tmp_path, "drbd", "proc-drbd84.txt")
    hcheck = _saved(tmp_path, "hcheck", "n1-failure-machine.txt")
    report = ganeti.health(drbd=drbd, hcheck=hcheck)
    assert report["healthy"] is False
    assert report["problems"][-2:] == [
        "hcheck: 4 nodes not N+1 happy",
        "hcheck: 4 nodes not directly evacuable",
    ]
    healthy = ganeti.health(
        drbd=_saved(tmp_path, "drbd", "status-verbose-statistics-primary.txt"),
        hcheck=_saved(tmp_path, "hcheck", "common-suffix-plain.txt"),
    )
    assert healthy == {"healthy": True, "problems": []}
    with pytest.raises(CommandExecutionError, match="not hcheck output"):
        ganeti.health(drbd=drbd, hcheck=drbd)
    with pytest.raises(CommandExecutionError, match=r"line 1: not /proc/drbd or drbdsetup"):
        ganeti.health(drbd=hcheck)


def test_write_metrics_refuses_a_path_that_is_not_a_prom_file(tmp_path):
    for path in ("relative.prom", str(tmp_path / "x.txt"), None):
        with pytest.raises(SaltInvocationError, match=r"^path: "):
            ganeti.write_metrics(path, source=str(FIXTURES / "drbd/proc-drbd84.txt"))
    assert not list(tmp_path.glob("*.prom"))


def test_the_beacon_reports_changes_only(tmp_path):
    beacon = load_module("beacons", "ganeti_health")
    beacon.__salt__ = {"ganeti.events": ganeti.events}
    beacon.__context__ = {}
    assert beacon.validate([{"drbd": 5}])[0] is False
    assert beacon.validate({"drbd": "x"})[0] is False
    config = [{"drbd": _saved(tmp_path, "drbd", "proc-drbd83.txt")}, {"_beacon_name": "gh"}]
    assert beacon.validate(config)[0] is True
    assert beacon.beacon(config) == []  # the first look only records
    assert beacon.beacon(config) == []
    config[0] = {"drbd": _saved(tmp_path, "drbd", "proc-drbd83-sync.txt")}
    assert beacon.beacon(config) == [
        {"tag": "degraded", "problem": "drbd minor 3: SyncTarget Primary/Secondary "
         "Inconsistent/UpToDate, synced 34.9%"},
        *[{"tag": "recovered", "problem": f"drbd minor {n}: {states}"} for n, states in (
            (5, "Connected Primary/Secondary UpToDate/Diskless"),
            (6, "Connected Secondary/Primary Diskless/UpToDate"),
            (7, "WFConnection Secondary/Unknown UpToDate/DUnknown"),
            (8, "StandAlone Secondary/Unknown UpToDate/DUnknown"),
        )],
    ]  # fmt: skip
    assert beacon.beacon(config) == []


def test_hcheck_metrics_carry_no_empty_label_braces():
    report = hostnode_hcheck.parse(_text("hcheck", "n1-failure-plain.txt"))
    text = hostnode_prometheus.exposition(hostnode_hcheck.render_metrics(report))
    assert "hostnode_ganeti_hcheck_nodes_not_n1_happy 4\n" in text
    assert "{}" not in text
