"""
Bond MAC pinning in the guest (one boot, jobs/bond.sh): the kernel's bond takes the MAC of the
slave enslaved first; after `state.apply bonding` the MAC is the pinned one for both enslave
orders and after simulated reboots from the persisted ifupdown file; the `bond` beacon, run as
the beacon loop runs it, reports a slave going down, the pin lost when every slave is released,
its restoration, and nothing on a quiet interval.
"""

import json

import guest
import pytest

pytestmark = [pytest.mark.vm, pytest.mark.slow]
ETH0, ETH1 = guest.MACS


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return guest.job_results("bond.sh", tmp_path_factory.mktemp("guest-bond"))


def text(results, name):
    return guest.result(results, name).strip()


def salt_return(results, name):
    return json.loads(text(results, name))["local"]


def the_state(results, name):
    (state,) = salt_return(results, name).values()
    return state


def test_without_a_pin_the_mac_follows_the_enslave_order(results):
    assert text(results, "unpinned-eth0-first.mac") == ETH0
    assert text(results, "unpinned-eth1-first.mac") == ETH1


def test_the_state_pins_the_stable_mac_and_test_mode_predicted_it(results):
    pinned = salt_return(results, "stable-mac.json")
    predicted = the_state(results, "salt-bonding-test.json")
    applied = the_state(results, "salt-bonding.json")
    assert predicted["result"] is None and applied["result"] is True, applied["comment"]
    assert predicted["changes"] == applied["changes"]
    assert applied["changes"]["mac"] == {"old": ETH1, "new": pinned}
    assert applied["changes"]["file"]["path"] == "/etc/network/interfaces.d/hostnode-bond-bond0"
    assert text(results, "pinned-live.mac") == pinned
    assert f"hwaddress ether {pinned}" in text(results, "persisted-ifupdown.txt")
    again = the_state(results, "salt-bonding-again.json")
    assert again["result"] is True and again["changes"] == {}


def test_the_pin_holds_across_reboots_in_both_enslave_orders(results):
    pinned = salt_return(results, "stable-mac.json")
    assert text(results, "reboot-eth0-first.mac") == pinned
    assert text(results, "reboot-eth1-first.mac") == pinned


def test_the_beacon_reports_changes_only(results):
    steps = json.loads(text(results, "beacon.json"))["steps"]
    # Salt tags an event salt/beacon/<minion>/bond/ plus the beacon's own tag.
    tags = [sorted(e["tag"].split("/bond/", 1)[1] for e in step["events"]) for step in steps]
    assert tags[0] == [] and tags[1] == []  # first sight and a quiet interval
    assert tags[2] == ["bond0/slave"]
    assert steps[2]["events"][0]["data"]["slave"] == "eth1"
    assert steps[2]["events"][0]["data"]["new"] == "down"
    assert "bond0/mac_lost" in tags[3] and "bond0/no_active_slave" in tags[3]
    assert "bond0/active" in tags[4] and "bond0/mac_lost" not in tags[4]
    assert "bond0/mac_restored" in tags[5]


def test_release_of_every_slave_loses_the_pin_and_the_state_restores_it(results):
    pinned = salt_return(results, "stable-mac.json")
    repin = the_state(results, "salt-bonding-repin.json")
    assert repin["changes"]["mac"]["new"] == pinned
    assert "file" not in repin["changes"]
    assert text(results, "repinned-after-release.mac") == pinned
