"""The beancounters parser on published real files, and the module, states, beacon and grain
over source files rewritten between calls (no OpenVZ kernel runs here)."""

import json
import re

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import beancounters as hostnode_beancounters
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

beancounters = load_module("modules", "beancounters")
beancounters_state = load_module("states", "beancounters")
LAYOUTS = {
    "openvz-wiki-ct123-32bit.txt": "123",
    "scout-container-9833.txt": "9833",
    "scout-host-0.txt": "0",
    "forum-ct70160-failcnt.txt": "70160",
    "virtuozzo-kb-ct331-glued.txt": "331",
}


def parse(case):
    return hostnode_beancounters.parse(fixture_text("beancounters", case))


@pytest.mark.parametrize(("case", "ctid"), sorted(LAYOUTS.items()))
def test_every_published_layout_gives_24_resources_minus_dummies(case, ctid):
    containers = parse(case)
    assert list(containers) == [ctid]
    assert len(containers[ctid]) == 20  # 24 rows, of which 4 are dummy
    assert "dummy" not in containers[ctid]


def test_32_bit_unlimited_and_pages_in_bytes():
    physpages = parse("openvz-wiki-ct123-32bit.txt")["123"]["physpages"]
    assert physpages == {
        "held": 2267,
        "maxheld": 2399,
        "barrier": 0,
        "limit": None,
        "failcnt": 0,
        "held_bytes": 2267 * 4096,
        "maxheld_bytes": 2399 * 4096,
        "barrier_bytes": 0,
        "limit_bytes": None,
    }


def test_64_bit_host_view_is_all_unlimited():
    host = parse("scout-host-0.txt")["0"]
    assert all(v["barrier"] is None and v["limit"] is None for v in host.values())
    assert host["numproc"]["held"] == 152


def test_glued_ctid_and_failures():
    assert parse("virtuozzo-kb-ct331-glued.txt")["331"]["kmemsize"]["held"] == 2952339
    assert hostnode_beancounters.failures(parse("forum-ct70160-failcnt.txt")) == {
        "70160": {"shmpages": 9569}
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kmemsize 1 2 3 4 0\n", "line 1: a resource before any '<ctid>:'"),
        ("101: kmemsize 1 2 3 4\n", "line 1: expected a resource and 5 numbers"),
        ("101: kmemsize 1 2 three 4 0\n", "line 1: kmemsize: not all of"),
        ("101: KMEM 1 2 3 4 0\n", "line 1: 'KMEM' is not a resource name"),
        ("\x00\xff garbage\n", "line 1:"),
    ],
)
def test_bad_input_names_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        hostnode_beancounters.parse(text)


def test_a_node_with_three_containers_and_failures():
    containers = parse("ubc-monitor-three-ct-failcnt.txt")
    assert list(containers) == ["101", "102", "103"]
    assert hostnode_beancounters.failures(containers) == {
        "101": {"kmemsize": 3, "lockedpages": 4, "numpty": 13},
        "102": {"dgramrcvbuf": 345},
    }
    two = hostnode_beancounters.counters(containers)
    del two["103"]  # 103 stopped; 101 failed once more on numpty
    two["101"]["numpty"] = 14
    assert hostnode_beancounters.delta(hostnode_beancounters.counters(containers), two) == {
        "101": {"numpty": 1}
    }


def test_delta_across_growth_reset_new_and_vanished_containers():
    before = {"101": {"tcpsndbuf": 10, "numproc": 5}, "102": {"numproc": 1}}
    after = {"101": {"tcpsndbuf": 25, "numproc": 2}, "103": {"numproc": 4}}
    assert hostnode_beancounters.delta(before, after) == {
        "101": {"tcpsndbuf": 15, "numproc": 2},  # numproc restarted at 0 and reached 2
        "103": {"numproc": 4},
    }
    assert hostnode_beancounters.delta(after, after) == {}


def test_near_limit_uses_the_limit_when_the_barrier_is_unlimited_or_zero():
    containers = parse("forum-ct70160-failcnt.txt")
    near = hostnode_beancounters.near_limit(containers, 0.9)["70160"]
    assert near["shmpages"] == {
        "value": "held",
        "of": "barrier",
        "bound": 120000,
        "fraction": 0.9995,
    }
    assert "physpages" not in near  # barrier 0, limit unlimited: never near


def test_vzctl_plan_only_what_differs_one_call_per_container():
    containers = parse("openvz-wiki-ct123-32bit.txt")
    wanted = {"numproc": (65, 65), "tcpsndbuf": (1720320, 2703360), "physpages": (0, None)}
    assert hostnode_beancounters.set_limits_argv("123", wanted, containers) == [
        "vzctl", "set", "123", "--save", "--tcpsndbuf", "1720320:2703360"
    ]  # fmt: skip
    unchanged = {"numproc": (65, 65), "physpages": (0, None)}
    assert hostnode_beancounters.set_limits_argv("123", unchanged, containers) is None


def test_metrics_leave_unlimited_out():
    text = hostnode_beancounters.render_metrics(parse("forum-ct70160-failcnt.txt"))
    assert text.count("# TYPE hostnode_beancounter_failcnt_total counter") == 1
    assert 'hostnode_beancounter_failcnt_total{container="70160",resource="shmpages"} 9569' in text
    assert 'hostnode_beancounter_limit{container="70160",resource="physpages"}' not in text
    assert 'hostnode_beancounter_barrier{container="70160",resource="physpages"} 0' in text


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "user_beancounters"
    path.write_text(fixture_text("beancounters", "forum-ct70160-failcnt.txt"))
    return path


def set_failcnt(source, resource, count):
    lines = []
    for line in source.read_text().splitlines():
        words = line.split()
        lines.append(" ".join([*words[:-1], str(count)]) if resource in words[:2] else line)
    source.write_text("\n".join(lines) + "\n")


@pytest.fixture
def configure_loader_modules(tmp_path):
    dunders = salt_dunders(CommandTable(), tmp_path)
    dunders["__opts__"] = {"cachedir": str(tmp_path / "cache"), "test": False}
    for name in ("delta", "set_limits", "read"):
        dunders["__salt__"][f"beancounters.{name}"] = getattr(beancounters, name)
    return {beancounters: dunders, beancounters_state: dunders}


def test_delta_keeps_its_baseline_in_the_cache_atomically(source, tmp_path):
    assert beancounters.delta(source=str(source)) == {"70160": {"shmpages": 9569}}
    assert beancounters.delta(source=str(source)) == {}
    set_failcnt(source, "tcpsndbuf", 3)
    assert beancounters.delta(source=str(source)) == {"70160": {"tcpsndbuf": 3}}
    saved = tmp_path / "cache/hostnode/beancounters-delta.json"
    assert json.loads(saved.read_text())["70160"]["tcpsndbuf"] == 3
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    set_failcnt(source, "shmpages", 2)  # the container restarted
    assert beancounters.delta(source=str(source)) == {"70160": {"shmpages": 2}}


def test_the_check_state_fails_on_growth_and_test_mode_keeps_the_baseline(source):
    first = beancounters_state.no_new_failures("ubc", source=str(source))
    assert first["result"] is False and "shmpages +9569" in first["comment"]
    assert beancounters_state.no_new_failures("ubc", source=str(source))["result"] is True
    set_failcnt(source, "numproc", 7)
    beancounters_state.__opts__["test"] = True
    dry = beancounters_state.no_new_failures("ubc", source=str(source))
    beancounters_state.__opts__["test"] = False
    real = beancounters_state.no_new_failures("ubc", source=str(source))
    assert dry == real and real["comment"] == "failcnt grew: 70160: numproc +7"
    assert real["changes"] == {}


def test_the_beacon_reports_growth_and_crossings_only(source):
    beacon = load_module("beacons", "beancounters")
    beacon.__salt__ = {"beancounters.events": beancounters.events}
    beacon.__context__ = {}
    config = [{"threshold": 0.9}, {"source": str(source)}]
    assert beacon.validate(config)[0] is True
    assert beacon.validate([{"threshold": 2}])[0] is False
    assert beacon.beacon(config) == []  # the first call only records
    assert beacon.beacon(config) == []
    set_failcnt(source, "tcpsndbuf", 4)
    assert beacon.beacon(config) == [
        {"tag": "70160/tcpsndbuf/failcnt", "ctid": "70160", "resource": "tcpsndbuf", "growth": 4,
         "failcnt": 4}
    ]  # fmt: skip
    set_failcnt(source, "tcpsndbuf", 1)  # a restart, then one failure
    assert [e["growth"] for e in beacon.beacon(config)] == [1]
    source.write_text(source.read_text().replace("numproc 50 50 2400", "numproc 50 2300 2400"))
    assert [e["tag"] for e in beacon.beacon(config)] == ["70160/numproc/near_limit"]
    source.write_text("Version: 2.5\n")  # the container stopped
    assert beacon.beacon(config) == []


def test_two_configured_beacons_keep_their_own_last_look(source, tmp_path):
    beacon = load_module("beacons", "beancounters")
    beacon.__salt__ = {"beancounters.events": beancounters.events}
    beacon.__context__ = {}
    other = tmp_path / "other_user_beancounters"
    other.write_text(source.read_text())
    # beacon_module: beancounters twice; Salt appends each one's name to its config.
    first = [{"source": str(source)}, {"_beacon_name": "ct_a"}]
    second = [{"source": str(other)}, {"_beacon_name": "ct_b"}]
    set_failcnt(other, "tcpsndbuf", 99)
    assert beacon.beacon(first) == beacon.beacon(second) == []  # each first look only records
    set_failcnt(source, "tcpsndbuf", 1)
    assert [e["growth"] for e in beacon.beacon(first)] == [1]
    assert beacon.beacon(second) == []


def test_set_limits_bad_input_names_the_field(source, monkeypatch):
    monkeypatch.setattr(beancounters, "PROC", str(source))
    cases = [
        ("abc", {"numproc": 10}, "ctid: 'abc' is not a container id"),
        ("70160", {"Numproc": 10}, "limits: 'Numproc' is not a beancounter resource"),
        ("70160", {"numproc": "20:10"}, "limits.numproc: the barrier 20 is above the limit 10"),
        ("70160", {"numproc": "lots"}, "limits.numproc: 'lots' is not 'barrier:limit'"),
        ("999", {"numproc": 10}, "ctid: container 999 is not running"),
    ]
    for ctid, limits, message in cases:
        with pytest.raises(SaltInvocationError, match=message):
            beancounters.set_limits(ctid, limits)
    assert beancounters.__salt__["cmd.run_all"].calls == []


def test_limits_state_predicts_and_needs_vzctl(source, monkeypatch):
    monkeypatch.setattr(beancounters, "PROC", str(source))
    beancounters_state.__opts__["test"] = True
    ret = beancounters_state.limits("ubc", {70160: {"numproc": "2400:2400", "shmpages": "131072"}})
    beancounters_state.__opts__["test"] = False
    assert ret["result"] is None
    assert ret["changes"] == {
        "70160": {"shmpages": {"old": "120000:120000", "new": "131072:131072"}}
    }
    monkeypatch.setattr(beancounters.salt.utils.path, "which", lambda name: None)
    failed = beancounters_state.limits("ubc", {70160: {"shmpages": "131072"}})
    assert failed["result"] is False and failed["comment"] == "vzctl is not installed on this node"


def test_read_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken"
    broken.write_text("101: kmemsize 1 2\n")
    with pytest.raises(CommandExecutionError, match=f"{broken}: line 1"):
        beancounters.read(source=str(broken))
    with pytest.raises(SaltInvocationError, match=r"source: .* does not exist"):
        beancounters.read(source=str(tmp_path / "missing"))


def test_the_grain_tells_hardware_node_container_or_nothing(tmp_path, monkeypatch):
    grain = load_module("grains", "hostnode_openvz")
    monkeypatch.setattr(grain, "PROC", str(tmp_path))
    assert grain.hostnode_openvz() == {}
    (tmp_path / "user_beancounters").write_text(
        fixture_text("beancounters", "scout-container-9833.txt")
    )
    assert grain.hostnode_openvz() == {"hostnode_openvz": {"role": "container"}}
    (tmp_path / "vz").mkdir()
    host = fixture_text("beancounters", "scout-host-0.txt")
    (tmp_path / "user_beancounters").write_text(
        host + (FIXTURES / "beancounters/scout-container-9833.txt").read_text().split("\n", 2)[2]
    )
    assert grain.hostnode_openvz() == {
        "hostnode_openvz": {"role": "hardware_node", "containers": ["9833"]}
    }


def test_baseline_names_of_state_ids_are_valid_readable_and_distinct():
    ids = ["ubc", "openvz no new failures", "openvz/no new failures", "openvz_no_new_failures"]
    names = [hostnode_beancounters.baseline_name(state_id) for state_id in ids]
    assert len(set(names)) == len(ids)
    assert all(re.match(r"^[\w.-]{1,59}$", name, re.ASCII) for name in names)
    assert names[1].startswith("state-openvz_no_new_failures-")
    assert len(hostnode_beancounters.baseline_name("x" * 300)) == 59
