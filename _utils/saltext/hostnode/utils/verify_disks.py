"""
``gnt-cluster verify-disks`` (Ganeti 2.0 to 3.x), read from what it prints (stdout and stderr,
in either order): one finding per node it could not read, per instance whose disks it had to
activate (or failed to), per instance it cannot verify and per instance missing logical volumes,
and per verify job that failed. The lines it prints besides (job submission and waiting, advice,
"No disks need to be activated.", the activation jobs' timestamped feedback) carry no finding.

Every message comes from VerifyDisks in Ganeti's lib/client/gnt_cluster.py (scripts/gnt-cluster
in 2.0) and the job executor and poller of its lib/cli.py. Since 2.5 one job per node group
reports, and the nodes are named by UUID since 2.10. Note that the command is not read-only: it
activates the disks of the instances it names (as ganeti-watcher does every 5 minutes).
"""

import re

# Findings, by kind, with the problem line health gives each.
KINDS = {
    "node_unreachable": "node {node} unreachable or with bad data",
    "node_error": "node {node}: {error}",
    "disks_activated": "instance {instance}: its disks were not active, now activated",
    "activation_failed": "instance {instance}: activating its disks failed: {error}",
    "not_verifiable": "instance {instance} cannot be verified, it lives on broken nodes",
    "missing_volumes": "instance {instance} misses logical volumes: {volumes}",
    "job_failed": "a verify-disks job failed: {error}",
}
_FINDINGS = [
    (re.compile(r"^Error gathering data on node (\S+): (.*)$"), "node_error", ("node", "error")),
    (re.compile(r"^Error on node (\S+): LVM error: (.*)$"), "node_error", ("node", "error")),
    (re.compile(r"^Activating disks for instance '(\S+)'$"), "disks_activated", ("instance",)),
    (re.compile(r"^Error activating disks for instance (\S+): (.*)$"), "activation_failed",
     ("instance", "error")),
    (re.compile(r"^Instance (\S+) cannot be verified as it lives on broken nodes$"),
     "not_verifiable", ("instance",)),
    (re.compile(r"^Instance (\S+) has missing logical volumes:$"), "missing_volumes",
     ("instance",)),
    (re.compile(r"^Job failed: (.*)$"), "job_failed", ("error",)),
]  # fmt: skip
_UNREACHABLE = "Nodes unreachable or with bad data:"  # 2.0, followed by one "\t<node>" each
_VOLUME = re.compile(r"^\t(broken node )?(\S+) (/dev/\S+)$")
# Lines without a finding; those ending in free text may go on over the next lines.
_NOISE = re.compile(
    r"^(?:Submitted jobs [\d, ]+"
    r"|Waiting for job \d+(?: for \S+)? \.\.\."
    r"|Job \d+ is waiting in queue"
    r"|Job \d+ is trying to acquire all necessary locks"
    r"|Job \d+(?: for \S+)? has been archived, cannot check its result"
    r"|No disks need to be activated\."
    r"|You need to fix these nodes first before fixing instances"
    r"|You need to (?:run replace_disks|run replace or recreate disks|replace or recreate disks)"
    r" for all the above instances,? if this message persists? after fixing (?:broken )?nodes\.)$"
)
_FREE_TEXT = re.compile(
    r"^(?:Job \d+(?: for \S+)? has failed: "  # the job executor, before "Job failed: "
    r"|Failed to submit job(?: for \S+)?: "
    r"|\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} )"  # an activation job's feedback
)


def parse(text):
    """
    The findings of verify-disks output, in its order: dicts with ``kind`` (a key of KINDS) and
    ``node``/``error``, ``instance``/``error``, or ``instance``/``volumes`` (``[{node, path,
    broken_node}]``). Output of a healthy cluster, Ganeti 3.0:

    .. code-block:: text

        Submitted jobs 3
        Waiting for job 3 ...
        No disks need to be activated.

    and with findings (Ganeti 3.0 names nodes by UUID; long lines cut here at "..."):

    .. code-block:: text

        Error gathering data on node d43e2b9c-...-3b8e6c1f7d22: Error 7: Failed to connect to ...
        You need to fix these nodes first before fixing instances
        Instance inst4.example.com has missing logical volumes:
        <TAB>7a1f3c52-...-0c6f5d2e9a11 /dev/xenvg/5e0b8f3a-...-7d3c2e1f0a44.disk0_data
        <TAB>broken node d43e2b9c-...-3b8e6c1f7d22 /dev/xenvg/5e0b8f3a-...-7d3c2e1f0a44.disk0_meta

    An error message that goes on over several lines (Ganeti's formatted errors do) stays one
    error; any other line is a ValueError naming it.
    """
    findings, block, free = [], None, None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        volume = _VOLUME.match(line)
        if block == "volumes" and volume:
            findings[-1]["volumes"].append(
                {"node": volume[2], "path": volume[3], "broken_node": bool(volume[1])}
            )
            continue
        if block == "unreachable" and re.match(r"^\t\S+$", line):
            findings.append({"kind": "node_unreachable", "node": line.strip()})
            continue
        block = None
        finding = _finding(line)
        if finding:
            _add(findings, finding)
            block = "volumes" if finding["kind"] == "missing_volumes" else None
            free = finding if "error" in finding else None
        elif line == _UNREACHABLE:
            block, free = "unreachable", None
        elif _NOISE.match(line):
            free = None
        elif _FREE_TEXT.match(line):
            free = {}
        elif free is not None:
            if "error" in free:
                free["error"] += "\n" + line
        else:
            raise ValueError(f"line {number}: not a line of gnt-cluster verify-disks: {line!r}")
    return findings


def _finding(line):
    for pattern, kind, keys in _FINDINGS:
        if match := pattern.match(line):
            found = {"kind": kind, **dict(zip(keys, match.groups(), strict=True))}
            if kind == "missing_volumes":
                found["volumes"] = []
            return found
    return None


def _add(findings, finding):
    """A failed activation replaces the instance's "Activating disks" finding."""
    if finding["kind"] == "activation_failed":
        for index, earlier in enumerate(findings):
            if earlier == {"kind": "disks_activated", "instance": finding["instance"]}:
                findings[index] = finding
                return
    findings.append(finding)


# curl's "Failed to connect to 192.0.2.12 port 1811 after 3057 ms" (an unreachable node) changes
# at every run: left out, so that a problem stays the same line while it lasts (beacon events).
_ELAPSED = re.compile(r" after \d+ ms(?=:)")


def problems(findings):
    """One line per finding, ``verify-disks: ...`` (errors on one line, without curl's elapsed
    time)."""
    lines = []
    for finding in findings:
        fields = dict(finding)
        if "error" in fields:
            fields["error"] = _ELAPSED.sub("", " ".join(fields["error"].split()))
        if "volumes" in fields:
            fields["volumes"] = ", ".join(
                f"{v['path']} on {'broken node ' if v['broken_node'] else ''}{v['node']}"
                for v in finding["volumes"]
            )
        lines.append("verify-disks: " + KINDS[finding["kind"]].format(**fields))
    return lines


def render_metrics(findings):
    """The ``hostnode_ganeti_verify_disks_problems`` family for the prometheus writer: the
    number of findings of each kind, every kind present (0 when none)."""
    samples = [({"kind": kind}, sum(f["kind"] == kind for f in findings)) for kind in KINDS]
    return [("hostnode_ganeti_verify_disks_problems", "gauge",
             "Findings of gnt-cluster verify-disks on the master, by kind", samples)]  # fmt: skip
