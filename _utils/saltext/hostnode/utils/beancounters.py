"""
OpenVZ user beancounters: parse ``/proc/user_beancounters``, compare snapshots, find resources
near their limits, render Prometheus metrics and plan ``vzctl set`` calls.

A resource whose ``failcnt`` keeps growing is a failing container even when ``held`` looks fine
now; ``failcnt`` only ever grows while a container runs and starts from 0 again when it restarts.
"""

import hashlib
import re

from saltext.hostnode.utils import prometheus as hostnode_prometheus

# What the kernel prints for "no limit": LONG_MAX of a 64-bit and of a 32-bit kernel.
UNLIMITED = {9223372036854775807, 2147483647}
PAGE_SIZE = 4096  # x86 OpenVZ kernels count *pages resources in 4 KiB pages
FIELDS = ("held", "maxheld", "barrier", "limit", "failcnt")
_CTID = re.compile(r"^(\d+):(\S*)$")


def baseline_name(state_name):
    """
    The ``beancounters.delta`` baseline name of a state: any state ID (spaces, slashes, any
    length) as letters, digits, ``.``, ``-`` and ``_``, kept readable and told apart by a hash.

    >>> baseline_name("openvz no new failures")
    'state-openvz_no_new_failures-c0846b6b68dc'
    """
    readable = re.sub(r"[^\w.-]", "_", state_name, flags=re.ASCII)[:40]
    return f"state-{readable}-{hashlib.sha256(state_name.encode()).hexdigest()[:12]}"


def parse(text):
    """
    ``{ctid: {resource: {held, maxheld, barrier, limit, failcnt}}}`` from the text of
    ``/proc/user_beancounters`` (Version 2.5), container ids as strings.

    Sample (a 64-bit kernel; 32-bit kernels print narrower columns and 2147483647)::

        Version: 2.5
               uid  resource                     held              maxheld ...
             9833:  kmemsize                  3318833              4634057 ...
                    physpages                    4626                15124 ...

    Columns are split on whitespace, not by position; ``<ctid>:`` starts a container (``0:`` is
    the hardware node's own view, and Virtuozzo glues it to the first resource:
    ``331:kmemsize``); ``dummy`` rows are skipped; unlimited values are None; ``*pages``
    resources also carry ``*_bytes``; a file of only the ``Version:`` line has no container
    running. Raises ValueError naming the line for anything else (empty text included).
    """
    containers, current = {}, None
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0] in ("Version:", "uid"):
            continue
        if ":" in words[0]:
            match = _CTID.match(words[0])
            if not match:
                raise ValueError(f"line {number}: {words[0]!r} is not '<ctid>:'")
            current = containers.setdefault(match[1], {})
            words = [match[2], *words[1:]] if match[2] else words[1:]
            if not words:
                raise ValueError(f"line {number}: '{match[1]}:' without a resource on its line")
        if current is None:
            raise ValueError(f"line {number}: a resource before any '<ctid>:' ({line.strip()!r})")
        if words[0] != "dummy":
            current[words[0]] = _row(words, number)
    if not containers and not text.lstrip().startswith("Version:"):
        raise ValueError("line 1: no 'Version:' line and no container: not user_beancounters")
    return containers


def _row(words, number):
    if len(words) != 6:
        raise ValueError(f"line {number}: expected a resource and 5 numbers, got {words!r}")
    resource = words[0]
    if not (resource.isalpha() and resource.islower()):
        raise ValueError(f"line {number}: {resource!r} is not a resource name")
    try:
        held, maxheld, barrier, limit, failcnt = map(int, words[1:])
    except ValueError:
        raise ValueError(f"line {number}: {resource}: not all of {words[1:]} are numbers") from None
    barrier = None if barrier in UNLIMITED else barrier
    limit = None if limit in UNLIMITED else limit
    values = {
        "held": held,
        "maxheld": maxheld,
        "barrier": barrier,
        "limit": limit,
        "failcnt": failcnt,
    }
    if resource.endswith("pages"):
        values["held_bytes"] = held * PAGE_SIZE
        values["maxheld_bytes"] = maxheld * PAGE_SIZE
        values["barrier_bytes"] = None if barrier is None else barrier * PAGE_SIZE
        values["limit_bytes"] = None if limit is None else limit * PAGE_SIZE
    return values


def failures(containers):
    """``{ctid: {resource: failcnt}}`` for every resource with failcnt > 0."""
    found = {}
    for ctid, resources in containers.items():
        failing = {name: v["failcnt"] for name, v in resources.items() if v["failcnt"] > 0}
        if failing:
            found[ctid] = failing
    return found


def counters(containers):
    """The failcnt of every container and resource: what delta keeps between calls."""
    return {
        ctid: {name: values["failcnt"] for name, values in resources.items()}
        for ctid, resources in containers.items()
    }


def delta(previous, current):
    """
    ``{ctid: {resource: growth}}`` of failcnt between two ``counters`` snapshots, growth > 0 only.

    A counter lower than before means the container restarted: its failures since then are its
    whole count. A container that is new counts from 0; one that vanished is left out.
    """
    grown = {}
    for ctid, now in current.items():
        before = previous.get(ctid, {})
        growth = {}
        for resource, count in now.items():
            old = before.get(resource, 0)
            change = count - old if count >= old else count
            if change > 0:
                growth[resource] = change
        if growth:
            grown[ctid] = growth
    return grown


def events(previous, current):
    """
    Beacon events between two snapshots (``{"counters": counters(), "near": near_limit()}``):
    one per container and resource whose failcnt grew, and one per resource that crossed into
    the near-limit zone. Nothing when nothing changed.
    """
    found = []
    for ctid, grown in sorted(delta(previous["counters"], current["counters"]).items()):
        for resource, growth in sorted(grown.items()):
            count = current["counters"][ctid][resource]
            tag = f"{ctid}/{resource}/failcnt"
            found.append(
                {"tag": tag, "ctid": ctid, "resource": resource, "growth": growth, "failcnt": count}
            )
    for ctid, resources in sorted(current["near"].items()):
        for resource, hit in sorted(resources.items()):
            if resource not in previous["near"].get(ctid, {}):
                found.append(
                    {
                        "tag": f"{ctid}/{resource}/near_limit",
                        "ctid": ctid,
                        "resource": resource,
                        **hit,
                    }
                )
    return found


def near_limit(containers, threshold=0.9):
    """
    ``{ctid: {resource: {"value", "of", "bound", "fraction"}}}`` for resources whose held or
    maxheld is at or above threshold of the barrier, or of the limit when the barrier is
    unlimited or 0. Resources with neither bound are never near.
    """
    found = {}
    for ctid, resources in containers.items():
        for resource, values in resources.items():
            hit = _near(values, threshold)
            if hit:
                found.setdefault(ctid, {})[resource] = hit
    return found


def _near(values, threshold):
    bound_name = "barrier" if values["barrier"] else "limit"
    bound = values[bound_name]
    if not bound:
        return None
    name = max(("held", "maxheld"), key=lambda key: values[key])
    fraction = values[name] / bound
    if fraction < threshold:
        return None
    return {"value": name, "of": bound_name, "bound": bound, "fraction": round(fraction, 4)}


def render_metrics(containers):
    """
    A Prometheus textfile: held, maxheld, barrier, limit and failcnt per container and resource.

    Unlimited barriers and limits are left out (no sample), so a query for ``held / limit`` only
    sees real limits. ``*pages`` resources are given in pages, as the kernel counts them, with
    the unit in the metric's help.
    """
    families = []
    for field in FIELDS:
        counter = field == "failcnt"
        name = f"hostnode_beancounter_{field}" + ("_total" if counter else "")
        samples = [
            ({"container": ctid, "resource": resource}, values[field])
            for ctid in sorted(containers, key=int)
            for resource, values in sorted(containers[ctid].items())
            if values[field] is not None
        ]
        families.append((name, "counter" if counter else "gauge", _HELP[field], samples))
    return hostnode_prometheus.exposition(families)


_HELP = {
    "held": "Current usage of the resource (pages for *pages resources, else bytes or items).",
    "maxheld": "Highest usage of the resource in the accounting period.",
    "barrier": "Barrier of the resource; absent when unlimited.",
    "limit": "Limit of the resource; absent when unlimited.",
    "failcnt": "Allocations the kernel refused for the resource since the container started.",
}


def set_limits_argv(ctid, wanted, containers):
    """
    The ``vzctl set`` call that gives container ctid the wanted ``{resource: (barrier, limit)}``
    (None meaning unlimited), only for what differs from the parsed containers; None when
    nothing differs. One call per container, saved to its config (``--save``).
    """
    current = containers.get(ctid, {})
    argv = ["vzctl", "set", ctid, "--save"]
    for resource, (barrier, limit) in sorted(wanted.items()):
        now = current.get(resource, {})
        if (now.get("barrier"), now.get("limit")) != (barrier, limit):
            argv += [f"--{resource}", f"{_vz(barrier)}:{_vz(limit)}"]
    return argv if len(argv) > 4 else None


def _vz(value):
    return "unlimited" if value is None else str(value)
