"""
open-iscsi: portals in one normal form, and parsers for what ``iscsiadm`` prints.

A portal is written ``10.1.2.3:3260`` or ``[2001:db8::1]:3260`` everywhere in hostnode, whatever
form it was given in (a bare address takes port 3260).
"""

import ipaddress
import re

DEFAULT_PORT = 3260
_IQN = re.compile(
    r"^(iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:\S+)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$"
)
_RECORD = re.compile(
    r"^(?P<portal>\[[0-9A-Fa-f:.]+\]:\d+|[^\s,\[\]]+:\d+),(?P<tpgt>-?\d+) (?P<target>\S+)$"
)
_SESSION = re.compile(
    r"^(?P<transport>\S+): \[(?P<sid>\d+)\] (?P<portal>\S+),(?P<tpgt>-?\d+) (?P<target>\S+)"
    r"(?: \((?P<flash>non-flash|flash)\))?$"
)
_DISCOVERY = re.compile(r"^(?P<portal>\S+) via (?P<method>\S+)$")


def normal_portal(value):
    """
    ``host:port`` with the address in normal form, IPv6 in brackets; ValueError for anything
    that is not an IP address with an optional port.

    >>> normal_portal("2001:DB8::1")
    '[2001:db8::1]:3260'
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a portal (an address, with :port)")
    text = value.strip()
    bracketed = re.match(r"^\[([^\]]+)\](?::(\d+))?$", text)
    if bracketed:
        address, port = bracketed[1], bracketed[2]
    elif text.count(":") == 1:
        address, port = text.split(":")
    else:
        address, port = text, None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"{value!r} is not a portal (an IP address, with :port)") from None
    port = str(DEFAULT_PORT) if port is None else port
    number = int(port) if port.isdigit() else 0
    if not 0 < number < 65536:
        raise ValueError(f"{value!r} has no valid port")
    host = f"[{parsed}]" if parsed.version == 6 else str(parsed)
    return f"{host}:{number}"


def valid_iqn(value):
    """Whether value is an iSCSI name (iqn., eui. or naa. form, RFC 3720/3980)."""
    return isinstance(value, str) and bool(_IQN.match(value))


def parse_initiator_name(text):
    """The IQN of an ``/etc/iscsi/initiatorname.iscsi`` text (``InitiatorName=...``), or None."""
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key == "InitiatorName" and valid_iqn(value.strip()):
            return value.strip()
    return None


def parse_records(text):
    """
    Node records as ``iscsiadm -m node`` and sendtargets discovery print them::

        127.0.0.1:3260,1 iqn.2026-11.net.example:san

    give ``[{"portal": "127.0.0.1:3260", "tpgt": 1, "target": "iqn..."}]``; IPv6 portals come
    bracketed. ValueError names the line that is not such a record.
    """
    records = []
    for number, line in _lines(text):
        match = _RECORD.match(line)
        if not match:
            raise ValueError(f"line {number}: not 'portal,tpgt target': {line!r}")
        records.append(
            {
                "portal": _portal_at(match["portal"], number),
                "tpgt": int(match["tpgt"]),
                "target": match["target"],
            }
        )
    return records


def parse_discovery_records(text):
    """``iscsiadm -m discovery``: ``127.0.0.1:3260 via sendtargets`` -> {portal, method}."""
    found = []
    for number, line in _lines(text):
        match = _DISCOVERY.match(line)
        if not match:
            raise ValueError(f"line {number}: not 'portal via method': {line!r}")
        found.append({"portal": _portal_at(match["portal"], number), "method": match["method"]})
    return found


def parse_sessions(text):
    """
    ``iscsiadm -m session``, with or without the ``(non-flash)`` of newer releases::

        tcp: [1] 127.0.0.2:3260,1 iqn.2026-11.net.example:san (non-flash)

    gives ``{"transport": "tcp", "sid": 1, "portal": "127.0.0.2:3260", "tpgt": 1,
    "target": ..., "flash": False}``. "No active sessions" gives [].
    """
    sessions = []
    for number, line in _lines(text):
        if line.startswith("iscsiadm: No active sessions"):
            continue
        match = _SESSION.match(line)
        if not match:
            raise ValueError(f"line {number}: not a session line: {line!r}")
        sessions.append(
            {
                "transport": match["transport"],
                "sid": int(match["sid"]),
                "portal": _portal_at(match["portal"], number),
                "tpgt": int(match["tpgt"]),
                "target": match["target"],
                "flash": match["flash"] == "flash",
            }
        )
    return sessions


def _lines(text):
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line.strip()


def _portal_at(text, number):
    try:
        return normal_portal(text)
    except ValueError as exc:
        raise ValueError(f"line {number}: {exc}") from None
