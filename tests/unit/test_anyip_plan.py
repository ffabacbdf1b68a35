import ipaddress
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saltext.hostnode.utils import anyip as hostnode_anyip
from support import fixture_text

net = ipaddress.ip_network
ROUTES = hostnode_anyip.parse_routes(fixture_text("ip", "local-table-anyip.txt"))


def plan(desired, mode, device="lo", routes=ROUTES):
    to_add, to_remove = hostnode_anyip.diff(routes, device, [net(p) for p in desired], mode)
    return hostnode_anyip.batch_commands(to_add, to_remove, device)


def test_managed_adds_missing_and_removes_only_our_other_routes():
    assert plan(["203.0.113.0/25", "198.51.100.0/24", "2001:db8:300::/48"], "managed") == [
        ["route", "add", "local", "198.51.100.0/24", "dev", "lo", "table", "local"],
        ["route", "add", "local", "2001:db8:300::/48", "dev", "lo", "table", "local"],
        ["route", "del", "local", "192.0.2.9/32", "dev", "lo", "table", "local"],
        ["route", "del", "local", "2001:db8:200::/64", "dev", "lo", "table", "local"],
    ]


def test_managed_empty_set_removes_every_anyip_route_and_no_kernel_route():
    assert plan([], "managed") == [
        ["route", "del", "local", "192.0.2.9/32", "dev", "lo", "table", "local"],
        ["route", "del", "local", "203.0.113.0/25", "dev", "lo", "table", "local"],
        ["route", "del", "local", "2001:db8:200::/64", "dev", "lo", "table", "local"],
    ]


def test_present_when_everything_is_there_is_empty():
    assert plan(["203.0.113.0/25", "2001:db8:200::/64"], "present") == []


def test_present_never_removes():
    assert plan(["198.51.100.0/24"], "present") == [
        ["route", "add", "local", "198.51.100.0/24", "dev", "lo", "table", "local"],
    ]


def test_kernel_local_routes_count_as_present_and_are_never_removed():
    assert plan(["127.0.0.0/8", "::1/128"], "present") == []
    assert plan(["127.0.0.0/8", "::1/128", "127.0.0.1/32"], "absent") == []
    assert plan(["198.51.100.2/32"], "managed", device="veth0") == [
        ["route", "del", "local", "203.0.113.128/26", "dev", "veth0", "table", "local"],
    ]


def test_absent_removes_only_listed_anyip_routes():
    assert plan(["203.0.113.0/25", "198.51.100.0/24"], "absent") == [
        ["route", "del", "local", "203.0.113.0/25", "dev", "lo", "table", "local"],
    ]


def apply(routes, commands):
    """A model of the kernel: what the local table holds after the batch."""
    table = {(r.prefix, r.device): r for r in routes}
    for command in commands:
        key = (net(command[3]), command[5])
        if command[1] == "add":
            assert key not in table, f"adding {key} that exists would fail"
            table[key] = hostnode_anyip.LocalRoute(key[0], key[1], "boot")
        else:
            assert table.pop(key).protocol != "kernel"
    return list(table.values())


prefixes = st.one_of(
    st.builds(
        lambda a, n: net(f"198.51.100.{a}/32").supernet(new_prefix=n),
        st.integers(0, 255),
        st.integers(24, 32),
    ),
    st.builds(
        lambda a, n: net(f"2001:db8::{a:x}/128").supernet(new_prefix=n),
        st.integers(0, 0xFFFF),
        st.integers(64, 128),
    ),
)


@given(
    current=st.lists(prefixes, max_size=12),
    desired=st.lists(prefixes, max_size=12),
    mode=st.sampled_from(["present", "absent", "managed"]),
)
def test_applying_a_plan_converges_in_one_step(current, desired, mode):
    routes = [hostnode_anyip.LocalRoute(p, "lo", "boot") for p in set(current)]
    routes += hostnode_anyip.parse_routes(fixture_text("ip", "local-table-fresh.txt"))
    after = apply(routes, plan([str(p) for p in desired], mode, routes=routes))
    assert plan([str(p) for p in desired], mode, routes=after) == []
    ours = hostnode_anyip.anyip_prefixes(after, "lo")
    if mode == "managed":
        assert ours == set(desired) - {net("127.0.0.0/8"), net("127.0.0.1/32"), net("::1/128")}
    elif mode == "absent":
        assert not ours & set(desired)


def test_random_address_covers_every_host_bit_uniformly():
    network = net("203.0.113.16/28")
    rng = random.Random(7)
    counts = {}
    for _ in range(16000):
        address = hostnode_anyip.random_address(network, rng)
        assert address in network
        counts[address] = counts.get(address, 0) + 1
    assert len(counts) == 16
    assert min(counts.values()) > 850 and max(counts.values()) < 1150


def test_random_ipv6_address_draws_high_and_low_host_bits():
    network = net("2001:db8:100::/64")
    rng = random.Random(11)
    addresses = [hostnode_anyip.random_address(network, rng) for _ in range(64)]
    assert all(a in network for a in addresses)
    host = [int(a) & ((1 << 64) - 1) for a in addresses]
    assert any(h >> 63 for h in host) and any(h & 1 for h in host)


@pytest.mark.parametrize("prefix", ["192.0.2.7/32", "2001:db8::7/128"])
def test_random_address_of_a_host_prefix_is_that_address(prefix):
    assert hostnode_anyip.random_address(net(prefix)) == net(prefix).network_address
