"""
Linux bonds: parse /proc/net/bonding and /sys, derive the MAC a bond is pinned to, and render
the boot-time files that keep that MAC.

A bond takes the MAC of the slave enslaved first; with hot-plug slaves that is whichever NIC the
hardware brings up first, so the node's MAC can change across reboots. Pinning sets the MAC on
the bond itself: the kernel then keeps it whatever the enslave order (a MAC set by the user is
never replaced by a slave's).
"""

import fnmatch
import glob
import hashlib
import os
import re

import yaml

from saltext.hostnode.utils import prometheus as hostnode_prometheus
from saltext.hostnode.utils.netbackend import HEADER

# The kernel's names (bond_mode_tbl in bond_options.c) for what /proc/net/bonding prints.
MODES = {
    "load balancing (round-robin)": "balance-rr",
    "fault-tolerance (active-backup)": "active-backup",
    "load balancing (xor)": "balance-xor",
    "fault-tolerance (broadcast)": "broadcast",
    "IEEE 802.3ad Dynamic link aggregation": "802.3ad",
    "transmit load balancing": "balance-tlb",
    "adaptive load balancing": "balance-alb",
}
POLICIES = ("first-slave", "stable")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_MASTER_KEYS = {
    "Bonding Mode": "mode",
    "Transmit Hash Policy": "xmit_hash_policy",
    "Primary Slave": "primary",
    "Currently Active Slave": "active_slave",
    "MII Status": "mii_status",
    "MII Polling Interval (ms)": "miimon",
    "Up Delay (ms)": "updelay",
    "Down Delay (ms)": "downdelay",
    "LACP rate": "lacp_rate",
    "Aggregator ID": "aggregator_id",
    "Number of ports": "ports",
    "Actor Key": "actor_key",
    "Partner Key": "partner_key",
    "Partner Mac Address": "partner_mac",
}
_SLAVE_KEYS = {
    "MII Status": "mii_status",
    "Speed": "speed",
    "Duplex": "duplex",
    "Link Failure Count": "link_failures",
    "Permanent HW addr": "permanent_mac",
    "Aggregator ID": "aggregator_id",
    "Actor Churn State": "actor_churn",
    "Partner Churn State": "partner_churn",
}
_INTEGERS = {"miimon", "updelay", "downdelay", "link_failures", "aggregator_id", "ports"}
_INTEGERS |= {"actor_key", "partner_key"}
_AD_KEYS = ("lacp_rate", "aggregator_id", "ports", "actor_key", "partner_key", "partner_mac")
# Without an active aggregator the kernel prints "bond bond0 has no active aggregator" instead of
# the Active Aggregator Info, and "Aggregator ID: N/A" for a slave in none (bond_procfs.c).
_NO_AGGREGATOR = re.compile(r"^bond \S+ has no active aggregator$")
_DETAILS = {"details actor lacp pdu": "actor_pdu", "details partner lacp pdu": "partner_pdu"}
ZERO_MAC = "00:00:00:00:00:00"


def parse_bonding(text):
    """
    The model of one ``/proc/net/bonding/<bond>`` file (any kernel since 2.6).

    Sample (Debian 6.1, active-backup)::

        Ethernet Channel Bonding Driver: v6.1.0-50-amd64

        Bonding Mode: fault-tolerance (active-backup)
        Primary Slave: None
        Currently Active Slave: eth1
        MII Status: up
        ...
        Slave Interface: eth1
        MII Status: up
        Speed: Unknown
        Duplex: Unknown
        Link Failure Count: 0
        Permanent HW addr: 52:54:00:12:34:02

    gives ``{"mode": "active-backup", "active_slave": "eth1", "primary": None, "slaves":
    [{"name": "eth1", "speed": None, "permanent_mac": "52:54:00:12:34:02", ...}], ...}``.
    An 802.3ad bond's slaves also carry their churn states and, on newer kernels (6.1 here), the
    ``details actor/partner lacp pdu`` blocks (``actor_pdu``, ``partner_pdu``: ``{"system_mac",
    "port_state", ...}``); an aggregator the kernel shows as ``N/A`` or absent is None. Raises
    ValueError naming the line for what is not such a file.
    """
    lines = text.splitlines()
    if not any(line.startswith("Ethernet Channel Bonding Driver") for line in lines[:3]):
        raise ValueError("line 1: not a /proc/net/bonding file (no 'Ethernet Channel Bonding')")
    master, slaves, current, details = {}, [], None, None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        key, sep, value = line.strip().partition(":")
        value = value.strip()
        if line[0].isspace() and details is not None:
            details[key.replace(" ", "_").replace("_address", "")] = _pdu_value(value)
            continue
        details = None
        if key == "Slave Interface":
            current = {"name": _slave_name(value, number)}
            slaves.append(current)
        elif key in _DETAILS and current is not None:
            details = current.setdefault(_DETAILS[key], {})
        elif _NO_AGGREGATOR.match(line.strip()):
            master["aggregator_id"] = None
        elif not sep:
            continue
        elif current is not None:
            _store(current, _SLAVE_KEYS, key, value, number)
        else:
            _store(master, _MASTER_KEYS, key, value, number)
    return _bond_model(master, slaves)


def _pdu_value(value):
    return int(value) if value.isdecimal() else value


def _slave_name(value, number):
    if not value or " " in value:
        raise ValueError(f"line {number}: {value!r} is not an interface name")
    return value


def _store(target, known, key, value, number):
    field = known.get(key)
    if field is None or field in target:
        return
    if field in _INTEGERS and value == "N/A":
        target[field] = None
    elif field in _INTEGERS:
        try:
            target[field] = int(value)
        except ValueError:
            raise ValueError(f"line {number}: {key}: {value!r} is not a number") from None
    else:
        target[field] = value


def _bond_model(master, slaves):
    if "mode" not in master:
        raise ValueError("no 'Bonding Mode:' line: not a /proc/net/bonding file")
    if master["mode"] not in MODES:
        raise ValueError(f"Bonding Mode: {master['mode']!r} is not a known bonding mode")
    mode = MODES[master["mode"]]
    model = {
        "mode": mode,
        "mii_status": master.get("mii_status"),
        "miimon": master.get("miimon"),
        "updelay": master.get("updelay"),
        "downdelay": master.get("downdelay"),
        "primary": _none(master.get("primary", "None").split(" (")[0]),
        "active_slave": _none(master.get("active_slave", "None")),
        "xmit_hash_policy": _hash_policy(master.get("xmit_hash_policy")),
        "ad_info": {key: master.get(key) for key in _AD_KEYS} if mode == "802.3ad" else None,
        "slaves": [_slave_model(slave) for slave in slaves],
    }
    return model


def _slave_model(slave):
    speed = slave.get("speed", "Unknown").split() or ["Unknown"]
    return {
        "name": slave["name"],
        "mii_status": slave.get("mii_status"),
        "speed": int(speed[0]) if speed[0].isdecimal() else None,
        "duplex": _none(slave.get("duplex", "Unknown")),
        "link_failures": slave.get("link_failures"),
        "permanent_mac": slave.get("permanent_mac") or None,
        "aggregator_id": slave.get("aggregator_id"),
        "actor_churn": slave.get("actor_churn"),
        "partner_churn": slave.get("partner_churn"),
        "actor_pdu": slave.get("actor_pdu"),
        "partner_pdu": slave.get("partner_pdu"),
    }


def _none(value):
    return None if value in ("None", "Unknown", "") else value


def _hash_policy(value):
    """``layer2 (0)`` -> ``layer2``; None where the mode has no hash policy."""
    return value.split(" (")[0] if value else None


def read_sysfs(sysfs_net, bond):
    """
    The bond's attributes from ``<sysfs_net>/<bond>/bonding/*`` and its current MAC.

    Values are the first word of each file (``802.3ad 4`` -> ``802.3ad``), slaves a list;
    ``mac`` is the bond's address and ``mac_assigned`` how the kernel got it (``permanent``,
    ``random``, ``stolen``, ``set``).
    """
    base = os.path.join(sysfs_net, bond)
    attributes = {}
    for path in glob.glob(os.path.join(base, "bonding", "*")):
        try:
            with open(path, encoding="ascii") as handle:
                words = handle.read().split()
        except OSError:
            continue  # some attributes are write-only or not valid in this mode
        name = os.path.basename(path)
        attributes[name] = words if name in ("slaves", "arp_ip_target") else _first(words)
    with open(os.path.join(base, "address"), encoding="ascii") as handle:
        attributes["mac"] = handle.read().strip()
    attributes["mac_assigned"] = _assign_type(base)
    return attributes


def _first(words):
    return words[0] if words else None


def _assign_type(base):
    try:
        with open(os.path.join(base, "addr_assign_type"), encoding="ascii") as handle:
            value = int(handle.read())
    except (OSError, ValueError):
        return None
    return {0: "permanent", 1: "random", 2: "stolen", 3: "set"}.get(value)


def bond_names(sysfs_net):
    """The bonds of this network namespace, from ``bonding_masters`` (empty without bonding)."""
    try:
        with open(os.path.join(sysfs_net, "bonding_masters"), encoding="ascii") as handle:
            return sorted(handle.read().split())
    except FileNotFoundError:
        return []


def normal_mac(value):
    """A MAC as lower-case colon-separated octets, or None when value is not a MAC."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower().replace("-", ":")
    return text if _MAC.match(text) else None


def mac_problem(mac):
    """Why mac cannot be a bond's address, or None (mac in normal form)."""
    first = int(mac[:2], 16)
    if first & 0x01:
        return "is a multicast address"
    if mac == "00:00:00:00:00:00":
        return "is all zeros"
    return None


def stable_mac(seed, bond):
    """
    A locally administered unicast MAC derived from seed (the node's identity) and the bond name:
    the same inputs always give the same MAC, and two bonds of one node get different ones.

    >>> stable_mac("4f0e1b7c9a8d4e2f8b6a5c3d2e1f0a9b", "bond0")
    'be:c4:0d:06:5e:c1'
    """
    digest = hashlib.sha256(f"hostnode-bond-mac\0{seed}\0{bond}".encode()).digest()
    octets = bytearray(digest[:6])
    octets[0] = (octets[0] & 0xFC) | 0x02  # locally administered, unicast
    return ":".join(f"{octet:02x}" for octet in octets)


def first_slave_mac(model, slaves):
    """
    The permanent MAC of the first slave of the configured order (slaves), from the bond's model.

    Raises ValueError naming ``slaves[0]`` when that slave is not in the bond or has no
    permanent MAC.
    """
    first = slaves[0]
    by_name = {slave["name"]: slave for slave in model["slaves"]}
    if first not in by_name:
        raise ValueError(
            f"slaves[0]: {first!r} is not a slave of the bond "
            f"(slaves now: {', '.join(by_name) or 'none'})"
        )
    mac = normal_mac(by_name[first]["permanent_mac"])
    if mac is None:
        raise ValueError(f"slaves[0]: the kernel shows no permanent MAC for {first!r}")
    return mac


# --- Boot-time files -------------------------------------------------------------------------


def pin_path(backend, bond, root, netdev=None):
    """Where hostnode persists the bond's MAC for backend (networkd: beside the bond's .netdev)."""
    if backend == "networkd":
        return f"{netdev}.d/hostnode-mac.conf"
    relative = {
        "ifupdown": f"etc/network/interfaces.d/hostnode-bond-{bond}",
        "netplan": f"etc/netplan/90-hostnode-bond-{bond}.yaml",
    }[backend]
    return os.path.join(root, relative)


def pin_paths(root, bond):
    """Every file in which hostnode may have persisted the bond's MAC, for any backend."""
    paths = [pin_path(backend, bond, root) for backend in ("ifupdown", "netplan")]
    netdev = networkd_netdev(root, bond)
    return paths + ([pin_path("networkd", bond, root, netdev)] if netdev else [])


def render_pin(backend, bond, mac):
    """The file of ours that gives the bond mac at boot."""
    header = "# " + HEADER.format(purpose=f"MAC of {bond}") + "\n"
    if backend == "ifupdown":
        # ifupdown runs every stanza of an interface in file order; this one only sets the MAC.
        return f"{header}iface {bond} inet manual\n    hwaddress ether {mac}\n"
    if backend == "netplan":
        document = {"network": {"version": 2, "bonds": {bond: {"macaddress": mac}}}}
        return header + yaml.safe_dump(document, default_flow_style=False)
    return f"{header}[NetDev]\nMACAddress={mac}\n"


def parse_pin(text):
    """The MAC in a file written by render_pin, or None."""
    match = re.search(
        r"(?:hwaddress ether|macaddress:|MACAddress=)\s*['\"]?([0-9a-fA-F:]{17})", text
    )
    return normal_mac(match[1]) if match else None


def networkd_netdev(root, bond):
    """The user's ``.netdev`` file that defines bond under ``etc/systemd/network``, or None."""
    for path in sorted(glob.glob(os.path.join(root, "etc/systemd/network/*.netdev"))):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if re.search(rf"^\s*Name\s*=\s*{re.escape(bond)}\s*$", text, re.MULTILINE):
            return path
    return None


def netplan_defines(texts, bond):
    """Whether one of these netplan documents defines bond under network.bonds."""
    for text in texts:
        try:
            bonds = (yaml.safe_load(text) or {}).get("network", {}).get("bonds") or {}
        except (yaml.YAMLError, AttributeError):
            continue
        if bond in bonds:
            return True
    return False


def ifupdown_read_order(root, ours):
    """
    The ``(path, text)`` units in the order ifupdown reads them: /etc/network/interfaces split at
    its ``source``/``source-directory`` lines, with the sourced files in between (sorted, as
    ifupdown globs them). ours, the file hostnode would write, is placed where it would be read,
    with text None.
    """
    main = os.path.join(root, "etc/network/interfaces")
    try:
        with open(main, encoding="utf-8") as handle:
            lines = handle.read().splitlines(keepends=True)
    except FileNotFoundError:
        lines = []
    units, chunk = [], []
    for line in lines:
        words = line.split()
        if len(words) == 2 and words[0] in ("source", "source-directory"):
            units.append((main, "".join(chunk)))
            chunk = []
            units += _sourced(root, words[0], words[1], ours)
        else:
            chunk.append(line)
    units.append((main, "".join(chunk)))
    return units


def _sourced(root, keyword, pattern, ours):
    base = root if pattern.startswith("/") else os.path.join(root, "etc/network")
    pattern = os.path.join(base, pattern.lstrip("/"))
    if keyword == "source-directory":
        pattern = os.path.join(pattern, "*")
    paths = set(glob.glob(pattern)) | ({ours} if fnmatch.fnmatch(ours, pattern) else set())
    units = []
    for path in sorted(paths):
        if path == ours:
            units.append((path, None))
        else:
            with open(path, encoding="utf-8") as handle:
                units.append((path, handle.read()))
    return units


def ifupdown_problem(units, ours, bond):
    """
    Why a file of ours at ours (among units, see ifupdown_read_order) would not pin the bond's
    MAC, or None.

    ifupdown runs every ``iface`` stanza of an interface in the order it reads them, as separate
    steps. Only the user's stanza creates the bond (its ``bond-*`` options), so ours, which only
    sets ``hwaddress``, must be read after it; and a ``dhcp`` stanza would take its lease before
    ours changes the MAC.
    """
    stanza = re.compile(rf"^\s*iface\s+{re.escape(bond)}\s+inet6?\s+(\S+)", re.MULTILINE)
    theirs = [(path, stanza.search(text)) for path, text in units if path != ours]
    found = [(path, match) for path, match in theirs if match]
    if not found:
        return f"no 'iface {bond}' stanza is read by ifupdown"
    first = next(path for path, text in units if path == ours or stanza.search(text))
    if first == ours:
        return f"ifupdown would read {ours} before the stanza that creates {bond}"
    if found[0][1][1] == "dhcp":
        return f"the stanza of {bond} uses dhcp, which would lease with the old MAC"
    return None


# --- Health: what the beacon reports ---------------------------------------------------------


def lacp_problems(model):
    """
    What is wrong with an 802.3ad bond's link aggregation (``[]`` for other modes), each
    ``{"kind", "message", ...}`` with ``slave`` or ``aggregator``:

    - ``no_active_aggregator``: the kernel has no active aggregator for the bond;
    - ``no_partner``: the active aggregator's partner MAC is all zeros: no LACP partner answers
      (the switch ports are not configured for LACP, or the bond is on the wrong ports);
    - ``split_aggregator``: a slave that is up sits in another aggregator than the active one,
      so it carries no traffic (the switch put its ports in different LAGs);
    - ``missing_ports``: the active aggregator has fewer ports than slaves are up.
    """
    ad_info = model.get("ad_info")
    if ad_info is None:
        return []
    active = ad_info["aggregator_id"]
    if active is None:
        return [{"kind": "no_active_aggregator", "aggregator": None,
                 "message": "the bond has no active aggregator"}]  # fmt: skip
    problems = []
    if ad_info["partner_mac"] == ZERO_MAC:
        message = f"aggregator {active} has no LACP partner (partner MAC {ZERO_MAC})"
        problems.append({"kind": "no_partner", "aggregator": active, "message": message})
    up = [slave for slave in model["slaves"] if slave["mii_status"] == "up"]
    for slave in up:
        if slave["aggregator_id"] != active:
            problems.append({
                "kind": "split_aggregator", "slave": slave["name"],
                "aggregator": slave["aggregator_id"], "active_aggregator": active,
                "message": f"slave {slave['name']} is up in aggregator {slave['aggregator_id']},"
                           f" not in the active aggregator {active}",
            })  # fmt: skip
    if ad_info["ports"] is not None and ad_info["ports"] < len(up):
        problems.append({
            "kind": "missing_ports", "aggregator": active, "ports": ad_info["ports"],
            "slaves_up": len(up),
            "message": f"aggregator {active} has {ad_info['ports']} port(s) but {len(up)} "
                       "slave(s) are up",
        })  # fmt: skip
    return problems


def health(model):
    """``{"healthy", "problems"}`` of a bond's model: its LACP problems (see lacp_problems)."""
    problems = lacp_problems(model)
    return {"healthy": not problems, "problems": problems}


def snapshot(model, mac, pinned):
    """What the beacon compares between two calls: MII states, LACP problems, MAC and pin."""
    return {
        "slaves": {slave["name"]: slave["mii_status"] for slave in model["slaves"]},
        "lacp": lacp_problems(model),
        "mac": mac,
        "pinned": pinned,
    }


def events(bond, before, after):
    """
    Events for what changed in a bond between two snapshots (before None: first sight).

    A slave whose MII status changed, the loss (and return) of the bond's last active slave, an
    LACP problem that appeared (``lacp_problem``) or cleared (``lacp_cleared``), and a MAC that
    differs from the pinned one (the pin was lost) or matches it again.
    """
    found = []
    old_slaves = before["slaves"] if before else after["slaves"]
    for name in sorted(set(old_slaves) | set(after["slaves"])):
        old, new = old_slaves.get(name, "absent"), after["slaves"].get(name, "absent")
        if old != new:
            found.append(
                {"tag": f"{bond}/slave", "bond": bond, "slave": name, "old": old, "new": new}
            )
    was_up = _any_up(before["slaves"]) if before else True
    if was_up != _any_up(after["slaves"]):
        tag = "active" if not was_up else "no_active_slave"
        found.append({"tag": f"{bond}/{tag}", "bond": bond, "slaves": after["slaves"]})
    old_lacp = {_problem_key(p): p for p in (before or {}).get("lacp", [])}
    new_lacp = {_problem_key(p): p for p in after.get("lacp", [])}
    for key in sorted(set(old_lacp) | set(new_lacp), key=str):
        if (key in old_lacp) != (key in new_lacp):
            tag = "lacp_problem" if key in new_lacp else "lacp_cleared"
            problem = new_lacp.get(key) or old_lacp[key]
            found.append({"tag": f"{bond}/{tag}", "bond": bond, **problem})
    kept_before = before is None or before["pinned"] in (None, before["mac"])
    kept_now = after["pinned"] in (None, after["mac"])
    if kept_before != kept_now:
        tag = "mac_lost" if not kept_now else "mac_restored"
        found.append(
            {"tag": f"{bond}/{tag}", "bond": bond, "mac": after["mac"], "pinned": after["pinned"]}
        )
    return found


def _any_up(slaves):
    return any(status == "up" for status in slaves.values())


def _problem_key(problem):
    """What a problem is about, so that a changed count or message is not a new problem."""
    return (problem["kind"], problem.get("slave"), problem.get("aggregator"))


# --- Metrics ----------------------------------------------------------------------------------


def render_metrics(models):
    """
    A Prometheus textfile of bonds (``{bond: model}``): per slave whether its MII status is up,
    its link failure count and (802.3ad) its aggregator; per bond and slave the LACP problems
    (``slave=""`` for the aggregator's own: no partner, missing ports, no active aggregator).
    """
    families = {name: [] for name in _METRICS}
    for bond, model in sorted(models.items()):
        problems = lacp_problems(model)
        for slave in model["slaves"]:
            labels = {"bond": bond, "slave": slave["name"]}
            families["slave_mii_up"].append((labels, int(slave["mii_status"] == "up")))
            if slave["link_failures"] is not None:
                families["slave_link_failures_total"].append((labels, slave["link_failures"]))
            if model["ad_info"] is not None:
                families["slave_aggregator_id"].append((labels, slave["aggregator_id"] or 0))
        for name in [""] + [slave["name"] for slave in model["slaves"]]:
            count = sum(1 for p in problems if p.get("slave", "") == name)
            families["lacp_problems"].append(({"bond": bond, "slave": name}, count))
    return hostnode_prometheus.exposition(
        [
            (f"hostnode_bond_{f}", "counter" if f.endswith("_total") else "gauge", _METRICS[f], s)
            for f, s in families.items()
        ]
    )


_METRICS = {
    "slave_mii_up": "1 when the slave's MII status is up.",
    "slave_link_failures_total": "Link failures the bonding driver counted on the slave.",
    "slave_aggregator_id": "802.3ad aggregator of the slave (0: none).",
    "lacp_problems": "LACP problems of the 802.3ad bond per slave (slave empty: the aggregator).",
}
