"""
gnt-cluster verify-disks: the parser on every fixture (Ganeti 2.0 to 3.0 layouts), its problem
lines and metrics, and ganeti.health/events/write_metrics and the ganeti_health beacon reading
it from saved output or running it on the master node only.
"""

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import prometheus as hostnode_prometheus
from saltext.hostnode.utils import verify_disks as hostnode_verify_disks
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

ganeti = load_module("modules", "ganeti")

NODE1 = "7a1f3c52-8a0e-4c55-b7c1-0c6f5d2e9a11"
NODE2 = "d43e2b9c-1f6a-4e0b-9a57-3b8e6c1f7d22"
DISK = "/dev/xenvg/5e0b8f3a-6c2d-4f1e-8b9a-7d3c2e1f0a44.disk0"
UNREACHABLE = "Error 7: Failed to connect to 192.0.2.12 port 1811: Couldn't connect to server"
CANNOT_ACTIVATE = "Failure: command execution error:\nCannot activate block devices"
# Every finding of a Ganeti before 2.5 (one scenario per layout), by kind and subject.
LEGACY = [
    ("node_error", "node2.example.com"),
    ("disks_activated", "inst1.example.com"),
    ("activation_failed", "inst2.example.com"),
    ("not_verifiable", "inst3.example.com"),
    ("missing_volumes", "inst4.example.com"),
]
CASES = {
    "verify-disks-healthy-3.0.txt": [],
    "verify-disks-two-groups-lane-3.0.txt": [],
    "verify-disks-two-groups-queued-3.0.txt": [],
    "verify-disks-four-groups-2.6.2.txt": [],
    "verify-disks-one-group-2.6.0.txt": [],
    "verify-disks-activate-3.0.txt": [("disks_activated", "inst1.example.com")],
    "verify-disks-activate-failed-3.0.txt": [("activation_failed", "inst2.example.com")],
    "verify-disks-node-error-3.0.txt": [
        ("node_error", NODE2),
        ("not_verifiable", "inst3.example.com"),
    ],
    "verify-disks-missing-volumes-3.0.txt": [
        ("node_error", NODE2),
        ("missing_volumes", "inst4.example.com"),
        ("missing_volumes", "inst5.example.com"),
    ],
    "verify-disks-job-failed-3.0.txt": [("job_failed", None)],
    "verify-disks-legacy-v2.0.0.txt": [("node_unreachable", "node2.example.com"), *LEGACY],
    "verify-disks-legacy-v2.3.0.txt": LEGACY,
    "verify-disks-legacy-v2.4.0.txt": LEGACY,
}


def _text(case):
    """A fixture without its first line (the line naming its source)."""
    return fixture_text("ganeti", case).split("\n", 1)[1]


def _saved(tmp_path, case):
    path = tmp_path / case
    path.write_text(_text(case))
    return str(path)


def _kinds(findings):
    return [(f["kind"], f.get("node", f.get("instance"))) for f in findings]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_fixture_reads_as_its_findings(case):
    assert _kinds(hostnode_verify_disks.parse(_text(case))) == CASES[case]


def test_every_fixture_is_covered():
    found = sorted(p.name for p in (FIXTURES / "ganeti").glob("verify-disks-*.txt"))
    assert found == sorted(CASES)


def test_missing_volumes_name_node_path_and_broken_node():
    findings = hostnode_verify_disks.parse(_text("verify-disks-missing-volumes-3.0.txt"))
    assert findings[1:] == [
        {"kind": "missing_volumes", "instance": "inst4.example.com", "volumes": [
            {"node": NODE1, "path": f"{DISK}_data", "broken_node": False},
            {"node": NODE2, "path": f"{DISK}_meta", "broken_node": True},
        ]},
        {"kind": "missing_volumes", "instance": "inst5.example.com", "volumes": [
            {"node": NODE1, "path": "/dev/xenvg/inst5.disk1", "broken_node": False},
        ]},
    ]  # fmt: skip


def test_errors_over_several_lines_stay_one_error_and_a_failed_activation_replaces_its_start():
    (failed,) = hostnode_verify_disks.parse(_text("verify-disks-activate-failed-3.0.txt"))
    assert failed == {"kind": "activation_failed", "instance": "inst2.example.com",
                      "error": CANNOT_ACTIVATE}  # fmt: skip
    (job,) = hostnode_verify_disks.parse(_text("verify-disks-job-failed-3.0.txt"))
    assert job["error"].splitlines() == [
        "Failure: prerequisites not met for this operation:",
        "error type: wrong_state, error details:",
        "Instances in node group 'rack2' changed since locks were acquired, wanted "
        "'inst1.example.com, inst2.example.com', have 'inst1.example.com'; retry the operation",
    ]


def test_a_line_it_does_not_print_is_an_error_naming_the_line():
    text = _text("verify-disks-healthy-3.0.txt").replace("No disks", "Nothing")
    with pytest.raises(ValueError, match=r"^line 3: not a line of gnt-cluster verify-disks: "):
        hostnode_verify_disks.parse(text)
    with pytest.raises(ValueError, match=r"^line 1: "):
        hostnode_verify_disks.parse("Cannot communicate with the master daemon.\n")


def test_problems_are_one_line_each_and_stable_while_a_node_stays_down():
    findings = hostnode_verify_disks.parse(_text("verify-disks-node-error-3.0.txt"))
    assert hostnode_verify_disks.problems(findings) == [
        f"verify-disks: node {NODE2}: {UNREACHABLE}",
        "verify-disks: instance inst3.example.com cannot be verified, it lives on broken nodes",
    ]
    later = _text("verify-disks-node-error-3.0.txt").replace(" ms:", "1 ms:")
    assert hostnode_verify_disks.problems(hostnode_verify_disks.parse(later)) == (
        hostnode_verify_disks.problems(findings)
    )
    missing = hostnode_verify_disks.parse(_text("verify-disks-missing-volumes-3.0.txt"))
    assert hostnode_verify_disks.problems(missing)[1] == (
        f"verify-disks: instance inst4.example.com misses logical volumes: {DISK}_data on "
        f"{NODE1}, {DISK}_meta on broken node {NODE2}"
    )


def test_metrics_count_each_kind_zero_included():
    findings = hostnode_verify_disks.parse(_text("verify-disks-missing-volumes-3.0.txt"))
    text = hostnode_prometheus.exposition(hostnode_verify_disks.render_metrics(findings))
    assert 'hostnode_ganeti_verify_disks_problems{kind="missing_volumes"} 2\n' in text
    assert 'hostnode_ganeti_verify_disks_problems{kind="node_error"} 1\n' in text
    assert 'hostnode_ganeti_verify_disks_problems{kind="job_failed"} 0\n' in text
    assert text.count("hostnode_ganeti_verify_disks_problems{") == len(hostnode_verify_disks.KINDS)


MASTER = "node1.example.com"


@pytest.fixture
def configure_loader_modules(tmp_path):
    dunders = salt_dunders(CommandTable(), tmp_path)
    return {ganeti: {**dunders, "__grains__": {"id": MASTER, "fqdn": MASTER}}}


def _master_is(tmp_path, name):
    ssconf = tmp_path / "var/lib/ganeti"
    ssconf.mkdir(parents=True, exist_ok=True)
    (ssconf / "ssconf_master_node").write_text(f"{name}\n")


def _answering(monkeypatch, *answers):
    table = CommandTable({tuple(ganeti.VERIFY_DISKS): list(answers)})
    monkeypatch.setitem(ganeti.__salt__, "cmd.run_all", table)
    return table


def _no_drbd(tmp_path, monkeypatch):
    monkeypatch.setattr(ganeti, "PROC_DRBD", str(tmp_path / "no-drbd"))


def test_health_reads_saved_verify_disks_output(tmp_path, monkeypatch):
    _no_drbd(tmp_path, monkeypatch)
    table = _answering(monkeypatch)
    report = ganeti.health(verify_disks=_saved(tmp_path, "verify-disks-activate-3.0.txt"))
    assert report == {"healthy": False, "problems": [
        "verify-disks: instance inst1.example.com: its disks were not active, now activated",
    ]}  # fmt: skip
    assert table.argvs() == []
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$y$j9T$8wzSECRETHASHq1:19700:0:99999:7:::\n")
    with pytest.raises(CommandExecutionError, match=r"line 1: not gnt-cluster verify-disks") as e:
        ganeti.health(verify_disks=str(shadow))
    assert "SECRET" not in str(e.value)


def test_health_runs_verify_disks_on_the_master_only(tmp_path, monkeypatch):
    _no_drbd(tmp_path, monkeypatch)
    text = _text("verify-disks-node-error-3.0.txt")
    table = _answering(monkeypatch, (1, text, ""))
    assert ganeti.health() == {"healthy": True, "problems": []}  # no cluster: not asked
    _master_is(tmp_path, "node2.example.com")
    assert ganeti.health() == {"healthy": True, "problems": []}  # another node is the master
    assert table.argvs() == []
    _master_is(tmp_path, MASTER)
    assert ganeti.health()["problems"] == [
        f"verify-disks: node {NODE2}: {UNREACHABLE}",
        "verify-disks: instance inst3.example.com cannot be verified, it lives on broken nodes",
    ]
    assert table.argvs() == [ganeti.VERIFY_DISKS]


def test_a_verify_disks_that_fails_is_an_error_with_its_words(tmp_path, monkeypatch):
    _no_drbd(tmp_path, monkeypatch)
    _master_is(tmp_path, MASTER)
    said = "Cannot communicate with the master daemon.\nIs the master daemon running?"
    _answering(monkeypatch, (1, "", said))
    with pytest.raises(CommandExecutionError, match=r"verify-disks exited 1: Cannot commun"):
        ganeti.health()


def test_a_hung_verify_disks_is_a_timeout_event(tmp_path, monkeypatch):
    _no_drbd(tmp_path, monkeypatch)
    _master_is(tmp_path, MASTER)
    hung = f"{' '.join(ganeti.VERIFY_DISKS)} : Timed out after 60 seconds"
    _answering(monkeypatch, (1, hung, ""))
    before = {"healthy": True, "problems": []}
    assert ganeti.events(before) == {"health": before, "events": [
        {"tag": "timeout", "command": "gnt-cluster verify-disks", "timeout": 60},
    ]}  # fmt: skip


@pytest.mark.parametrize("configured, limit", [(None, 60), (300, 300)])
def test_the_verify_disks_limit_is_60_s_unless_pillar_sets_one(tmp_path, monkeypatch, configured,
                                                              limit):  # fmt: skip
    _no_drbd(tmp_path, monkeypatch)
    _master_is(tmp_path, MASTER)
    limits = []

    def run_all(argv, timeout=None, **_options):
        limits.append(timeout)
        return {"retcode": 0, "stdout": _text("verify-disks-healthy-3.0.txt"), "stderr": ""}

    config = {"hostnode:config_root": str(tmp_path),
              "hostnode:node:ganeti:verify_disks_timeout": configured}  # fmt: skip
    monkeypatch.setitem(ganeti.__salt__, "cmd.run_all", run_all)
    monkeypatch.setitem(ganeti.__salt__, "config.get", lambda key, default=None: config[key])
    assert ganeti.health() == {"healthy": True, "problems": []}
    assert limits == [limit]


@pytest.mark.parametrize("configured", [0, "60", True])
def test_a_bad_verify_disks_limit_is_refused_naming_the_field(tmp_path, monkeypatch, configured):
    _no_drbd(tmp_path, monkeypatch)
    _master_is(tmp_path, MASTER)
    table = _answering(monkeypatch)
    config = {"hostnode:config_root": str(tmp_path),
              "hostnode:node:ganeti:verify_disks_timeout": configured}  # fmt: skip
    monkeypatch.setitem(ganeti.__salt__, "config.get", lambda key, default=None: config[key])
    with pytest.raises(SaltInvocationError, match=r"^hostnode:node:ganeti:verify_disks_timeout: "):
        ganeti.health()
    assert table.argvs() == []


def test_write_metrics_has_the_family_on_the_master_or_from_saved_output(tmp_path, monkeypatch):
    _no_drbd(tmp_path, monkeypatch)
    path = tmp_path / "hostnode_ganeti.prom"
    ganeti.write_metrics(str(path))
    assert "verify_disks" not in path.read_text()
    _master_is(tmp_path, MASTER)
    _answering(monkeypatch, (0, _text("verify-disks-healthy-3.0.txt"), ""))
    ganeti.write_metrics(str(path))
    assert 'hostnode_ganeti_verify_disks_problems{kind="node_error"} 0\n' in path.read_text()
    saved = _saved(tmp_path, "verify-disks-legacy-v2.0.0.txt")
    ganeti.write_metrics(str(path), verify_disks=saved)
    assert 'hostnode_ganeti_verify_disks_problems{kind="node_unreachable"} 1\n' in (
        path.read_text()
    )


def test_the_beacon_reports_verify_disks_findings_as_they_come_and_go(tmp_path, monkeypatch):
    _no_drbd(tmp_path, monkeypatch)
    beacon = load_module("beacons", "ganeti_health")
    beacon.__salt__ = {"ganeti.events": ganeti.events}
    beacon.__context__ = {}
    assert beacon.validate([{"verify_disks": 1}])[0] is False
    assert beacon.validate([{"verify_disks": True}])[0] is True
    config = [{"verify_disks": _saved(tmp_path, "verify-disks-healthy-3.0.txt")}]
    assert beacon.validate(config)[0] is True
    assert beacon.beacon(config) == []
    config[0] = {"verify_disks": _saved(tmp_path, "verify-disks-activate-failed-3.0.txt")}
    problem = ("verify-disks: instance inst2.example.com: activating its disks failed: "
               "Failure: command execution error: Cannot activate block devices")  # fmt: skip
    assert beacon.beacon(config) == [{"tag": "degraded", "problem": problem}]
    assert beacon.beacon(config) == []
    config[0] = {"verify_disks": _saved(tmp_path, "verify-disks-healthy-3.0.txt")}
    assert beacon.beacon(config) == [{"tag": "recovered", "problem": problem}]


def test_the_beacon_runs_verify_disks_on_the_master_only_when_asked(tmp_path, monkeypatch):
    _no_drbd(tmp_path, monkeypatch)
    _master_is(tmp_path, MASTER)
    ran = _answering(monkeypatch, (0, _text("verify-disks-activate-3.0.txt"), ""))
    beacon = load_module("beacons", "ganeti_health")
    beacon.__salt__ = {"ganeti.events": ganeti.events}
    beacon.__context__ = {}
    assert beacon.beacon([{"interval": 5}]) == []
    assert beacon.beacon([{"interval": 5}]) == [] and ran.calls == []
    asked = [{"interval": 5}, {"verify_disks": True}]
    problem = "verify-disks: instance inst1.example.com: its disks were not active, now activated"
    assert beacon.beacon(asked) == [{"tag": "degraded", "problem": problem}]
    assert ran.argvs() == [ganeti.VERIFY_DISKS]
