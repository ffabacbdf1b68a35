"""
The anyip state and module through Salt's real loaders, against the real kernel of a throwaway
network namespace.
"""

import pytest

pytestmark = pytest.mark.netns

PREFIXES = ["198.51.100.0/24", "2001:db8:100::/64"]


def test_present_makes_both_families_local_and_is_idempotent(loaders, netns, config_root):
    with netns.entered():
        first = loaders.states.anyip.present("anyip", prefixes=PREFIXES, backend="netplan")
        again = loaders.states.anyip.present("anyip", prefixes=PREFIXES, backend="netplan")
    assert first.result is True
    assert first.changes["routes"] == {"added": PREFIXES, "removed": []}
    assert netns.route_type("198.51.100.77") == "local"
    assert netns.route_type("2001:db8:100::dead:beef") == "local"
    assert netns.route_type("198.51.101.1") != "local"
    assert again.result is True and again.changes == {}
    assert (config_root / "etc/netplan/90-hostnode-anyip-lo.yaml").stat().st_mode & 0o777 == 0o600


def test_test_mode_predicts_exactly_what_the_real_run_does(loaders, netns, config_root):
    netns.ip("route", "add", "local", "203.0.113.0/25", "dev", "lo")
    netns.ip("route", "add", "local", "2001:db8:200::/64", "dev", "lo")
    wanted = ["203.0.113.0/25", "198.51.100.0/24"]
    with netns.entered():
        before = netns.local_routes(4) | netns.local_routes(6)
        predicted = loaders.states.anyip.managed(
            "anyip", prefixes=wanted, backend="ifupdown", test=True
        )
        assert netns.local_routes(4) | netns.local_routes(6) == before
        assert not (config_root / "etc").exists()
        real = loaders.states.anyip.managed("anyip", prefixes=wanted, backend="ifupdown")
    assert predicted.result is None and real.result is True
    assert predicted.changes == real.changes
    assert real.changes["routes"] == {
        "added": ["198.51.100.0/24"],
        "removed": ["2001:db8:200::/64"],
    }


def test_managed_prunes_only_our_routes(loaders, netns):
    netns.ip("link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
    netns.ip("link", "set", "veth0", "up")
    netns.ip("addr", "add", "192.0.2.5/24", "dev", "veth0")
    netns.ip("addr", "add", "192.0.2.77/32", "dev", "lo")
    netns.ip("route", "add", "local", "203.0.113.0/25", "dev", "lo")
    kernel_before = {r for r in netns.local_routes(4) | netns.local_routes(6) if r[1] == "kernel"}
    with netns.entered():
        result = loaders.states.anyip.managed("anyip", prefixes=[], persist=False)
    assert result.changes["routes"] == {"added": [], "removed": ["203.0.113.0/25"]}
    after = netns.local_routes(4) | netns.local_routes(6)
    assert after == kernel_before
    assert ("192.0.2.77", "kernel") in after and ("127.0.0.0/8", "kernel") in after


def test_absent_removes_routes_and_the_persisted_file(loaders, netns, config_root):
    with netns.entered():
        loaders.states.anyip.present("anyip", prefixes=PREFIXES, backend="networkd")
        result = loaders.states.anyip.absent("anyip", prefixes=PREFIXES, backend="networkd")
    assert result.changes["routes"] == {"added": [], "removed": PREFIXES}
    assert not (config_root / "etc/systemd/network/10-hostnode-anyip-lo.network").exists()
    assert netns.route_type("198.51.100.77") != "local"


def test_bad_input_fails_cleanly_and_changes_nothing(loaders, netns, config_root):
    with netns.entered():
        before = netns.local_routes(4) | netns.local_routes(6)
        bad_prefix = loaders.states.anyip.present(
            "anyip", prefixes=["198.51.100.0/24", "198.51.100.1/24"], backend="netplan"
        )
        no_device = loaders.states.anyip.present("anyip", prefixes=PREFIXES, device="eth9")
        after = netns.local_routes(4) | netns.local_routes(6)
    assert bad_prefix.result is False
    assert "prefixes[1]: '198.51.100.1/24' has host bits set" in bad_prefix.comment
    assert no_device.result is False and "device: 'eth9' does not exist" in no_device.comment
    assert before == after and not (config_root / "etc").exists()


def test_ipv6_on_a_down_device_is_refused_before_anything_changes(loaders, netns):
    netns.ip("link", "set", "lo", "down")
    with netns.entered():
        result = loaders.states.anyip.present("anyip", prefixes=PREFIXES, persist=False)
    assert result.result is False and "'lo' is down" in result.comment
    assert {protocol for _, protocol in netns.local_routes(4)} == {"kernel"}


def test_module_list_and_random_address(loaders, netns):
    with netns.entered():
        loaders.modules.anyip.add(PREFIXES, persist=False)
        listed = loaders.modules.anyip.list(device="lo")
        address = loaders.modules.anyip.random_address("2001:db8:100::/64")
    assert [r["prefix"] for r in listed] == PREFIXES
    assert netns.route_type(address) == "local"


def test_a_batch_that_fails_halfway_reports_what_the_kernel_holds(loaders, netns):
    # A unicast route of the same prefix in the local table makes the second `route add` fail.
    netns.ip("route", "add", "unicast", "198.51.100.0/24", "dev", "lo", "table", "local")
    wanted = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]
    with netns.entered():
        result = loaders.states.anyip.present("anyip", prefixes=wanted, persist=False)
    assert result.result is False and "File exists" in result.comment
    assert result.changes == {"routes": {"added": ["192.0.2.0/24"], "removed": []}}
    assert netns.route_type("192.0.2.1") == "local" and netns.route_type("203.0.113.1") != "local"


def test_local_routes_of_other_tables_are_not_anyip_routes(loaders, netns):
    netns.ip("route", "add", "local", "203.0.113.0/25", "dev", "lo", "table", "main")
    with netns.entered():
        listed = loaders.modules.anyip.list()
        result = loaders.states.anyip.managed("anyip", prefixes=[], persist=False)
    assert listed == [] and result.changes == {}
    assert netns.route_type("203.0.113.1") == "local"
