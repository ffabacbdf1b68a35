"""
The storage_net formula in the guest (one boot, jobs/storage-net.sh): an LIO target with CHAP
on two portals in two subnets, reached through two NICs; the login on both, one multipath map
with two paths, a blocked portal seen by multipath.health and the beacon within seconds, its
return, a second run without changes, an unreachable third portal failing alone in bounded
time, the CHAP secret in no argv, log or return, and clean.
"""

import json

import guest
import pytest
import yaml

from support import REPO

pytestmark = [pytest.mark.vm, pytest.mark.slow]
TARGET = "iqn.2026-11.net.example:san"
PORTALS = ("192.0.2.1:3260 via ieth-a", "198.51.100.1:3260 via ieth-b")
AMS1 = yaml.safe_load((REPO / "pillar.example/secrets/ams1.sls").read_text())
SECRET = AMS1["hostnode_secrets"]["iscsi"]["ams1-san"]["password"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return guest.job_results("storage-net.sh", tmp_path_factory.mktemp("guest-storage-net"))


def states(results, name):
    """{state id: return} of a state.apply."""
    returns = json.loads(guest.result(results, name))["local"]
    return {key.split("_|-")[1]: value for key, value in returns.items()}


def login_state(results, name):
    return states(results, name)["hostnode-storage-net-iscsi-ams1-san"]


def test_test_mode_predicts_what_the_run_changes(results):
    predicted, applied = (
        states(results, "salt-storage-test.json"),
        states(results, "salt-storage.json"),
    )
    check = predicted.pop("hostnode-storage-net-multipath-healthy")
    assert check["result"] is None and check["comment"].startswith("0 map(s), 1 expected")
    assert all(ret["result"] is not False for ret in predicted.values()), predicted
    assert all(ret["result"] is True for ret in applied.values()), applied
    for sid in ("hostnode-storage-net-iscsi-ams1-san", "hostnode-storage-net-multipath-conf"):
        assert predicted[sid]["changes"] == applied[sid]["changes"]


def test_both_portals_log_in_through_their_own_nics(results):
    changes = login_state(results, "salt-storage.json")["changes"]
    assert sorted(changes) == list(PORTALS)
    first = changes[PORTALS[0]]
    assert first["iface_netdev"] == {"old": None, "new": "stor-a"}
    assert first["record"] == "created" and first["chap"] == "credentials set"
    assert first["session"] == "logged in"
    assert first["settings"]["node.startup"]["new"] == "automatic"
    sessions = guest.result(results, "session-P1.txt")
    assert "Iface Netdev: stor-a" in sessions and "Iface Netdev: stor-b" in sessions


def test_one_map_with_two_active_paths(results):
    health = json.loads(guest.result(results, "health-healthy.json"))["local"]
    assert list(health.values()) == [{"paths": 2, "active": 2, "failed": [], "healthy": True}]
    assert guest.result(results, "multipath.conf").startswith("# Managed by hostnode")
    assert 'find_multipaths "off"' in guest.result(results, "multipath.conf")
    assert states(results, "salt-storage.json")["hostnode-storage-net-multipath-healthy"]["result"]


def test_a_second_run_changes_nothing(results):
    again = states(results, "salt-storage-again.json")
    assert {sid: ret["changes"] for sid, ret in again.items()} == {sid: {} for sid in again}
    assert all(ret["result"] is True for ret in again.values())


def test_an_unreachable_portal_fails_alone_in_bounded_time(results):
    third = login_state(results, "salt-storage-third.json")
    assert third["result"] is False
    assert third["comment"].startswith("1 portal(s) failed: 192.0.2.3:3260 via ieth-a")
    assert not set(third["changes"]) & set(PORTALS)  # the two good portals: nothing to do
    seconds = float(guest.result(results, "third-portal.seconds"))
    assert seconds < 150, f"the run with an unreachable portal took {seconds:.0f} s"


def test_a_blocked_portal_is_seen_within_seconds_and_its_return_too(results):
    lost = float(guest.result(results, "path-lost.seconds"))
    regained = float(guest.result(results, "path-regained.seconds"))
    assert lost < 30 and regained < 60, (lost, regained)
    health = json.loads(guest.result(results, "health-one-failed.json"))["local"]
    (report,) = health.values()
    assert report["active"] == 1 and len(report["failed"]) == 1 and not report["healthy"]
    steps = json.loads(guest.result(results, "beacon.json"))["steps"]
    tags = [[e["tag"].split("/multipath/", 1)[1] for e in step["events"]] for step in steps]
    assert tags[0] == [] and tags[1] == []  # first look, quiet interval
    assert [t.split("/")[1] for t in tags[2]] == ["lost"]
    assert steps[2]["events"][0]["data"]["paths"] == report["failed"]
    assert tags[3] == []  # still failed: nothing new
    assert [t.split("/")[1] for t in tags[4]] == ["regained"]
    assert steps[4]["events"][0]["data"]["active"] == 2


def test_the_chap_secret_is_in_no_argv_log_or_return(results):
    samples = json.loads(guest.result(results, "cmdline-samples.json"))
    assert samples["iscsiadm_seen"] > 0, samples  # the sampler saw iscsiadm running
    assert samples["secret_seen"] == 0, samples
    assert "debug" in guest.result(results, "minion.log").lower()
    assert SECRET not in guest.result(results, "minion.log")
    for name in ("salt-storage-test.json", "salt-storage.json", "salt-storage-again.json",
                 "salt-storage-third.json", "health-healthy.json"):  # fmt: skip
        assert SECRET not in guest.result(results, name), name
    modes = {line.split()[0] for line in guest.result(results, "record-modes.txt").splitlines()}
    assert modes == {"600"}


def test_clean_logs_out_and_removes_the_records_and_multipath_conf(results):
    clean = states(results, "salt-storage-clean.json")
    out = clean["hostnode-storage-net-iscsi-ams1-san-clean"]
    assert out["result"] is True
    assert out["changes"] == {
        portal: {"session": "logged out", "record": "deleted"} for portal in PORTALS
    }
    assert "No active sessions" in guest.result(results, "session-after-clean.txt")
    assert "No such file" in guest.result(results, "multipath-conf-after-clean.txt")
