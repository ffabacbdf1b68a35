"""
OpenVZ user beancounters: failing and near-limit resources per container, failcnt growth since
the last look, Prometheus metrics, and limits set with ``vzctl``.

``/proc/user_beancounters`` is the first place to look when a container misbehaves: a resource
whose ``failcnt`` keeps growing (``tcpsndbuf`` hitting its limit, say) is a failing container
even when ``held`` looks fine now. The read functions also take ``source=`` (a saved copy of the
file), so they work on any node, for support bundles; ``set_limits`` needs ``vzctl``.
"""

import json
import os
import re

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import beancounters as hostnode_beancounters
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files

__virtualname__ = "beancounters"

PROC = "/proc/user_beancounters"
_CTID = re.compile(r"^\d+$")
_RESOURCE = re.compile(r"^[a-z]+$")


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "beancounters: OpenVZ exists on Linux only")
    return __virtualname__


def _run(argv):
    return hostnode_command.run(__salt__["cmd.run_all"], argv)


def read(source=None):
    """
    Every container's beancounters: ``{ctid: {resource: {held, maxheld, barrier, limit,
    failcnt}}}`` (unlimited values are null; ``*pages`` resources also in bytes).

    source
        Parse this saved copy of /proc/user_beancounters instead.

    CLI Example:

    .. code-block:: bash

        salt -G 'hostnode_openvz:hardware_node' beancounters.read
        salt '*' beancounters.read source=/tmp/bundle/user_beancounters
    """
    if source:
        parse = hostnode_beancounters.parse
        return hostnode_files.parse_source(source, parse, "a copy of /proc/user_beancounters")
    if os.path.exists(PROC):
        text = hostnode_files.read(PROC)
    else:
        raise SaltInvocationError(f"node: {PROC} does not exist (not an OpenVZ node?)")
    try:
        return hostnode_beancounters.parse(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{PROC}: {exc}") from None


def failures(source=None):
    """
    ``{ctid: {resource: failcnt}}`` for every resource whose failcnt is above 0.

    CLI Example:

    .. code-block:: bash

        salt '*' beancounters.failures
    """
    return hostnode_beancounters.failures(read(source))


def near_limit(threshold=0.9, source=None):
    """
    Resources whose held or maxheld is at or above threshold of the barrier (or of the limit
    when the barrier is unlimited or 0): ``{ctid: {resource: {value, of, bound, fraction}}}``.

    CLI Example:

    .. code-block:: bash

        salt '*' beancounters.near_limit
        salt '*' beancounters.near_limit threshold=0.8
    """
    threshold = _threshold(threshold)
    return hostnode_beancounters.near_limit(read(source), threshold)


def _threshold(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise SaltInvocationError(f"threshold: {value!r} is not a fraction in (0, 1]")
    return float(value)


def delta(source=None, name="delta", keep=False):
    """
    failcnt growth since the previous call with the same name: ``{ctid: {resource: growth}}``.

    The counters are kept in the minion's cache directory (written atomically), so each caller
    (name) has a baseline of its own. A container that restarted counts from 0 again; a new
    container counts from 0; one that vanished is left out. The first call returns what failed
    so far. With keep, the baseline is not moved (a dry look).

    CLI Example:

    .. code-block:: bash

        salt '*' beancounters.delta
        salt '*' beancounters.delta name=nightly-report
    """
    if not isinstance(name, str) or not re.match(r"^[\w.-]+$", name):
        raise SaltInvocationError(f"name: {name!r} must be letters, digits, '.', '-' or '_'")
    path = os.path.join(__opts__["cachedir"], "hostnode", f"beancounters-{name}.json")
    previous = json.loads(hostnode_files.read(path) or "{}")
    current = hostnode_beancounters.counters(read(source))
    if not keep:
        hostnode_files.replace(path, json.dumps(current, sort_keys=True), mode=0o600)
    return hostnode_beancounters.delta(previous, current)


def events(previous=None, threshold=0.9, source=None):
    """
    What the ``beancounters`` beacon reports since previous, the ``snapshot`` of an earlier
    call: one event per container and resource whose failcnt grew, or that crossed the
    near-limit threshold. Returns ``{"snapshot": ..., "events": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt '*' beancounters.events threshold=0.8
    """
    threshold = _threshold(threshold)
    containers = read(source)
    snapshot = {
        "counters": hostnode_beancounters.counters(containers),
        "near": hostnode_beancounters.near_limit(containers, threshold),
    }
    if previous is None:
        return {"snapshot": snapshot, "events": []}
    return {"snapshot": snapshot, "events": hostnode_beancounters.events(previous, snapshot)}


def write_metrics(path, source=None):
    """
    Write held, maxheld, barrier, limit and failcnt of every container and resource as a
    Prometheus textfile for node_exporter's textfile collector (atomically, mode 0644).
    Unlimited barriers and limits are left out.

    CLI Example:

    .. code-block:: bash

        salt '*' beancounters.write_metrics /var/lib/node-exporter/hostnode_beancounters.prom
    """
    if not isinstance(path, str) or not path.endswith(".prom") or not os.path.isabs(path):
        raise SaltInvocationError(f"path: {path!r} must be an absolute path ending in .prom")
    text = hostnode_beancounters.render_metrics(read(source))
    hostnode_files.replace(path, text, mode=0o644)
    return {"path": path, "samples": sum(1 for line in text.splitlines() if line[:1] != "#")}


def set_limits(ctid, limits, test=False):
    """
    Give container ctid these limits, ``{resource: "barrier:limit"}`` (``unlimited`` allowed,
    a single value meaning barrier = limit), with one ``vzctl set <ctid> --save`` call for
    what differs from /proc/user_beancounters. Returns ``{resource: {"old", "new"}}``.

    CLI Example:

    .. code-block:: bash

        salt '*' beancounters.set_limits 101 '{tcpsndbuf: "1720320:2703360", numproc: 400}'
        salt '*' beancounters.set_limits 101 '{numproc: 400}' test=True
    """
    ctid, wanted = _limits(ctid, limits)
    before = read()
    if ctid not in before:
        raise SaltInvocationError(f"ctid: container {ctid} is not running on this node")
    argv = hostnode_beancounters.set_limits_argv(ctid, wanted, before)
    if argv is None or test:
        return _limit_changes(ctid, wanted, before, None)
    if not salt.utils.path.which("vzctl"):
        raise CommandExecutionError("vzctl is not installed on this node")
    _run(argv)
    return _limit_changes(ctid, wanted, before, read())


def _limits(ctid, limits):
    ctid = str(ctid)
    if not _CTID.match(ctid):
        raise SaltInvocationError(f"ctid: {ctid!r} is not a container id")
    if not isinstance(limits, dict) or not limits:
        raise SaltInvocationError(f"limits: expected {{resource: 'barrier:limit'}}, got {limits!r}")
    wanted = {}
    for resource, value in limits.items():
        if not isinstance(resource, str) or not _RESOURCE.match(resource) or resource == "dummy":
            raise SaltInvocationError(f"limits: {resource!r} is not a beancounter resource")
        wanted[resource] = _pair(value, f"limits.{resource}")
    return ctid, wanted


def _pair(value, field):
    parts = str(value).split(":") if not isinstance(value, bool) else []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2:
        raise SaltInvocationError(f"{field}: {value!r} is not 'barrier:limit'")
    pair = []
    for part in parts:
        if part == "unlimited":
            pair.append(None)
        elif part.isdecimal():
            pair.append(int(part))
        else:
            raise SaltInvocationError(f"{field}: {value!r} is not 'barrier:limit' of numbers")
    if None not in pair and pair[0] > pair[1]:
        raise SaltInvocationError(f"{field}: the barrier {pair[0]} is above the limit {pair[1]}")
    return tuple(pair)


def _limit_changes(ctid, wanted, before, after):
    """``{resource: {old, new}}`` between before and after (after None: as wanted, predicted)."""
    changes = {}
    for resource, pair in sorted(wanted.items()):
        old = _bounds(before, ctid, resource)
        new = pair if after is None else _bounds(after, ctid, resource)
        if old != new:
            changes[resource] = {"old": _text(old), "new": _text(new)}
    return changes


def _bounds(containers, ctid, resource):
    values = containers.get(ctid, {}).get(resource, {})
    return (values.get("barrier"), values.get("limit"))


def _text(pair):
    return ":".join("unlimited" if v is None else str(v) for v in pair)
