"""
Validators shared by hostnode's modules and states.

Every validator names the field it checks, so a bad pillar value or CLI argument fails with a
message the user can act on (``prefixes[2]: '192.0.2.1/24' has host bits set``), and it fails
before anything on the node is touched.
"""

import ipaddress
import re
import socket

from salt.exceptions import SaltInvocationError

# The kernel's rule (net/core/dev.c dev_valid_name) is 1..15 bytes, not "." or "..", no "/",
# ":" or whitespace. hostnode is stricter: names also go into ifupdown, netplan and networkd
# files and argv, so no shell metacharacters and no leading "-" (it would read as an option).
_IFNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,14}$")

FAMILIES = {"inet": 4, "inet6": 6}

# By whether the address has a colon: its socket family, network class and length in bits.
_KINDS = {False: (socket.AF_INET, ipaddress.IPv4Network, 32),
          True: (socket.AF_INET6, ipaddress.IPv6Network, 128)}  # fmt: skip


def as_list(value, field):
    """
    Accept a list, or a comma-separated string as typed on the salt CLI.

    >>> as_list("192.0.2.0/24, 2001:db8::/64", "prefixes")
    ['192.0.2.0/24', '2001:db8::/64']
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple, set)):
        return list(value)
    raise SaltInvocationError(
        f"{field}: expected a list or a comma-separated string, got {value!r}"
    )


def prefix(value, field):
    """
    Parse one network prefix strictly; a bare address is a host prefix (/32 or /128).

    >>> prefix("2001:db8:100::/64", "prefix")
    IPv6Network('2001:db8:100::/64')
    """
    if not isinstance(value, str):
        raise SaltInvocationError(f"{field}: expected a prefix such as 192.0.2.0/24, got {value!r}")
    network = network_of(value.strip()) or _strict_network(value, field)
    if _ipv4_mapped(network):
        raise SaltInvocationError(
            f"{field}: {value!r} mixes families (an IPv4-mapped IPv6 prefix); "
            "give the IPv4 prefix itself"
        )
    return network


def network_of(text):
    """
    The network of ``ADDRESS[/LENGTH]`` (a bare address is a host prefix), or None when text is
    not of that form or has host bits set. Built from inet_pton's bytes, it costs a fifth of
    ipaddress's own parsing, which counts at 10,000 routes.

    >>> network_of("192.0.2.9"), network_of("192.0.2.1/24")
    (IPv4Network('192.0.2.9/32'), None)
    """
    address, slash, length = text.partition("/")
    if slash and not (length.isascii() and length.isdigit()):
        return None
    family, kind, bits = _KINDS[":" in address]
    try:
        number = int.from_bytes(socket.inet_pton(family, address))
    except (OSError, ValueError):  # not an address; ValueError: a NUL or non-ASCII in it
        return None
    length = int(length) if slash else bits
    if length > bits or number & ((1 << (bits - length)) - 1):
        return None
    return kind((number, length))


def text_of(network):
    """
    str(network), six times faster for IPv6: inet_ntop writes what ipaddress does (RFC 5952)
    except where the first 80 bits are zero, which it may write with an embedded IPv4 address.

    >>> text_of(ipaddress.ip_network("2001:db8:0:0:1::/80"))
    '2001:db8:0:0:1::/80'
    """
    address = network.network_address
    if network.version == 4 or int(address) >> 48 == 0:
        return str(network)
    return f"{socket.inet_ntop(socket.AF_INET6, address.packed)}/{network.prefixlen}"


def _ipv4_mapped(network):
    """Whether network lies in ::ffff:0:0/96 (subnet_of says the same, ten times slower)."""
    return network.version == 6 and int(network.network_address) >> 32 == 0xFFFF


def _strict_network(value, field):
    """ipaddress's reading of value (any form it takes), or the reason it is not a prefix."""
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            raise SaltInvocationError(
                f"{field}: {value!r} has host bits set (did you mean "
                f"{ipaddress.ip_network(value.strip(), strict=False)}?)"
            ) from None
        raise SaltInvocationError(f"{field}: {value!r} is not an IPv4 or IPv6 prefix") from None


def prefixes(values, field="prefixes", family=None):
    """
    Validate a list of prefixes, optionally all of one family (``inet`` or ``inet6``).

    Returns the networks in the order given, duplicates removed.
    """
    version = family_version(family)
    networks = {}
    for index, value in enumerate(as_list(values, field)):
        network = prefix(value, f"{field}[{index}]")
        if version and network.version != version:
            raise SaltInvocationError(
                f"{field}[{index}]: {value!r} is IPv{network.version} but family is {family}"
            )
        networks.setdefault(network, None)
    return list(networks)


def sorted_networks(networks):
    """Networks in a stable order: IPv4 first, then by address and prefix length."""
    return sorted(networks, key=lambda n: (n.version, int(n.network_address), n.prefixlen))


def family_version(family):
    """Map ``inet``/``inet6`` (or None) to an IP version (or None)."""
    if family is None:
        return None
    if family not in FAMILIES:
        raise SaltInvocationError(f"family: {family!r} is not one of inet, inet6")
    return FAMILIES[family]


def interface_name(value, field="device"):
    """Check that a string can be a Linux interface name."""
    if not isinstance(value, str) or value in (".", "..") or not _IFNAME.match(value):
        raise SaltInvocationError(f"{field}: {value!r} is not a valid interface name")
    return value


def whole_number(value, field, minimum=0):
    """Check that value is an int (not a bool) of at least minimum."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SaltInvocationError(f"{field}: {value!r} is not a whole number of {minimum} or more")
    return value


def choice(value, allowed, field):
    """Check that value is one of allowed."""
    if value not in allowed:
        raise SaltInvocationError(f"{field}: {value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def known_keys(value, known, field):
    """
    Check that value is a mapping whose keys are all in known (a formula's pillar against its
    defaults): a misspelt key would otherwise be ignored and its default used.

    >>> known_keys({"prefix": []}, {"prefixes": []}, "hostnode:anyip")
    Traceback (most recent call last):
    ...
    salt.exceptions.SaltInvocationError: hostnode:anyip:prefix: unknown key (known: prefixes)
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SaltInvocationError(f"{field}: expected a mapping, got {value!r}")
    for key in value:
        if key not in known:
            raise SaltInvocationError(
                f"{field}:{key}: unknown key (known: {', '.join(sorted(known))})"
            )
    return value
