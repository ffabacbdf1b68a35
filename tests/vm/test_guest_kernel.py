"""
The guest-VM lane: what the host kernel cannot do (bonding, dm-multipath, kernel iSCSI), shown
in a Debian guest booted under qemu, with salt-call running this checkout's modules inside it.
One boot runs the whole job (jobs/kernel-facts.sh); the tests read what it left in /results.
A test passes only on results that came back from a guest that reported its exit code.
"""

import json
import re

import guest
import pytest

pytestmark = [pytest.mark.vm, pytest.mark.slow]


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    return guest.job_results("kernel-facts.sh", tmp_path_factory.mktemp("guest-results"))


def mac(results, name):
    return json.loads(guest.result(results, name))[0]["address"]


def test_bond_takes_the_mac_of_the_slave_enslaved_first(facts):
    eth0, eth1 = mac(facts, "eth0-link.json"), mac(facts, "eth1-link.json")
    assert (eth0, eth1) == guest.MACS
    assert mac(facts, "bond-link-eth0-first.json") == eth0
    assert mac(facts, "bond-link-eth1-first.json") == eth1
    bonding = guest.result(facts, "bonding-eth1-first.txt")
    assert "Bonding Mode: fault-tolerance (active-backup)" in bonding
    assert re.search(r"Currently Active Slave: eth1", bonding)


def test_two_portal_lun_is_one_multipath_map_with_two_paths(facts):
    discovered = guest.result(facts, "iscsiadm-discovery-sendtargets.txt").splitlines()
    assert sorted(line.split(",")[0] for line in discovered) == ["127.0.0.1:3260", "127.0.0.2:3260"]
    sessions = guest.result(facts, "iscsiadm-session.txt").splitlines()
    assert len(sessions) == 2 and all("iqn.2026-11.net.example:san" in s for s in sessions)
    topology = guest.result(facts, "multipath-ll.txt")
    maps = re.findall(r"^(mpath\w+) \((\w+)\) dm-\d+ LIO-ORG", topology, re.MULTILINE)
    assert len(maps) == 1, topology
    assert len(re.findall(r"\d+:\d+:\d+:\d+ sd\w+ \d+:\d+ +active ready running", topology)) == 2


def test_salt_call_applies_the_anyip_formula_in_the_guest(facts):
    (state,) = json.loads(guest.result(facts, "salt-anyip.json"))["local"].values()
    assert state["result"] is True, state["comment"]
    assert state["changes"]["routes"]["added"] == ["198.51.100.0/24", "2001:db8:100::/64"]
    assert state["changes"]["file"]["backend"] == "ifupdown"
    assert json.loads(guest.result(facts, "route-get-anyip.json"))[0]["type"] == "local"


def test_salt_call_tunes_arp_flux_on_the_guest_nics(facts):
    changes = json.loads(guest.result(facts, "salt-arpflux.json"))["local"]
    assert changes["sysctl"]["eth1"]["arp_ignore"] == {"old": 0, "new": 1}
    assert changes["file"]["path"] == "/tmp/image/etc/sysctl.d/90-hostnode-arpflux.conf"
