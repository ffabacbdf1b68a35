"""
A node's maintenance (formulas/node/maintenance.sls, docs/maintenance.md): the pillar
``hostnode_maintenance`` checked, the answers of Ganeti and Ceph that gate each node read, and
the commands of each step planned. Pure: the ``maintenance`` execution module runs them.
"""

import json
import re

from saltext.hostnode.utils import node as hostnode_node
from saltext.hostnode.utils import verify_disks as hostnode_verify_disks

FIELD = "hostnode_maintenance"
DEFAULTS = {
    "targets": [],
    "payload": [{"function": "pkg.upgrade"}],
    "reboot": False,
    "wait_start": False,
    "start_timeout": 900,
    "failover": False,
    "ceph_allowed_warnings": [],
    "settle_timeout": 1800,
    "rebalance": False,
}
PAYLOAD_KEYS = ("sls", "function", "arg", "kwarg")
# Ceph's health check codes: upper case words joined by underscores (OSD_FLAGS, POOL_NO_REDUNDANCY).
_CHECK = re.compile(r"^[A-Z][A-Z0-9_]*$")
_FUNCTION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_SLS = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def settings(value):
    """
    The pillar ``hostnode_maintenance`` merged over DEFAULTS, or ValueError naming the field::

        {"targets": ["hv2.ams1.example.net"], "reboot": True}
    """
    if not isinstance(value, dict):
        raise ValueError(f"{FIELD}: expected a mapping with targets, got {value!r}")
    unknown = sorted(set(value) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{FIELD}:{unknown[0]}: unknown key (known: {', '.join(DEFAULTS)})")
    merged = {**DEFAULTS, **value}
    targets = merged["targets"]
    if not isinstance(targets, list) or not targets:
        raise ValueError(f"{FIELD}:targets: a non-empty list of minion ids, got {targets!r}")
    names = [hostnode_node.fqdn(t, f"{FIELD}:targets:{i}") for i, t in enumerate(targets)]
    if len(set(names)) != len(names):
        raise ValueError(f"{FIELD}:targets: a node is named twice: {targets}")
    merged["targets"] = names
    merged["payload"] = _payload(merged["payload"])
    for key in ("reboot", "wait_start", "failover", "rebalance"):
        if not isinstance(merged[key], bool):
            raise ValueError(f"{FIELD}:{key}: true or false, got {merged[key]!r}")
    for key in ("start_timeout", "settle_timeout"):
        seconds = merged[key]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            raise ValueError(f"{FIELD}:{key}: a number of seconds (1 or more), got {seconds!r}")
    allowed = merged["ceph_allowed_warnings"]
    if not isinstance(allowed, list) or not all(
        isinstance(code, str) and _CHECK.match(code) for code in allowed
    ):
        raise ValueError(
            f"{FIELD}:ceph_allowed_warnings: a list of Ceph health check codes "
            f"(OSD_FLAGS, ...), got {allowed!r}"
        )
    return merged


def _payload(items):
    field = f"{FIELD}:payload"
    if not isinstance(items, list) or not items:
        raise ValueError(f"{field}: a non-empty list of {{sls: ...}} or {{function: ...}}")
    for index, item in enumerate(items):
        _payload_item(item, f"{field}:{index}")
    return items


def _payload_item(item, where):
    if not isinstance(item, dict) or len({"sls", "function"} & set(item)) != 1:
        raise ValueError(f"{where}: one of sls or function, got {item!r}")
    unknown = sorted(set(item) - set(PAYLOAD_KEYS))
    if unknown:
        raise ValueError(f"{where}:{unknown[0]}: unknown key (known: {', '.join(PAYLOAD_KEYS)})")
    if "sls" in item:
        sls = item["sls"]
        if len(item) > 1 or not isinstance(sls, str) or not _SLS.match(sls):
            raise ValueError(f"{where}:sls: one SLS name and nothing else, got {item!r}")
    elif not isinstance(item["function"], str) or not _FUNCTION.match(item["function"]):
        raise ValueError(f"{where}:function: module.function, got {item['function']!r}")
    elif not isinstance(item.get("arg", []), list):
        raise ValueError(f"{where}:arg: a list, got {item['arg']!r}")
    elif not isinstance(item.get("kwarg", {}), dict):
        raise ValueError(f"{where}:kwarg: a mapping, got {item['kwarg']!r}")


def ganeti_role(node, cluster):
    """
    ``{"master", "nodes"}`` of the Ganeti cluster node belongs to, from what its pillar
    declares (``ganeti.declared_cluster``), or None when node is not one of its nodes. The
    master itself is refused: the orchestration runs Ganeti's commands there.
    """
    if not cluster or (node != cluster["master"] and node not in cluster["nodes"]):
        return None
    if node == cluster["master"]:
        raise ValueError(
            f"{FIELD}:targets: {node} is its Ganeti cluster's master, where the maintenance "
            "runs Ganeti's commands: move the master role first (gnt-cluster master-failover "
            "on another master candidate)"
        )
    return {"master": cluster["master"], "nodes": [cluster["master"], *cluster["nodes"]]}


def parse_whoami(texts):
    """
    The OSD ids of this host, from the ``whoami`` files of its OSD data directories
    (/var/lib/ceph/osd/<cluster>-<id>/whoami, which ceph-volume activate writes), given as
    ``{path: text}``; sorted, each once.
    """
    ids = set()
    for path, text in texts.items():
        value = text.strip()
        if not value.isdecimal():
            raise ValueError(f"{path}: {value[:20]!r} is not an OSD id")
        ids.add(int(value))
    return sorted(ids)


def parse_verify_disks(text):
    """
    ``gnt-cluster verify-disks`` output (stdout and stderr): ``{"clean": bool, "problems":
    [...]}``, one problem per finding of ``verify_disks.parse`` (docs/ganeti.md). The command
    activates what it finds inactive and says so, which is a problem for a gate: the cluster
    was not clean.
    """
    problems = hostnode_verify_disks.problems(hostnode_verify_disks.parse(text))
    return {"clean": not problems, "problems": problems}


def parse_health(text):
    """
    ``ceph health --format json`` (or ``ceph status --format json``, whose ``health`` member
    is the same)::

        {"status": "HEALTH_WARN", "checks": {"OSD_FLAGS": {"severity": "HEALTH_WARN",
         "summary": {"message": "1 OSDs or CRUSH {nodes, device-classes} have {NOUP,NODOWN,
         NOIN,NOOUT} flags set", "count": 1}, "muted": false}}, "mutes": []}

    gives ``{"status": ..., "checks": {code: message}}``.
    """
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"ceph health: not JSON ({exc.msg}, line {exc.lineno})") from None
    if isinstance(answer, dict) and isinstance(answer.get("health"), dict):
        answer = answer["health"]
    if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
        raise ValueError("ceph health: no status in the answer")
    checks = answer.get("checks", {})
    if not isinstance(checks, dict):
        raise ValueError("ceph health: checks is not a mapping")
    try:
        messages = {code: check["summary"]["message"] for code, check in checks.items()}
    except (KeyError, TypeError):
        raise ValueError("ceph health: a check without summary:message") from None
    return {"status": answer["status"], "checks": messages}


def health_problems(health, allowed):
    """One line per health check that pillar does not allow ([] for HEALTH_OK)."""
    if health["status"] == "HEALTH_OK":
        return []
    refused = {code: text for code, text in health["checks"].items() if code not in allowed}
    if not health["checks"]:
        return [f"ceph: {health['status']} without a check named"]
    return [f"ceph {health['status']}: {code}: {text}" for code, text in sorted(refused.items())]


def osds_not_back(osds, ids):
    """One line per OSD of ids that is not up and in (osds: ``ceph.parse_osd_tree``)."""
    found = {osd["id"]: osd for osd in osds}
    lines = []
    for osd_id in ids:
        osd = found.get(osd_id)
        if osd is None:
            lines.append(f"osd.{osd_id} is not in the cluster's OSD tree")
        elif osd["status"] != "up" or osd["reweight"] == 0:
            state = "in" if osd["reweight"] else "out"
            lines.append(f"osd.{osd_id} is {osd['status']} and {state}")
    return lines


def parse_node_state(text, node):
    """
    ``gnt-node list --no-headers --separator=| -o name,drained,pinst_cnt NODE``:
    ``{"drained": bool, "primaries": count}``.
    """
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.strip().split("|")
        if fields[0] != node:
            continue
        if len(fields) != 3 or fields[1] not in ("Y", "N") or not fields[2].isdecimal():
            raise ValueError(f"line {number}: not name|drained|pinst_cnt")
        return {"drained": fields[1] == "Y", "primaries": int(fields[2])}
    raise ValueError(f"{node} is not a node of this cluster")


NODE_STATE = ["gnt-node", "list", "--no-headers", "--separator=|", "-o", "name,drained,pinst_cnt"]
VERIFY_DISKS = ["gnt-cluster", "verify-disks"]
HCHECK = ["hcheck", "--machine-readable", "-L"]
HBAL = ["hbal", "-L", "-X"]


def drain_commands(node, state):
    """
    Mark node drained (no new instance lands on it; a master candidate is demoted, another node
    promoted when the cluster would lack candidates), then migrate its primaries away.
    """
    drain = ["gnt-node", "modify", "--drained=yes", "--auto-promote", node]
    commands = [] if state["drained"] else [drain]
    if state["primaries"]:
        commands.append(["gnt-node", "migrate", "-f", node])
    return commands


def failover_command(node):
    """What moves the primaries a live migration left behind: stopped and started elsewhere."""
    return ["gnt-node", "failover", "-f", node]


def undrain_commands(node, state):
    """
    verify-disks, which activates the DRBD disks of node's instances once its Ganeti daemons
    answer again (the resync starts), then undrain node.
    """
    return [
        VERIFY_DISKS,
        *([["gnt-node", "modify", "--drained=no", node]] if state["drained"] else []),
    ]


def noout_command(ids, on):
    """Keep the OSDs of ids in while they restart (or let the cluster mark them out again)."""
    return ["ceph", "osd", "add-noout" if on else "rm-noout", *(f"osd.{i}" for i in ids)]


def ok_to_stop_command(ids):
    return ["ceph", "osd", "ok-to-stop", *(str(i) for i in ids), "-f", "json"]
