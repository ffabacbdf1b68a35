"""
The anyip formula as a user runs it: bin/hostnode-call (masterless salt-call over this checkout)
inside a sandbox node, with pillar.example as the pillar.
"""

import pytest

pytestmark = [pytest.mark.netns, pytest.mark.slow]

FRA1 = "node1.fra1.example.net"
AMS1 = "node2.ams1.example.net"


@pytest.fixture
def node(netns, config_root):
    """A sandbox node whose network is configured by ifupdown."""
    (config_root / "etc/network").mkdir(parents=True)
    (config_root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")
    return netns


def only_state(returned):
    (state,) = returned.values()
    return state


def test_formula_applies_the_pillar_prefixes_and_is_idempotent(node, hostnode_call, config_root):
    code, first = hostnode_call(node, "state.apply", "anyip", minion_id=FRA1)
    assert code == 0, first
    assert only_state(first)["changes"]["routes"]["added"] == [
        "198.51.100.0/24",
        "2001:db8:100::/64",
    ]
    assert node.route_type("198.51.100.200") == "local"
    assert node.route_type("2001:db8:100::1") == "local"
    assert (config_root / "etc/network/interfaces.d/hostnode-anyip-lo").exists()
    code, second = hostnode_call(node, "state.apply", "anyip", minion_id=FRA1)
    assert code == 0 and only_state(second)["changes"] == {}


def test_site_override_moves_the_node_to_its_prefixes(node, hostnode_call):
    hostnode_call(node, "state.apply", "anyip", minion_id=FRA1)
    code, predicted = hostnode_call(node, "state.apply", "anyip", "test=True", minion_id=AMS1)
    code, moved = hostnode_call(node, "state.apply", "anyip", minion_id=AMS1)
    assert code == 0
    routes = only_state(moved)["changes"]["routes"]
    assert routes == {
        "added": ["203.0.113.0/25", "2001:db8:200::/64"],
        "removed": ["198.51.100.0/24", "2001:db8:100::/64"],
    }
    assert only_state(predicted)["changes"] == only_state(moved)["changes"]
    assert node.route_type("198.51.100.200") != "local"


def test_clean_removes_every_anyip_route_and_the_file(node, hostnode_call, config_root):
    hostnode_call(node, "state.apply", "anyip", minion_id=FRA1)
    code, cleaned = hostnode_call(node, "state.apply", "anyip.clean", minion_id=FRA1)
    assert code == 0
    assert only_state(cleaned)["changes"]["routes"]["removed"] == [
        "198.51.100.0/24",
        "2001:db8:100::/64",
    ]
    assert not (config_root / "etc/network/interfaces.d/hostnode-anyip-lo").exists()


def test_bad_pillar_fails_with_the_field_and_changes_nothing(node, hostnode_call, tmp_path):
    pillar = tmp_path / "pillar"
    pillar.mkdir()
    (pillar / "top.sls").write_text("base:\n  '*':\n    - anyip\n")
    (pillar / "anyip.sls").write_text(
        "hostnode:\n  anyip:\n    prefixes: [198.51.100.0/24, 2001:db8:100::1/64]\n"
    )
    code, result = hostnode_call(node, "state.apply", "anyip", pillar=pillar)
    assert code != 0
    assert "prefixes[1]: '2001:db8:100::1/64' has host bits set" in only_state(result)["comment"]
    assert node.route_type("198.51.100.200") != "local"
