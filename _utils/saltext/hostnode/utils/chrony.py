"""
The node's time sources for chrony (pillar ``hostnode:node:time``): the site's NTP servers and
pools, each a host name or an IP address, and the source options written on each of their
lines, checked before the node formula changes anything.

The option names and their arguments are those of the ``server`` and ``pool`` directives of
chrony.conf(5) in chrony 4.3 (Debian 12). chronyd checks the rendered file again itself
(``chronyd -p -f``, the formula's ``check_cmd``); it reads option syntax but takes any word as
a host (``server -p`` passes), hence the host check here.
"""

import ipaddress
import re

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")

# Options that stand alone (``iburst``) and those that take one argument (``minpoll 4``), by
# the argument's kind.
FLAGS = frozenset(
    {"iburst", "burst", "nts", "offline", "auto_offline", "prefer", "noselect", "trust",
     "require", "xleave", "copy"}
)  # fmt: skip
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")
_HEX = re.compile(r"^[0-9A-Fa-f]{1,4}$")
ARGUMENTS = {
    **dict.fromkeys(("minpoll", "maxpoll", "key", "certset", "minsamples", "maxsamples",
                     "filter", "polltarget", "port", "ntsport", "presend", "minstratum",
                     "version", "maxsources"), ("a whole number", _INTEGER)),
    **dict.fromkeys(("maxdelay", "maxdelayratio", "maxdelaydevratio", "maxdelayquant",
                     "mindelay", "asymmetry", "offset"), ("a number", _DECIMAL)),
    "extfield": ("a field type in hex (F323)", _HEX),
}  # fmt: skip
SETTINGS = ("servers", "pools", "options", "install", "service")


def sources(time, field):
    """
    The validated ``hostnode:node:time`` settings (field names it in errors) as
    ``{servers: [host], pools: [host], options: [option]}``; ValueError naming the first bad
    key. install and service, where given, must be true or false.

    >>> sources({"servers": ["ntp1.example.net"], "pools": [], "options": ["iburst"],
    ...          "install": True, "service": True}, "hostnode:node:time")["servers"]
    ['ntp1.example.net']
    """
    time = {} if time is None else time
    if not isinstance(time, dict):
        raise ValueError(f"{field}: expected a mapping of {', '.join(SETTINGS)}")
    for key in ("install", "service"):
        if not isinstance(time.get(key, True), bool):
            raise ValueError(f"{field}:{key}: {time[key]!r} is not true or false")
    return {
        "servers": [host(h, f"{field}:servers:{i}") for i, h in _items(time, "servers", field)],
        "pools": [host(h, f"{field}:pools:{i}") for i, h in _items(time, "pools", field)],
        "options": [option(o, f"{field}:options:{i}") for i, o in _items(time, "options", field)],
    }


def _items(time, key, field):
    values = time.get(key) or []
    if not isinstance(values, list):
        raise ValueError(f"{field}:{key}: expected a list, got {values!r}")
    return enumerate(values)


def host(value, field):
    """value as a host name (RFC 1123 labels) or an IP address, or ValueError naming field."""
    if not isinstance(value, str):
        raise ValueError(f"{field}: {value!r} is not a host name or IP address")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    numeric = labels[-1].isdigit()  # 10.1.0.300: a bad address, not a name
    if len(value) > 253 or numeric or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{field}: {value!r} is not a host name or IP address")
    return value


def option(value, field):
    """
    One chrony source option as written in chrony.conf (``iburst``, ``minpoll 4``), or
    ValueError naming field and what chrony expects.
    """
    words = value.split() if isinstance(value, str) else []
    if not words:
        raise ValueError(f"{field}: {value!r} is not a chrony source option")
    name, arguments = words[0], words[1:]
    if name in FLAGS:
        if arguments:
            raise ValueError(f"{field}: {name} takes no argument, got {value!r}")
    elif name in ARGUMENTS:
        kind, pattern = ARGUMENTS[name]
        if len(arguments) != 1 or not pattern.match(arguments[0]):
            raise ValueError(f"{field}: {name} takes {kind} ({name} N), got {value!r}")
    else:
        raise ValueError(
            f"{field}: {name!r} is not a chrony server/pool option "
            f"(known: {', '.join(sorted(FLAGS | set(ARGUMENTS)))})"
        )
    return " ".join(words)
