"""
The cluster checker ``hcheck`` (Ganeti htools): N+1 redundancy and the other problems it counts
for the whole cluster before rebalancing, from its plain or ``--machine-readable`` output.
"""

import re

# The plain report's "Cluster statistics initially" lines, by the machine-readable key.
_LABELS = {
    "Nodes not N+1 happy": "n1_fail",
    "Nodes with conflicting instances": "conflict_tags",
    "Instances having the primary node offline": "offline_pri",
    "Instances having a secondary node offline": "offline_sec",
    "Nodes not directly evacuateable": "gn1_fail",
}
_MACHINE = re.compile(r"^HCHECK_INIT_CLUSTER_([A-Z0-9_]+)=(\S*)$")
_PROBLEMS = {
    "n1_fail": "nodes not N+1 happy",
    "conflict_tags": "nodes with conflicting instances",
    "offline_pri": "instances with their primary node offline",
    "offline_sec": "instances with a secondary node offline",
    "gn1_fail": "nodes not directly evacuable",
}


def parse(text):
    """
    ``{n1_fail, conflict_tags, offline_pri, offline_sec, gn1_fail, need_rebalance}`` (counts
    and a bool) from either layout:

    .. code-block:: text

        Cluster needs rebalancing.
        ...
        Cluster statistics initially
            Nodes not N+1 happy: 4
            Nodes with conflicting instances: 0
            Instances having the primary node offline: 0
            Instances having a secondary node offline: 0
            Nodes not directly evacuateable: 4
            Cluster is not healthy: True

    or ``HCHECK_INIT_CLUSTER_N1_FAIL=4`` ... ``HCHECK_INIT_CLUSTER_NEED_REBALANCE=1``.
    """
    lines = text.splitlines()
    if any(line.startswith("HCHECK_") for line in lines):
        found = {}
        for number, line in enumerate(lines, 1):
            if match := _MACHINE.match(line):
                found[match[1].lower()] = _count(match[2], number)
        found["need_rebalance"] = bool(found.get("need_rebalance"))
    else:
        found = _plain(lines)
    missing = [key for key in _PROBLEMS if key not in found]
    if missing:
        raise ValueError(f"hcheck output without the cluster's {', '.join(missing)}")
    return {key: found[key] for key in (*_PROBLEMS, "need_rebalance")}


def _plain(lines):
    found, block = {}, False
    for number, line in enumerate(lines, 1):
        if not line.startswith(" "):
            block = line.strip() == "Cluster statistics initially"
            if line.strip() == "Cluster needs rebalancing.":
                found["need_rebalance"] = True
            continue
        label, _, value = line.strip().partition(": ")
        if block and label in _LABELS:
            found[_LABELS[label]] = _count(value, number)
    found.setdefault("need_rebalance", False)
    return found


def _count(value, number):
    if not value.isdigit():
        raise ValueError(f"line {number}: {value!r} is not a count")
    return int(value)


# The counts that forbid moving a node's primaries away by migration or failover: a node not
# N+1 happy (its secondaries could not take over its primaries' memory), instances whose node
# is offline. Not "directly evacuable" (gn1_fail) is about gnt-node evacuate, which also moves
# secondaries: a two-node cluster with a DRBD instance always counts its nodes there.
MIGRATION_BLOCKERS = ("n1_fail", "offline_pri", "offline_sec")


def problems(report, keys=tuple(_PROBLEMS)):
    """One line per non-zero count of report (the ``parse`` result) among keys (default: all)."""
    return [f"hcheck: {report[key]} {_PROBLEMS[key]}" for key in keys if report[key]]


# Metric names of the counts (promtool refuses abbreviations such as "sec" that read as units).
_METRICS = {
    "n1_fail": "nodes_not_n1_happy",
    "conflict_tags": "nodes_with_conflicting_instances",
    "offline_pri": "instances_primary_node_offline",
    "offline_sec": "instances_secondary_node_offline",
    "gn1_fail": "nodes_not_evacuable",
}


def render_metrics(report):
    """The ``hostnode_ganeti_hcheck_*`` families of report for the prometheus writer."""
    return [
        (f"hostnode_ganeti_hcheck_{_METRICS[key]}", "gauge", f"hcheck: {text} (before rebalancing)",
         [({}, report[key])])
        for key, text in _PROBLEMS.items()
    ] + [("hostnode_ganeti_hcheck_need_rebalance", "gauge", "1 when hcheck says the cluster "
          "needs rebalancing", [({}, int(report["need_rebalance"]))])]  # fmt: skip
