"""
The steps of a node's maintenance (formulas/node/maintenance.sls, docs/maintenance.md): gate,
drain, return, for Ganeti on the cluster's master node and for Ceph on the node itself. Each
step takes ``test=True`` and then runs nothing (not even its reads) and returns the commands a
real run executes from a node not yet drained; a real run reads first and skips what is done,
so a re-run after a failure resumes. A gate that refuses raises an error naming each problem,
and nothing has moved.
"""

import glob
import os
import time

import salt.utils.path
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import ceph as hostnode_ceph
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import hcheck as hostnode_hcheck
from saltext.hostnode.utils import maintenance as hostnode_maintenance
from saltext.hostnode.utils import node as hostnode_node
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "maintenance"

OSD_DIRS = "/var/lib/ceph/osd/*-*/whoami"
HEALTH = ["ceph", "health", "--format", "json"]
OSD_TREE = ["ceph", "osd", "tree", "-f", "json"]
# Seconds between two looks while waiting for DRBD, OSDs or health to settle.
POLL = 5
# How long the Ceph gate asks ok-to-stop again while Ceph cannot judge yet (EAGAIN: PGs whose
# state its mgr does not know, as after an OSD's restart or a pool's creation).
UNKNOWN_PGS_WAIT = 120


def __virtual__():
    return __virtualname__


def _run(argv, check=True):
    if not salt.utils.path.which(argv[0]):
        raise CommandExecutionError(f"{argv[0]} is not installed")
    return hostnode_command.run(__salt__["cmd.run_all"], argv, check=check)


def _parsed(parser, text, where):
    try:
        return parser(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{where}: {exc}") from None


def _settings(settings):
    try:
        return hostnode_maintenance.settings(settings)
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None


def facts(settings):
    """
    What the orchestration needs of this node, as a target of the maintenance settings (pillar
    ``hostnode_maintenance``, checked here: an error names the field): ``{"settings": the
    settings with their defaults, "ganeti": {"master", "nodes"} of this node's Ganeti cluster
    or None, "osds": the ids of this node's OSDs}``. A node that is its cluster's Ganeti master
    is refused.

    CLI Example:

    .. code-block:: bash

        salt 'hv2*' maintenance.facts '{"targets": [hv2.ams1.example.net]}'
    """
    checked = _settings(settings)
    try:
        ganeti = hostnode_maintenance.ganeti_role(
            __grains__["id"], __salt__["ganeti.declared_cluster"]()
        )
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None
    return {"settings": checked, "ganeti": ganeti, "osds": osds()}


def osds(source=None):
    """
    The ids of the OSDs this node runs, from the ``whoami`` file of each OSD data directory
    (/var/lib/ceph/osd/<cluster>-<id>/whoami, under the option ``hostnode:config_root``); []
    without any. source is a directory read in place of / (a copy of a node's files).

    CLI Example:

    .. code-block:: bash

        salt 'stor*' maintenance.osds
    """
    if source and not os.path.isdir(source):
        raise SaltInvocationError(f"source: {source} is not a directory")
    root = source or __salt__["config.get"]("hostnode:config_root", "/") or "/"
    paths = sorted(glob.glob(os.path.join(root, OSD_DIRS.lstrip("/"))))
    texts = {path: hostnode_files.read(path) or "" for path in paths}
    return _parsed(hostnode_maintenance.parse_whoami, texts, "OSD data directories")


def verify_disks(source=None):
    """
    ``gnt-cluster verify-disks`` on the cluster's master: ``{"clean", "problems"}``. Note that
    the command activates the disks it finds inactive (and says so: not clean). source reads
    saved output instead.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' maintenance.verify_disks
    """
    parse = hostnode_maintenance.parse_verify_disks
    if source:
        return hostnode_files.parse_source(source, parse, "gnt-cluster verify-disks output")
    result = _run(hostnode_maintenance.VERIFY_DISKS, check=False)
    text = f"{result['stdout']}\n{result['stderr']}"
    if result["retcode"] == 0:
        return _parsed(parse, text, "gnt-cluster verify-disks")
    try:
        report = parse(text)
    except ValueError:  # it failed before printing what it found: its own words say why
        report = {"clean": True, "problems": []}
    if report["clean"]:
        said = (result["stderr"] or result["stdout"]).strip()
        report = {"clean": False, "problems": [f"exited {result['retcode']}: {said}"]}
    return report


def ceph_health(source=None):
    """
    ``ceph health`` as ``{"status", "checks": {code: message}}``; source reads a saved
    ``ceph health --format json`` or ``ceph status --format json``.

    CLI Example:

    .. code-block:: bash

        salt 'stor1*' maintenance.ceph_health
    """
    parse = hostnode_maintenance.parse_health
    if source:
        return hostnode_files.parse_source(source, parse, "ceph health/status JSON")
    return _parsed(parse, _run(HEALTH), " ".join(HEALTH))


def ok_to_stop(osd_ids, source=None):
    """
    Whether the cluster stays available with all of osd_ids stopped at once (``ceph osd
    ok-to-stop``): ``{"ok", "osds", "reason", "again"}`` (again: Ceph cannot judge yet, EAGAIN).
    source reads a saved answer (its JSON).

    CLI Example:

    .. code-block:: bash

        salt 'stor1*' maintenance.ok_to_stop '[0, 1]'
    """
    argv = hostnode_maintenance.ok_to_stop_command(_ids(osd_ids))
    if source:
        return hostnode_files.parse_source(
            source, lambda text: _stop_verdict(text, 0, ""), "ceph osd ok-to-stop JSON"
        )
    result = _run(argv, check=False)
    return _parsed(lambda text: _stop_verdict(text, result["retcode"], result["stderr"]),
                   result["stdout"], " ".join(argv))  # fmt: skip


def _stop_verdict(text, retcode, stderr):
    verdict = hostnode_ceph.parse_ok_to_stop(text, retcode, stderr)
    if not verdict["ok"] and not verdict["reason"]:
        verdict["reason"] = "the cluster says it is not ok to stop them"
    return verdict


def _ids(values):
    if not isinstance(values, list) or not values:
        raise SaltInvocationError(f"osds: a non-empty list of OSD ids, got {values!r}")
    for value in values:
        if isinstance(value, bool) or not str(value).isdecimal():
            raise SaltInvocationError(f"osds: {value!r} is not an OSD id")
    return [int(value) for value in values]


def _checked(test, node=None, timeout=None, **flags):
    """Refuse a bad argument before anything runs: an error naming it, nothing changed."""
    for name, value in {"test": test, **flags}.items():
        if not isinstance(value, bool):
            raise SaltInvocationError(f"{name}: true or false, got {value!r}")
    if node is not None:
        try:
            hostnode_node.fqdn(node, "node")
        except ValueError as exc:
            raise SaltInvocationError(str(exc)) from None
    if timeout is not None:
        hostnode_validate.whole_number(timeout, "timeout")


def _refuse(what, problems):
    if problems:
        raise CommandExecutionError(f"{what} refused: {'; '.join(problems)}; nothing moved")


def _wait(look, timeout, what):
    """Call look() (problems, [] when settled) until it returns [] or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        problems = look()
        if not problems:
            return
        if time.monotonic() >= deadline:
            raise CommandExecutionError(
                f"{what} not reached after {timeout} s: {'; '.join(problems)}"
            )
        time.sleep(POLL)


def ganeti_gate(node, test=False):
    """
    On the Ganeti master, before node's maintenance: ``gnt-cluster verify-disks`` clean, and
    where htools is installed, ``hcheck`` finds the cluster N+1 happy with no instance's node
    offline (``hcheck.MIGRATION_BLOCKERS``; nodes not directly evacuable do not count: the
    drain migrates). Returns ``{"checked": [commands]}``; a problem raises an error naming it.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' maintenance.ganeti_gate hv2.ams1.example.net test=True
    """
    _checked(test, node)
    checks = [hostnode_maintenance.VERIFY_DISKS]
    if salt.utils.path.which("hcheck"):
        checks.append(hostnode_maintenance.HCHECK)
    if not test:
        problems = verify_disks()["problems"]
        if len(checks) > 1:
            text = _run(hostnode_maintenance.HCHECK, check=False)["stdout"]
            report = _parsed(hostnode_hcheck.parse, text, "hcheck")
            problems += hostnode_hcheck.problems(report, hostnode_hcheck.MIGRATION_BLOCKERS)
        _refuse(f"the Ganeti gate of {node}", problems)
    return {"checked": [" ".join(argv) for argv in checks]}


def drbd_synced(timeout=0, test=False):
    """
    This node's DRBD minors are all Connected and UpToDate on both sides (``ganeti.health``
    of DRBD alone: on the master, ``gnt-cluster verify-disks`` is the Ganeti steps' to run),
    waiting up to timeout seconds for a resync to finish (0: look once). Returns
    ``{"checked": [...]}``; minors still degraded raise an error naming each.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' maintenance.drbd_synced timeout=1800
    """
    _checked(test, timeout=timeout)
    if not test:
        _wait(_drbd_problems, timeout, "DRBD UpToDate/UpToDate")
    return {"checked": [f"DRBD minors UpToDate on both sides (within {timeout} s)"]}


def _drbd_problems():
    return __salt__["ganeti.health"](verify_disks=False)["problems"]


def _node_state(node):
    argv = [*hostnode_maintenance.NODE_STATE, node]
    text = _run(argv)
    return _parsed(lambda t: hostnode_maintenance.parse_node_state(t, node), text, " ".join(argv))


# What test=True plans from: a node that is not drained yet and is primary for instances.
NOT_DRAINED = {"drained": False, "primaries": 1}


def ganeti_drain(node, failover=False, test=False):
    """
    On the Ganeti master: node drained (``gnt-node modify --drained=yes --auto-promote``), then
    its primary instances live-migrated away (``gnt-node migrate -f``). With failover, instances
    that the migration left behind are failed over (``gnt-node failover -f``: stopped and
    started on their secondary). Returns ``{"commands": [...]}`` (and under test, with
    failover, ``"if_migration_fails"``); a node still primary for an instance afterwards is an
    error.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' maintenance.ganeti_drain hv2.ams1.example.net test=True
    """
    _checked(test, node, failover=failover)
    failover_argv = hostnode_maintenance.failover_command(node)
    if test:
        plan = hostnode_maintenance.drain_commands(node, NOT_DRAINED)
        extra = {"if_migration_fails": [" ".join(failover_argv)]} if failover else {}
        return {"commands": [" ".join(argv) for argv in plan], **extra}
    done = []
    try:
        for argv in hostnode_maintenance.drain_commands(node, _node_state(node)):
            done.append(" ".join(_run_or_failover(argv, failover_argv if failover else None)))
    except CommandExecutionError as exc:
        exc.info = {"commands": done}  # what ran before: the node may be drained already
        raise
    left = _node_state(node)["primaries"]
    if left:
        raise CommandExecutionError(f"{node} is still primary for {left} instance(s)")
    return {"commands": done} if done else {}


def _run_or_failover(argv, failover_argv):
    """Run argv; a failed migration runs failover_argv instead, when given. The one run."""
    try:
        _run(argv)
    except CommandExecutionError:
        if argv[:2] != ["gnt-node", "migrate"] or failover_argv is None:
            raise
        _run(failover_argv)
        return failover_argv
    return argv


def ganeti_return(node, timeout=1800, test=False):
    """
    On the Ganeti master, once node is back: ``gnt-cluster verify-disks``, repeated for up to
    timeout seconds until it exits 0 (node's Ganeti daemons answer again and the DRBD disks of
    its instances are activated: the resync starts), then undrained (``gnt-node modify
    --drained=no``). Returns ``{"commands": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' maintenance.ganeti_return hv2.ams1.example.net test=True
    """
    _checked(test, node, timeout)
    state = {"drained": True} if test else _node_state(node)
    plan = hostnode_maintenance.undrain_commands(node, state)
    if not test:
        _wait(_verify_disks_failures, timeout, "gnt-cluster verify-disks exiting 0")
        for argv in plan[1:]:
            _run(argv)
    return {"commands": [" ".join(argv) for argv in plan]}


def _verify_disks_failures():
    result = _run(hostnode_maintenance.VERIFY_DISKS, check=False)
    said = " ".join((result["stdout"] + result["stderr"]).split())
    return [f"exited {result['retcode']}: {said}"] if result["retcode"] else []


def rebalance(test=False):
    """
    On the Ganeti master: ``hbal -L -X`` (htools moves instances until the cluster is
    balanced), where htools is installed; ``{}`` without it.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' maintenance.rebalance test=True
    """
    _checked(test)
    if not salt.utils.path.which(hostnode_maintenance.HBAL[0]):
        return {}
    if not test:
        _run(hostnode_maintenance.HBAL)
    return {"commands": [" ".join(hostnode_maintenance.HBAL)]}


def ceph_gate(osd_ids, allowed=None, test=False):
    """
    On the node, before its maintenance: Ceph is HEALTH_OK, or warns only of the health check
    codes allowed lists, and ``ceph osd ok-to-stop`` says its OSDs (osd_ids) may all stop at
    once; asked again every few seconds, for up to two minutes, while Ceph answers that it
    cannot judge yet (EAGAIN: PGs in state unknown). Returns ``{"checked": [commands]}``; a
    problem raises an error naming it.

    CLI Example:

    .. code-block:: bash

        salt 'stor1*' maintenance.ceph_gate '[0, 1]' test=True
    """
    ids = _ids(osd_ids)
    stop = hostnode_maintenance.ok_to_stop_command(ids)
    if not test:
        problems = hostnode_maintenance.health_problems(ceph_health(), allowed or [])
        verdict = _judged_ok_to_stop(ids)
        if not verdict["ok"]:
            problems.append(f"ceph osd ok-to-stop {' '.join(map(str, ids))}: {verdict['reason']}")
        _refuse("the Ceph gate", problems)
    return {"checked": [" ".join(HEALTH), " ".join(stop)]}


def _judged_ok_to_stop(ids):
    """ok_to_stop(ids), asked again while Ceph answers EAGAIN, UNKNOWN_PGS_WAIT seconds at most."""
    deadline = time.monotonic() + UNKNOWN_PGS_WAIT
    verdict = ok_to_stop(ids)
    while verdict["again"] and time.monotonic() < deadline:
        time.sleep(POLL)
        verdict = ok_to_stop(ids)
    return verdict


def ceph_drain(osd_ids, test=False):
    """
    On the node: its OSDs are kept in while they stop (``ceph osd add-noout osd.N ...``: the
    cluster does not move their data away). Returns ``{"commands": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt 'stor1*' maintenance.ceph_drain '[0, 1]' test=True
    """
    argv = hostnode_maintenance.noout_command(_ids(osd_ids), on=True)
    if not test:
        _run(argv)
    return {"commands": [" ".join(argv)]}


def ceph_return(osd_ids, timeout=1800, test=False):
    """
    On the node, once it is back: wait up to timeout seconds until its OSDs are up and in
    (``ceph osd tree``), then ``ceph osd rm-noout osd.N ...``. Returns ``{"commands": [...]}``;
    OSDs not back in time are an error naming them, and noout stays set.

    CLI Example:

    .. code-block:: bash

        salt 'stor1*' maintenance.ceph_return '[0, 1]' test=True
    """
    ids = _ids(osd_ids)
    argv = hostnode_maintenance.noout_command(ids, on=False)
    if not test:
        _wait(lambda: hostnode_maintenance.osds_not_back(_tree(), ids), timeout, "OSDs up and in")
        _run(argv)
    return {"commands": [" ".join(argv)]}


def _tree():
    return _parsed(hostnode_ceph.parse_osd_tree, _run(OSD_TREE), " ".join(OSD_TREE))


def ceph_healthy(allowed=None, timeout=1800, test=False):
    """
    On the node, after its maintenance: wait up to timeout seconds until Ceph is HEALTH_OK or
    warns only of the checks allowed lists. Returns ``{"checked": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt 'stor1*' maintenance.ceph_healthy timeout=600
    """
    _checked(test, timeout=timeout)
    if not test:
        _wait(lambda: hostnode_maintenance.health_problems(ceph_health(), allowed or []),
              timeout, "Ceph health")  # fmt: skip
    return {"checked": [" ".join(HEALTH)]}
