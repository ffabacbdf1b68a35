import ipaddress

import pytest

from saltext.hostnode.utils import anyip as hostnode_anyip
from support import fixture_text

net = ipaddress.ip_network


def test_fresh_namespace_has_only_kernel_routes():
    routes = hostnode_anyip.parse_routes(fixture_text("ip", "local-table-fresh.txt"))
    assert {r.protocol for r in routes} == {"kernel"}
    assert hostnode_anyip.anyip_prefixes(routes, "lo") == set()
    assert net("::1/128") in hostnode_anyip.local_prefixes(routes, "lo")


def test_anyip_routes_exclude_kernel_routes_and_other_devices():
    routes = hostnode_anyip.parse_routes(fixture_text("ip", "local-table-anyip.txt"))
    assert hostnode_anyip.anyip_prefixes(routes, "lo") == {
        net("203.0.113.0/25"),
        net("192.0.2.9/32"),
        net("2001:db8:200::/64"),
    }
    assert hostnode_anyip.anyip_prefixes(routes, "veth0") == {net("203.0.113.128/26")}


def test_default_protocol_is_boot_and_single_addresses_are_host_prefixes():
    routes = hostnode_anyip.parse_routes(fixture_text("ip", "local-table-anyip.txt"))
    by_prefix = {r.prefix: r for r in routes}
    assert by_prefix[net("203.0.113.0/25")].protocol == "boot"
    assert by_prefix[net("192.0.2.9/32")].protocol == "static"


def test_only_local_routes_of_the_local_table_are_kept():
    saved = hostnode_anyip.parse_routes(fixture_text("ip", "local-table-anyip.txt"))
    dumped = hostnode_anyip.parse_routes(fixture_text("ip", "local-routes-anyip.json"))
    assert net("127.255.255.255/32") not in {r.prefix for r in saved}  # broadcast
    assert net("198.51.100.128/25") not in {r.prefix for r in dumped}  # the main table
    assert set(saved) == set(dumped)


def test_routes_of_other_devices_are_skipped():
    routes = hostnode_anyip.parse_routes(fixture_text("ip", "local-routes-anyip.json"), "veth0")
    assert [r.prefix for r in routes] == [
        net("198.51.100.2/32"),
        net("203.0.113.128/26"),
        net("2001:db8:1::2/128"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[{]", "ip route JSON: Expecting property name"),
        ('{"dst": "192.0.2.0/24"}', "document 1: expected a list"),
        ('[{"type": "local"}]', "document 1, route 0: expected an object with a 'dst'"),
        ('[] [{"type": "local", "dst": "192.0.2.1/24"}]', "document 2, route 0: dst '192.0"),
        ('[{"type": "local", "dst": "default"}]', "dst 'default' is not a prefix"),
    ],
)
def test_malformed_output_names_the_place(text, message):
    with pytest.raises(ValueError, match=message):
        hostnode_anyip.parse_routes(text)


def test_empty_output_is_an_empty_table():
    assert hostnode_anyip.parse_routes("") == []
    assert hostnode_anyip.parse_routes("[]\n\n[]\n") == []
