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
    number = int(port) if port.isdecimal() else 0
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
    bracketed. The ``-P 1`` trees of the same commands (see parse_tree) give the same list, one
    record per iface as the flat layout prints them. ValueError names the line that is not such
    a record.
    """
    if _first_line(text).startswith(_TREE_STARTS):
        return [{key: record[key] for key in ("portal", "tpgt", "target")}
                for record in parse_tree(text)]  # fmt: skip
    records = []
    for number, line in _lines(text):
        if line.startswith(_NONE_FOUND):
            continue
        if _DISCOVERY.match(line):
            raise ValueError(
                f"line {number}: a discovery address ('portal via method', iscsiadm -m discovery)"
                " names no target: give the output of a discovery (-t sendtargets) or -P 1"
            )
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


_TREE_STARTS = ("Target: ", "DiscoveryAddress: ", "SENDTARGETS:", "iSNS:", "STATIC:",
                "FIRMWARE:")  # fmt: skip
_NONE_FOUND = ("iscsiadm: No records found", "iscsiadm: No portals found",
               "iscsiadm: No active sessions", "No targets found.")  # fmt: skip


def _first_line(text):
    return next((line for _, line in _lines(text)), "")


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
    "target": ..., "flash": False}``. "No active sessions" gives []. The ``-P 1``, ``-P 2`` and
    ``-P 3`` trees (see parse_session_tree) give the same list; ``-P 0`` is this flat layout.
    """
    if _first_line(text).startswith(("Target: ", "iSCSI Transport Class")):
        return [{key: session[key] for key in _FLAT_SESSION}
                for session in parse_session_tree(text)]  # fmt: skip
    sessions = []
    for number, line in _lines(text):
        if line.startswith(_NONE_FOUND):
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


_FLAT_SESSION = ("transport", "sid", "portal", "tpgt", "target", "flash")


def parse_ifaces(text):
    """
    ``iscsiadm -m iface``: one line per iface, ``name transport,hwaddress,ipaddress,netdev,
    initiatorname``, ``<empty>`` for unset::

        ieth-a tcp,<empty>,<empty>,stor-a,<empty>

    gives ``{"name": "ieth-a", "transport": "tcp", "hwaddress": None, "ipaddress": None,
    "netdev": "stor-a", "initiator": None}``.
    """
    ifaces = []
    for number, line in _lines(text):
        name, _, rest = line.partition(" ")
        fields = rest.split(",")
        if not name or len(fields) != 5:
            raise ValueError(
                f"line {number}: not 'name transport,hw,ip,netdev,initiator': {line!r}"
            )
        values = [None if field in ("<empty>", "") else field for field in fields]
        ifaces.append(dict(zip(_IFACE_FIELDS, [name, *values], strict=True)))
    return ifaces


_IFACE_FIELDS = ("name", "transport", "hwaddress", "ipaddress", "netdev", "initiator")


def parse_record(text):
    """
    A node or iface record as ``iscsiadm -m node -T .. -p .. -I ..`` prints it and as the
    record files hold it: ``key = value`` lines between ``# BEGIN RECORD`` and ``# END
    RECORD``, ``<empty>`` meaning unset (None). Comments are skipped.
    """
    record = {}
    for number, line in _lines(text):
        if line.startswith("#"):
            continue
        key, sep, value = line.partition(" = ")
        if not sep or not key or " " in key:
            raise ValueError(f"line {number}: not 'key = value': {line!r}")
        record[key] = None if value == "<empty>" else value
    return record


def set_record_values(text, values):
    """
    The record text with each key of values set: its line replaced in place, or, for a key the
    record does not have (open-iscsi leaves unset CHAP names out), added after the last line of
    the same ``a.b.c.`` family, or before ``# END RECORD``.
    """
    lines = text.splitlines()
    for key, value in values.items():
        line = f"{key} = {value}"
        found = [i for i, old in enumerate(lines) if old.partition(" = ")[0] == key]
        if found:
            lines[found[0]] = line
            continue
        family = key.rsplit(".", 1)[0] + "."
        kin = [i for i, old in enumerate(lines) if old.startswith(family)]
        end = [i for i, old in enumerate(lines) if old.startswith("# END RECORD")]
        lines.insert(kin[-1] + 1 if kin else (end[0] if end else len(lines)), line)
    return "\n".join(lines) + "\n"


def parse_tree(text):
    """
    The ``-P 1`` trees of ``iscsiadm -m node`` and ``iscsiadm -m discovery``::

        SENDTARGETS:
        DiscoveryAddress: 192.0.2.1,3260
        Target: iqn.2026-11.net.example:san
        \tPortal: 192.0.2.1:3260,1
        \t\tIface Name: ieth-a
        iSNS:
        No targets found.

    give one record per iface: ``{"target", "portal", "tpgt", "iface", "method",
    "discovery"}`` (method ``sendtargets``, ``isns``, ``static``, ``firmware``, or None in the
    node tree, which has no sections; discovery the DiscoveryAddress portal or None).
    """
    records, method, discovery, target, portal = [], None, None, None, None
    for number, line in _lines(text):
        key, _, value = line.partition(": ")
        if line.endswith(":") and line[:-1] in _METHODS:
            method, discovery, target, portal = _METHODS[line[:-1]], None, None, None
        elif line in ("No targets found.", "iscsiadm: No records found"):
            continue
        elif key == "DiscoveryAddress":
            discovery, target, portal = _portal_at(value.replace(",", ":"), number), None, None
        elif key == "Target":
            target, portal = value.split()[0], None
        elif key == "Portal":
            match = re.match(r"^(?P<portal>\S+),(?P<tpgt>-?\d+)$", value)
            if target is None or not match:
                raise ValueError(f"line {number}: a portal outside a target: {line!r}")
            portal = (_portal_at(match["portal"], number), int(match["tpgt"]))
        elif key == "Iface Name" and portal is not None:
            records.append({"target": target, "portal": portal[0], "tpgt": portal[1],
                            "iface": value, "method": method, "discovery": discovery})  # fmt: skip
        else:
            raise ValueError(f"line {number}: not part of an iscsiadm -P 1 tree: {line!r}")
    return records


_METHODS = {"SENDTARGETS": "sendtargets", "iSNS": "isns", "STATIC": "static",
            "FIRMWARE": "firmware"}  # fmt: skip


def parse_session_tree(text):
    """
    The ``-P 1`` and ``-P 3`` trees of ``iscsiadm -m session``::

        Target: iqn.2026-11.net.example:san (non-flash)
        \tCurrent Portal: 192.0.2.1:3260,1
        \tPersistent Portal: 192.0.2.1:3260,1
        \t\tIface Name: ieth-a
        \t\tIface Netdev: stor-a
        \t\tSID: 1
        \t\tiSCSI Connection State: LOGGED IN
        \t\tRecovery Timeout: 5
        \t\tAttached scsi disk sda\t\tState: running

    give one dict per session: ``sid``, ``target``, ``flash``, ``portal`` (the persistent one,
    as node records name it), ``current_portal``, ``tpgt``, ``iface``, ``transport``,
    ``initiator``, ``ipaddress``, ``netdev``, ``host`` (SCSI host number, ``-P 3``),
    ``connection_state``, ``session_state``, ``internal_state``, ``timeouts`` (seconds, None
    when unknown; ``-P 2``), ``params`` (negotiated, ``-P 2``) and ``devices`` (``-P 3``:
    ``{host, channel, id, lun, device, state}``). The CHAP block of ``-P 2`` is skipped:
    credentials are never returned. A second session on the same portal (another iface) has
    no portal lines of its own (iscsiadm prints an empty line): it starts at its
    ``Interface:`` block and shares the portal of the one before.
    """
    sessions, target, section = [], None, None
    for number, line in _lines(text):
        key, _, value = line.partition(": ")
        if line.startswith("*") or line.startswith(("iSCSI Transport Class", "version ")):
            continue
        if line == "Interface:" and sessions and section is not None:
            sessions.append({**_session(target, "", number), **_same_portal(sessions[-1])})
            section = line[:-1]
        elif line.endswith(":") and ": " not in line:
            section = line[:-1]
        elif key == "Target":
            target = {"name": value.split()[0], "flash": value.endswith("(flash)")}
        elif key == "Current Portal":
            if target is None:
                raise ValueError(f"line {number}: a session before any Target line")
            sessions.append(_session(target, value, number))
            section = None
        elif not sessions:
            raise ValueError(f"line {number}: not part of an iscsiadm session tree: {line!r}")
        elif section != "CHAP":
            _session_line(sessions[-1], section, line, number)
    return sessions


def _session(target, current, number):
    portal, tpgt = _portal_tpgt(current, number) if current else (None, None)
    return {"sid": None, "target": target["name"], "flash": target["flash"], "portal": portal,
            "current_portal": portal,
            "tpgt": tpgt, "iface": None, "transport": None, "initiator": None,
            "ipaddress": None, "netdev": None, "host": None, "connection_state": None,
            "session_state": None, "internal_state": None, "timeouts": {}, "params": {},
            "devices": []}  # fmt: skip


_SESSION_KEYS = {
    "Iface Name": "iface", "Iface Transport": "transport", "Iface Initiatorname": "initiator",
    "Iface IPaddress": "ipaddress", "Iface Netdev": "netdev",
    "iSCSI Connection State": "connection_state", "iSCSI Session State": "session_state",
    "Internal iscsid Session State": "internal_state",
}  # fmt: skip
_TIMEOUTS = {"Recovery Timeout": "recovery", "Target Reset Timeout": "target_reset",
             "LUN Reset Timeout": "lun_reset", "Abort Timeout": "abort"}  # fmt: skip
_HOST = re.compile(r"^Host Number: (?P<host>\d+)\s+State: (?P<state>\S+)$")
_LUN = re.compile(r"^scsi\d+ Channel (?P<channel>\d+) Id (?P<id>\d+) Lun: (?P<lun>\d+)$")
_DISK = re.compile(r"^Attached scsi disk (?P<device>\S+)\s+State: (?P<state>\S+)$")


def _same_portal(session):
    return {key: session[key] for key in ("target", "flash", "portal", "current_portal", "tpgt")}


def _session_line(session, section, line, number):
    key, _, value = line.partition(": ")
    value = None if value.strip() in ("<empty>", "") else value.strip()
    if key == "Persistent Portal":
        session["portal"], _ = _portal_tpgt(value or "", number)
    elif key == "SID":
        session["sid"] = _number(key, value, number)
    elif key in _SESSION_KEYS:
        session[_SESSION_KEYS[key]] = value
    elif key in _TIMEOUTS:
        session["timeouts"][_TIMEOUTS[key]] = value and _number(key, value, number)
    elif section == "Negotiated iSCSI params":
        session["params"][key] = value
    elif section == "Attached SCSI devices":
        _device_line(session, line, number)
    elif key.startswith("Iface "):
        pass  # further iface facts (HWaddress, ...) are the iface's, see iscsi.ifaces
    else:
        raise ValueError(f"line {number}: not part of an iscsiadm session tree: {line!r}")


def _number(key, value, number):
    if not (value or "").isdecimal():
        raise ValueError(f"line {number}: {key}: {value!r} is not a number")
    return int(value)


def _device_line(session, line, number):
    if line == "Unavailable":  # iscsiadm found no SCSI host for the session
        return
    for regex in (_HOST, _LUN, _DISK):
        match = regex.match(line)
        if match:
            break
    else:
        raise ValueError(f"line {number}: not an attached-device line: {line!r}")
    if regex is _HOST:
        session["host"] = int(match["host"])
    elif regex is _LUN:
        session["devices"].append({"host": session.get("host"), "channel": int(match["channel"]),
                                   "id": int(match["id"]), "lun": int(match["lun"]),
                                   "device": None, "state": None})  # fmt: skip
    elif session["devices"]:
        session["devices"][-1].update(device=match["device"], state=match["state"])


def _portal_tpgt(text, number):
    portal, sep, tpgt = text.rpartition(",")
    if not sep or not tpgt.lstrip("-").isdecimal():
        raise ValueError(f"line {number}: not 'portal,tpgt': {text!r}")
    return _portal_at(portal, number), int(tpgt)


def _lines(text):
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line.strip()


def _portal_at(text, number):
    try:
        return normal_portal(text)
    except ValueError as exc:
        raise ValueError(f"line {number}: {exc}") from None


AUTH = "node.session.auth."
_CHAP_FIELDS = {"username": "username", "password": "password",
                "username_in": "username_in", "password_in": "password_in"}  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def chap_values(chap, field):
    """
    The record values of CHAP credentials ``{username, password[, username_in,
    password_in]}`` (the ``_in`` pair for mutual CHAP). ValueError names the field, never the
    secret.
    """
    if not isinstance(chap, dict) or not {"username", "password"} <= set(chap):
        raise ValueError(f"{field}: CHAP credentials need username and password")
    unknown = sorted(set(chap) - set(_CHAP_FIELDS))
    if unknown:
        raise ValueError(f"{field}: unknown CHAP key(s) {', '.join(unknown)}")
    if ("username_in" in chap) != ("password_in" in chap):
        raise ValueError(f"{field}: mutual CHAP needs both username_in and password_in")
    values = {AUTH + "authmethod": "CHAP"}
    for key, value in chap.items():
        if not isinstance(value, str) or not value or set(value) & {"\n", "\r", " "}:
            raise ValueError(f"{field}:{key}: must be text without spaces or newlines")
        values[AUTH + _CHAP_FIELDS[key]] = value
    return values


def valid_name(value):
    """Whether value can name an iscsiadm iface (and a network device, up to 15 characters)."""
    return isinstance(value, str) and bool(_NAME.match(value))


def plan_portal(wanted, found):
    """
    What logging in on one portal takes, from what is there::

        wanted: {"portal", "iface", "netdev" (or None), "settings": {key: value},
                 "chap": {record key: value} or None}
        found:  {"netdev": the iface's netdev, "iface_exists", "record": the node record's
                 values (None when there is none), "logged_in", "session_netdev": the NIC
                 the open session leaves by (None when none)}

    gives ``{"bind", "create", "settings", "chap", "login", "relogin"}``: the netdev change of
    the iface (``{"old", "new"}`` or None), whether to create the record, the settings to
    update (``{key: {"old", "new"}}``), whether the CHAP values differ (never the values),
    whether to log in, and whether to log the open session out and in again, because it
    leaves by another NIC than wanted, or a setting it runs with (all but the ones read only
    at boot and first login, LOGIN_ONLY) or its CHAP credentials change. Everything empty or
    false is nothing to do.
    """
    bind = None
    if wanted["netdev"] and (not found["iface_exists"] or found["netdev"] != wanted["netdev"]):
        bind = {"old": found["netdev"] if found["iface_exists"] else None, "new": wanted["netdev"]}
    record = found["record"]
    current = record or {}
    settings = {
        key: {"old": current.get(key), "new": value}
        for key, value in wanted["settings"].items()
        if record is None or current.get(key) != value
    }
    chap = bool(wanted["chap"]) and any(
        current.get(key) != value for key, value in wanted["chap"].items()
    )
    moved = bool(wanted["netdev"]) and found["session_netdev"] != wanted["netdev"]
    live = chap or moved or bool(set(settings) - LOGIN_ONLY)
    return {
        "bind": bind,
        "create": record is None,
        "settings": settings,
        "chap": chap,
        "login": not found["logged_in"],
        "relogin": found["logged_in"] and live,
    }


# Record settings an open session does not run with: read at boot and at the first login only.
LOGIN_ONLY = {"node.startup", "node.conn[0].startup", "node.session.initial_login_retry_max"}


def portal_changes(plan):
    """The ``changes`` of one portal's plan: no secret, only that CHAP was set."""
    changes = {}
    if plan["bind"]:
        changes["iface_netdev"] = plan["bind"]
    if plan["create"]:
        changes["record"] = "created"
    if plan["settings"]:
        changes["settings"] = plan["settings"]
    if plan["chap"]:
        changes["chap"] = "credentials set"
    if plan["login"]:
        changes["session"] = "logged in"
    if plan["relogin"]:
        changes["session"] = "re-logged in"
    return changes
