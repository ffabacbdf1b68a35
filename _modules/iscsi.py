"""
open-iscsi initiator: discovery, node records and sessions, read the same way live and from
saved ``iscsiadm`` output (``source=``, for support bundles).

Portals are returned in one normal form, ``10.1.2.3:3260`` or ``[2001:db8::1]:3260``.
Discovery here never writes node records (``-o nonpersistent``), so looking at a target does not
reset the ``node.startup`` of records a state manages.

``login`` takes CHAP credentials from pillar and writes them into the node record file (mode
0600) itself: ``iscsiadm -m node -o update -v SECRET`` would show them to every user in ``ps``.
"""

import glob
import os
import time

import salt.utils.data
import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import iscsi as hostnode_iscsi

__virtualname__ = "iscsi"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "iscsi: open-iscsi exists on Linux only")
    return __virtualname__


def _run(argv, timeout=None):
    if not salt.utils.path.which(argv[0]):
        raise CommandExecutionError(f"{argv[0]} is not installed (package open-iscsi)")
    return hostnode_command.run(__salt__["cmd.run_all"], argv, timeout=timeout)


def _parsed(parser, argv, source, empty_when=None):
    if source:
        return hostnode_files.parse_source(source, parser, f"{' '.join(argv[:3])} output")
    try:
        text = _run(argv)
    except CommandExecutionError as exc:
        if empty_when and empty_when in str(exc):
            return []
        raise
    try:
        return parser(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{' '.join(argv)}: {exc}") from None


def discover(portal=None, source=None):
    """
    SendTargets discovery on portal: ``[{portal, tpgt, target}]``, without writing node records.

    source
        Parse this saved ``iscsiadm -m discovery -t sendtargets`` output instead, flat or
        ``-P 1``; ``iscsiadm -m discovery -P 1`` (or ``-m discoverydb -P 1``) too, the targets
        of every discovery address. The plain ``-m discovery`` list names no target: refused.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.discover 192.0.2.10
        salt '*' iscsi.discover '[2001:db8::10]:3260'
        salt '*' iscsi.discover source=/tmp/bundle/discovery.txt
    """
    if source is None:
        portal = _portal(portal, "portal")
    argv = ["iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", portal or "",
            "-o", "nonpersistent"]  # fmt: skip
    return _parsed(hostnode_iscsi.parse_records, argv, source)


def _portal(value, field):
    try:
        return hostnode_iscsi.normal_portal(value)
    except ValueError as exc:
        raise SaltInvocationError(f"{field}: {exc}") from None


def nodes(source=None):
    """
    The node records (``iscsiadm -m node``): ``[{portal, tpgt, target}]``, one per record (a
    portal reached through two ifaces is listed twice, as iscsiadm lists it).

    source
        Parse this saved ``iscsiadm -m node`` output instead, flat or ``-P 1``.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.nodes
        salt '*' iscsi.nodes source=/tmp/bundle/iscsiadm-node-P1.txt
    """
    argv = ["iscsiadm", "-m", "node"]
    return _parsed(hostnode_iscsi.parse_records, argv, source, "No records found")


def sessions(source=None):
    """
    The open sessions (``iscsiadm -m session``): ``[{sid, target, portal, tpgt, transport,
    flash}]``; ``[]`` when there are none.

    source
        Parse this saved ``iscsiadm -m session`` output instead, in any of its layouts: flat
        (``-P 0``) or the ``-P 1``, ``-P 2``, ``-P 3`` trees.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.sessions
        salt '*' iscsi.sessions source=/tmp/bundle/iscsiadm-session.txt
    """
    argv = ["iscsiadm", "-m", "session"]
    return _parsed(hostnode_iscsi.parse_sessions, argv, source, "No active sessions")


def initiator_name():
    """
    The node's initiator IQN from ``/etc/iscsi/initiatorname.iscsi`` under
    ``hostnode:config_root``, or None when it has none.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.initiator_name
    """
    root = __salt__["config.get"]("hostnode:config_root", "/") or "/"
    text = hostnode_files.read(os.path.join(root, "etc/iscsi/initiatorname.iscsi")) or ""
    return hostnode_iscsi.parse_initiator_name(text)


def ifaces(source=None):
    """
    The iscsiadm ifaces (``iscsiadm -m iface``): ``[{name, transport, hwaddress, ipaddress,
    netdev, initiator}]``, None for what is unset.

    source
        Parse this saved ``iscsiadm -m iface`` output instead (its ``-P 1`` tree lists the
        records of each iface, not the iface itself: refused, naming the line).

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.ifaces
    """
    return _parsed(hostnode_iscsi.parse_ifaces, ["iscsiadm", "-m", "iface"], source)


def iface_bind(iface, netdev, test=False):
    """
    Bind iscsiadm iface (created when missing) to network device netdev, so sessions through it
    leave by that NIC once they log in (``iscsi.relogin`` moves the open ones; ``iscsi.login``
    does it itself). Returns ``{"iface_netdev": {"old", "new"}}``, or ``{}`` when it already is.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.iface_bind ieth1 eth1
    """
    for field, value in (("iface", iface), ("netdev", netdev)):
        if not hostnode_iscsi.valid_name(value) or value in ("default", "iser"):
            raise SaltInvocationError(f"{field}: {value!r} is not a usable name")
    known = {item["name"]: item for item in ifaces()}
    wanted = {"portal": None, "iface": iface, "netdev": netdev, "settings": {}, "chap": None}
    plan = hostnode_iscsi.plan_portal(wanted, _found_iface(known, iface))
    if plan["bind"] and not test:
        _bind(iface, netdev, iface in known)
    return {"iface_netdev": plan["bind"]} if plan["bind"] else {}


def _found_iface(known, iface):
    return {
        "iface_exists": iface in known,
        "netdev": (known.get(iface) or {}).get("netdev"),
        "record": {},
        "logged_in": False,
        "session_netdev": None,
    }


def _bind(iface, netdev, exists):
    if not exists:
        _run(["iscsiadm", "-m", "iface", "-I", iface, "-o", "new"])
    _run(["iscsiadm", "-m", "iface", "-I", iface, "-o", "update",
          "-n", "iface.net_ifacename", "-v", netdev])  # fmt: skip


def login(target, portals, chap_pillar=None, startup="automatic", login_timeout=10,
          login_retries=1, settings=None, test=False):  # fmt: skip
    """
    Log in to target on every portal: bind each portal's iface to its NIC, create the node
    record (the portal's tpgt found by a discovery that writes nothing), set ``node.startup``,
    the login bounds and settings, the CHAP credentials of pillar key chap_pillar, and log in.
    Only what differs is done. An open session that leaves by another NIC than its portal's
    netdev, or whose settings (but for those read at boot and first login only) or CHAP
    credentials change, is logged out and in again, one portal at a time, as ``iscsi.relogin``
    does (``"session": "re-logged in"``). Returns the changes per ``"<portal> via <iface>"``.
    A portal that fails does not stop the others (but for re-logins: one that fails holds back
    those after it): the error names it, and its ``info`` holds the changes made, those of a
    failed portal up to its failure.

    portals
        A list of portals, each an address (``192.0.2.10``, ``[2001:db8::1]:3260``) or
        ``{portal, iface, netdev, tpgt}``: iface (default ``default``) bound to netdev when
        given; tpgt, the target's portal group tag there, found by discovery when not given.
    chap_pillar
        Pillar key of ``{username, password}`` (and ``username_in``/``password_in`` for mutual
        CHAP). The secrets never reach argv, logs or returns.
    login_timeout, login_retries
        A login gives up after login_timeout seconds per try and login_retries retries, so an
        unreachable portal fails in bounded time.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.login iqn.2001-05.com.equallogic:san '[192.0.2.10, 198.51.100.10]' test=True
        salt '*' iscsi.login iqn.2001-05.com.equallogic:san \\
            '[{portal: 192.0.2.10, iface: ieth1, netdev: eth1}]' chap_pillar=storage:chap:san
    """
    wanted = _wanted(target, portals, startup, login_timeout, login_retries, settings)
    chap = _chap(chap_pillar)
    known = {item["name"]: item for item in ifaces()}
    _check_ifaces(wanted, known)
    live = _live_sessions(target)
    up = {key for key, session in live.items() if session["session_state"] == "LOGGED_IN"}
    changes, errors, held = {}, {}, False
    for entry in wanted:
        entry["chap"] = chap
        key = (entry["portal"], entry["iface"])
        found = _found_iface(known, entry["iface"])
        found["record"] = _record(target, entry["portal"], entry["iface"])
        found["logged_in"] = key in live
        found["session_netdev"] = (live.get(key) or {}).get("netdev")
        plan = hostnode_iscsi.plan_portal(entry, found)
        predicted = hostnode_iscsi.portal_changes(plan)
        name = f"{entry['portal']} via {entry['iface']}"
        refused = plan["relogin"] and _relogin_refused(target, key, up, held)
        if refused:
            errors[name] = refused
        elif predicted and test:
            changes[name] = predicted
        elif predicted:
            done = {}
            try:
                _apply(target, entry, plan, known, done, live.get(key))
            except CommandExecutionError as exc:
                errors[name] = str(exc)
                held = held or plan["relogin"]
            if done:
                changes[name] = done
    _raise_errors(errors, changes)
    return changes


def _raise_errors(errors, changes):
    if errors:
        failed = "; ".join(f"{key}: {error}" for key, error in errors.items())
        raise CommandExecutionError(f"{len(errors)} portal(s) failed: {failed}", info=changes)


def _wanted(target, portals, startup, login_timeout, login_retries, settings):
    if not hostnode_iscsi.valid_iqn(target):
        raise SaltInvocationError(f"target: {target!r} is not an iSCSI name (iqn./eui./naa.)")
    if not isinstance(portals, list) or not portals:
        raise SaltInvocationError("portals: must be a non-empty list")
    if startup not in ("automatic", "manual", "onboot"):
        raise SaltInvocationError(f"startup: {startup!r} is not automatic, manual or onboot")
    timeout = _login_bound(login_timeout, login_retries)
    if settings is not None and not isinstance(settings, dict):
        raise SaltInvocationError("settings: must be a mapping of node record key: value")
    common = {
        "node.startup": startup,
        "node.conn[0].startup": startup,
        "node.conn[0].timeo.login_timeout": str(login_timeout),
        "node.session.initial_login_retry_max": str(login_retries),
        **{str(key): str(value) for key, value in (settings or {}).items()},
    }
    if any(key.startswith(hostnode_iscsi.AUTH) for key in common):
        raise SaltInvocationError("settings: CHAP comes from chap_pillar, not settings")
    wanted, seen = [], set()
    for index, item in enumerate(portals):
        entry = _portal_entry(item, f"portals:{index}")
        if (entry["portal"], entry["iface"]) in seen:
            raise SaltInvocationError(
                f"portals:{index}: {entry['portal']} via {entry['iface']} twice"
            )
        seen.add((entry["portal"], entry["iface"]))
        wanted.append({**entry, "settings": common, "timeout": timeout})
    return wanted


def _login_bound(login_timeout, login_retries):
    """Seconds a login may take, at most, after validating its two bounds."""
    for field, value in (("login_timeout", login_timeout), ("login_retries", login_retries)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SaltInvocationError(f"{field}: {value!r} is not a whole number of 1 or more")
    return login_timeout * (login_retries + 1)


def _portal_entry(item, field):
    item = {"portal": item} if isinstance(item, str) else item
    if not isinstance(item, dict) or "portal" not in item or set(item) - _PORTAL_KEYS:
        raise SaltInvocationError(f"{field}: an address or {{portal, iface, netdev, tpgt}}")
    iface, netdev = item.get("iface", "default"), item.get("netdev")
    if not hostnode_iscsi.valid_name(iface):
        raise SaltInvocationError(f"{field}:iface: {iface!r} is not an iface name")
    if netdev is not None and (not hostnode_iscsi.valid_name(netdev) or iface == "default"):
        raise SaltInvocationError(f"{field}:netdev: needs an iface of its own and a NIC name")
    tpgt = item.get("tpgt")
    if tpgt is not None and (isinstance(tpgt, bool) or not isinstance(tpgt, int) or tpgt < 0):
        raise SaltInvocationError(f"{field}:tpgt: {tpgt!r} is not a portal group tag")
    portal = _portal(item["portal"], f"{field}:portal")
    return {"portal": portal, "iface": iface, "netdev": netdev, "tpgt": tpgt}


_PORTAL_KEYS = {"portal", "iface", "netdev", "tpgt"}


def _check_ifaces(wanted, known):
    for index, entry in enumerate(wanted):
        if entry["iface"] not in known and not entry["netdev"]:
            raise SaltInvocationError(
                f"portals:{index}:iface: no iscsiadm iface {entry['iface']!r} "
                "(give netdev to bind one)"
            )


def _chap(chap_pillar):
    """
    The record values of the credentials at pillar key chap_pillar. Read from __pillar__
    itself: Salt 3008's pillar.get returns secrets masked (``**********``) unless asked not to,
    with an argument older releases do not know.
    """
    if chap_pillar is None:
        return None
    credentials = salt.utils.data.traverse_dict_and_list(__pillar__, chap_pillar, None)
    if credentials is None:
        raise SaltInvocationError(f"chap_pillar: pillar has no {chap_pillar!r}")
    try:
        return hostnode_iscsi.chap_values(credentials, f"pillar {chap_pillar}")
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None


def _apply(target, entry, plan, known, done, session):
    """
    Carry out one portal's plan, noting each change in done as soon as it is made. A re-login
    logs the session out before the record changes (so a login that then fails leaves a portal
    that is simply not logged in, which the next run logs in), and waits until it is back.
    """
    portal, iface = entry["portal"], entry["iface"]
    node = ["iscsiadm", "-m", "node", "-T", target, "-p", portal, "-I", iface]
    predicted = hostnode_iscsi.portal_changes(plan)
    if plan["bind"]:
        _bind(iface, entry["netdev"], iface in known)
        known[iface] = {"name": iface, "netdev": entry["netdev"]}
        done["iface_netdev"] = predicted["iface_netdev"]
    if plan["create"]:
        tpgt = entry["tpgt"] or _tpgt(target, portal, iface, entry["timeout"])
        _run(["iscsiadm", "-m", "node", "-o", "new", "-T", target, "-p", f"{portal},{tpgt}",
              "-I", iface])  # fmt: skip
        done["record"] = predicted["record"]
    if plan["relogin"]:
        wanted = _disks(session)  # before the logout takes the disks out of their map
        _run([*node, "--logout"])
    for key, change in plan["settings"].items():
        _run([*node, "-o", "update", "-n", key, "-v", change["new"]])
        done.setdefault("settings", {})[key] = change
    if plan["chap"]:
        path = _record_path(target, portal, iface)
        text = hostnode_iscsi.set_record_values(hostnode_files.read(path), entry["chap"])
        hostnode_files.replace(path, text, mode=0o600)
        done["chap"] = predicted["chap"]
    if plan["login"] or plan["relogin"]:
        _run([*node, "--login"], timeout=entry["timeout"] + 15)
    if plan["relogin"]:
        _wait_back(target, session, wanted, entry["timeout"] + SETTLE)
    if "session" in predicted:
        done["session"] = predicted["session"]


# Seconds a re-logged session may take beyond its login to show its disks again, scanned and
# taken into their multipath maps.
SETTLE = 30
# Where a disk's holders (the multipath map using it) show.
SYS_BLOCK = "/sys/block"


def _live_sessions(target):
    """{(portal, iface): session} of target's open sessions (the -P 3 tree)."""
    return {(s["portal"], s["iface"]): s for s in _session_tree() if s["target"] == target}


def _relogin_refused(target, key, up, held):
    """
    Why the session of key must not be logged out now, or None: held, an earlier re-login of
    this run did not come back; or no other session of target is logged in (multipath would
    lose its last path; the message gives the commands to run when I/O may pause).
    """
    if held:
        return "not re-logged in: an earlier re-login did not come back, this path stays up"
    if not up - {key}:
        node = f"iscsiadm -m node -T {target} -p {key[0]} -I {key[1]}"
        return (
            "not re-logged in: it is the only logged-in session of the target; when its I/O "
            f"may pause, run '{node} --logout' and '{node} --login'"
        )
    return None


def _wait_back(target, before, wanted, timeout):
    """
    Until the session logged out as before is logged in again (a session id of its own) with
    wanted, (running disks, of them in a multipath map), as _disks counted them before the
    logout; CommandExecutionError after timeout seconds.
    """
    key = (before["portal"], before["iface"])
    deadline = time.monotonic() + timeout
    while True:
        now = _live_sessions(target).get(key) or before
        back = now["sid"] != before["sid"] and now["session_state"] == "LOGGED_IN"
        found = _disks(now) if back else (0, 0)
        if found[0] >= wanted[0] and found[1] >= wanted[1]:
            return
        if time.monotonic() > deadline:
            raise CommandExecutionError(
                f"not back {timeout} s after its login: {found[0]} of {wanted[0]} disk(s) "
                f"running, {found[1]} of {wanted[1]} in a multipath map"
            )
        time.sleep(1)


def _disks(session):
    """(running disks, running disks held by a multipath map) of a session."""
    running = [d["device"] for d in session["devices"] if d["state"] == "running"]
    held = [d for d in running if _holders(d)]
    return len(running), len(held)


def _holders(device):
    try:
        return os.listdir(os.path.join(SYS_BLOCK, device, "holders"))
    except OSError:
        return []


def _tpgt(target, portal, iface, timeout):
    """The portal group tag target has at portal, by a discovery that writes no record."""
    argv = ["iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", portal, "-I", iface,
            "-o", "nonpersistent"]  # fmt: skip
    offered = hostnode_iscsi.parse_records(_run(argv, timeout=timeout + 15))
    for record in offered:
        if record["target"] == target and record["portal"] == portal:
            return record["tpgt"]
    raise CommandExecutionError(f"{portal} does not offer {target}")


# open-iscsi keeps node records here (Debian, then Red Hat); the path is compiled into iscsiadm.
NODE_DBS = ("/etc/iscsi/nodes", "/var/lib/iscsi/nodes")


def _record_path(target, portal, iface):
    """The record file of target at portal through iface, or None."""
    address, _, port = portal.rpartition(":")
    address = address.strip("[]")
    for root in NODE_DBS:
        pattern = os.path.join(glob.escape(os.path.join(root, target)),
                               f"{glob.escape(address)},{port},*", glob.escape(iface))  # fmt: skip
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def _record(target, portal, iface):
    path = _record_path(target, portal, iface)
    if path is None:
        return None
    try:
        return hostnode_iscsi.parse_record(hostnode_files.read(path) or "")
    except ValueError as exc:
        raise CommandExecutionError(f"{path}: {exc}") from None


def _session_tree():
    return _parsed(hostnode_iscsi.parse_session_tree, ["iscsiadm", "-m", "session", "-P", "3"],
                   None, "No active sessions")  # fmt: skip


def relogin(target, portals=None, login_timeout=10, login_retries=1, test=False):
    """
    Log the open sessions of target (those on portals, when given) out and in again, one at a
    time: the next only once the one before is logged in again with its disks running and back
    in their multipath maps, and never the target's last logged-in session. This is how a
    changed iface NIC, node setting or CHAP credential reaches a live session (``iscsi.login``
    does it by itself for what it changes) and what ``watch`` on ``iscsi.logged_in`` runs.
    Returns ``{"<portal> via <iface>": {"session": "re-logged in"}}``; a session that fails
    is named in the error and holds back the ones after it.

    login_timeout, login_retries
        Bound each login as in ``iscsi.login``; a session is given 30 seconds more to show its
        disks again.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.relogin iqn.2026-11.net.example:san test=True
        salt '*' iscsi.relogin iqn.2026-11.net.example:san '[192.0.2.1]'
    """
    only = _only(target, portals)
    bound = _login_bound(login_timeout, login_retries)
    live = _live_sessions(target)
    up = {key for key, session in live.items() if session["session_state"] == "LOGGED_IN"}
    changes, errors, held = {}, {}, False
    for key, session in sorted(live.items()):
        if only is not None and key[0] not in only:
            continue
        name = f"{key[0]} via {key[1]}"
        refused = _relogin_refused(target, key, up, held)
        if refused:
            errors[name] = refused
            continue
        node = ["iscsiadm", "-m", "node", "-T", target, "-p", key[0], "-I", key[1]]
        try:
            if not test:
                wanted = _disks(session)  # before the logout takes the disks out of their map
                _run([*node, "--logout"])
                _run([*node, "--login"], timeout=bound + 15)
                _wait_back(target, session, wanted, bound + SETTLE)
            changes[name] = {"session": "re-logged in"}
        except CommandExecutionError as exc:
            errors[name], held = str(exc), True
    _raise_errors(errors, changes)
    return changes


def _only(target, portals):
    """The normal forms of portals (None for all) of a valid target name."""
    if not hostnode_iscsi.valid_iqn(target):
        raise SaltInvocationError(f"target: {target!r} is not an iSCSI name (iqn./eui./naa.)")
    if portals is None:
        return None
    if not isinstance(portals, list):
        raise SaltInvocationError("portals: must be a list")
    return {_portal(p, f"portals:{i}") for i, p in enumerate(portals)}


def logout(target, portals=None, delete_records=True, test=False):
    """
    Log out of target on portals (all of its sessions when None) and, with delete_records,
    delete their node records so the node does not log in again at boot. Returns the changes
    per ``"<portal> via <iface>"``.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.logout iqn.2001-05.com.equallogic:san test=True
        salt '*' iscsi.logout iqn.2001-05.com.equallogic:san '[192.0.2.10]'
    """
    only = _only(target, portals)
    sessions = {(s["portal"], s["iface"]) for s in _session_tree() if s["target"] == target}
    records = set()
    if delete_records:
        records = {(r["portal"], r["iface"]) for r in _node_tree() if r["target"] == target}
    changes = {}
    for portal, iface in sorted(sessions | records):
        if only is not None and portal not in only:
            continue
        change = {}
        node = ["iscsiadm", "-m", "node", "-T", target, "-p", portal, "-I", iface]
        if (portal, iface) in sessions:
            change["session"] = "logged out"
            if not test:
                _run([*node, "--logout"])
        if (portal, iface) in records:
            change["record"] = "deleted"
            if not test:
                _run([*node, "-o", "delete"])
        changes[f"{portal} via {iface}"] = change
    return changes


def _node_tree():
    return _parsed(hostnode_iscsi.parse_tree, ["iscsiadm", "-m", "node", "-P", "1"], None,
                   "No records found")  # fmt: skip
