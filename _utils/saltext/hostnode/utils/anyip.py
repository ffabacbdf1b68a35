"""
AnyIP: parse the kernel's local routing table and plan the routes that make a whole prefix local.

``ip route add local 192.0.2.0/24 dev lo`` makes the node accept traffic for every address of the
prefix (bind with IP_FREEBIND or to the wildcard address). These functions are pure: the
execution module reads ``ip -details -json route show table all type local`` (both families in
one dump) and runs the planned commands through ``ip -batch -``.
"""

import ipaddress
import json
import random
from typing import NamedTuple

from saltext.hostnode.utils import validate as hostnode_validate


class LocalRoute(NamedTuple):
    """One local route of the local routing table."""

    prefix: ipaddress.IPv4Network | ipaddress.IPv6Network
    device: str
    protocol: str


def parse_routes(text, device=None):
    """
    The local routes of the local table (on device, when given) in ``ip -json route show``
    output, as LocalRoute tuples. Other route types, tables and devices are skipped before any
    prefix is parsed: a node may hold tens of thousands of routes.

    The text is what ``ip -details -json route show table all type local`` prints (each route
    names its table), or several arrays one after the other, as a support bundle that saved
    ``ip -json -4 route show table local`` and ``-6`` holds (there ``ip`` leaves out the table
    it was asked for, and the default protocol)::

        [{"type":"local","dst":"127.0.0.0/8","dev":"lo","protocol":"kernel",
          "scope":"host","prefsrc":"127.0.0.1","flags":[]},
         {"type":"broadcast","dst":"127.255.255.255","dev":"lo","protocol":"kernel",
          "scope":"link","prefsrc":"127.0.0.1","flags":[]},
         {"type":"local","dst":"198.51.100.0/24","dev":"lo","scope":"host","flags":[]}]
        [{"type":"local","dst":"::1","dev":"lo","table":"local","protocol":"kernel",
          "metric":0,"flags":[],"pref":"medium"},
         {"type":"local","dst":"2001:db8::/64","dev":"lo","table":"main","protocol":"boot",
          "metric":1024,"flags":[],"pref":"medium"}]

    gives ``LocalRoute(IPv4Network('127.0.0.0/8'), 'lo', 'kernel')``, then
    ``LocalRoute(IPv4Network('198.51.100.0/24'), 'lo', 'boot')``, then
    ``LocalRoute(IPv6Network('::1/128'), 'lo', 'kernel')``.

    Raises ValueError naming the array and entry when the text is not such output.
    """
    routes = []
    for number, entries in enumerate(_json_documents(text), start=1):
        if not isinstance(entries, list):
            raise ValueError(f"ip route JSON document {number}: expected a list of routes")
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("dst"), str):
                raise ValueError(
                    f"ip route JSON document {number}, route {index}: expected an object with "
                    f"a 'dst' string, got {entry!r}"
                )
            if (
                entry.get("type") == "local"
                and entry.get("table", "local") == "local"
                and device in (None, entry.get("dev"))
            ):
                routes.append(_route(entry, number, index))
    return routes


def _json_documents(text):
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        try:
            document, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ip route JSON: {exc.msg} at line {exc.lineno}") from None
        yield document


def _route(entry, number, index):
    prefix = hostnode_validate.network_of(entry["dst"])
    if prefix is None:
        raise ValueError(
            f"ip route JSON document {number}, route {index}: dst {entry['dst']!r} is not a prefix"
        )
    return LocalRoute(prefix, str(entry.get("dev", "")), str(entry.get("protocol", "boot")))


def local_prefixes(routes, device):
    """All prefixes the kernel treats as local on device, its own address routes included."""
    return {route.prefix for route in routes if route.device == device}


def anyip_prefixes(routes, device):
    """
    The AnyIP prefixes on device: local routes that the kernel did not create for an address.

    The kernel's own routes (``proto kernel``: 127.0.0.0/8, ::1, the host's addresses) are never
    AnyIP routes and are never planned for removal.
    """
    return {
        route.prefix for route in routes if route.device == device and route.protocol != "kernel"
    }


def diff(routes, device, desired, mode):
    """
    Decide which prefixes to add and remove on device.

    mode ``present`` adds the desired prefixes that are not local yet; ``absent`` removes the
    desired ones that are AnyIP routes now; ``managed`` does both and also removes every other
    AnyIP route of the device. Returns ``(to_add, to_remove)``, each sorted.
    """
    desired = set(desired)
    ours = anyip_prefixes(routes, device)
    to_add = set() if mode == "absent" else desired - local_prefixes(routes, device)
    if mode == "absent":
        to_remove = desired & ours
    elif mode == "managed":
        to_remove = ours - desired
    else:
        to_remove = set()
    return hostnode_validate.sorted_networks(to_add), hostnode_validate.sorted_networks(to_remove)


def batch_commands(to_add, to_remove, device):
    """
    The ``ip -batch`` commands for a diff (networks or their text): additions first, so
    service never drops.

    >>> batch_commands([ipaddress.ip_network("192.0.2.0/24")], [], "lo")
    [['route', 'add', 'local', '192.0.2.0/24', 'dev', 'lo', 'table', 'local']]
    """
    add = [["route", "add", "local", str(p), "dev", device, "table", "local"] for p in to_add]
    remove = [["route", "del", "local", str(p), "dev", device, "table", "local"] for p in to_remove]
    return add + remove


def random_address(network, rng=None):
    """
    An address drawn uniformly from all addresses of the prefix (every host bit is random).

    >>> random_address(ipaddress.ip_network("192.0.2.7/32"))
    IPv4Address('192.0.2.7')
    """
    rng = rng or random.SystemRandom()
    return network.network_address + rng.randrange(network.num_addresses)
