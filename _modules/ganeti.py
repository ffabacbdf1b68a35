"""
A Ganeti cluster formed from pillar: read it (``cluster_info``, ``nodes``), initialise it on the
master node (``init_cluster``) and add the nodes that are not members yet (``add_node``). The
options come from pillar ``hostnode:node:ganeti`` (see formulas/node/parameters/defaults.yaml).

``gnt-cluster init`` refuses when /var/lib/ganeti/config.data exists, so that file is what
"initialised" means here; membership is the master's ssconf node list
(/var/lib/ganeti/ssconf_node_list, rewritten by the master at each change of its configuration),
so neither needs Ganeti's daemons, nor Ganeti installed: ``test=True`` on a node the highstate
has not given its packages yet still lists the commands. Every function that changes something
takes ``test=True`` and then returns the same changes (the exact commands) without running them.
"""

import os

import salt.utils.path
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import ganeti as hostnode_ganeti
from saltext.hostnode.utils import node as hostnode_node
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "ganeti"

CONFIG_DATA = "/var/lib/ganeti/config.data"
NODE_LIST = "/var/lib/ganeti/ssconf_node_list"
CLUSTER_NAME = "/var/lib/ganeti/ssconf_cluster_name"


def __virtual__():
    return __virtualname__


def _run(argv, check=True):
    return hostnode_command.run(__salt__["cmd.run_all"], argv, check=check)


def _options(settings):
    if settings is None:
        settings = __salt__["config.get"]("hostnode:node:ganeti", {})
    try:
        return hostnode_ganeti.options(settings)
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None


def _rooted(path):
    root = __salt__["config.get"]("hostnode:config_root", "/") or "/"
    return os.path.join(root, path.lstrip("/"))


def declared_cluster():
    """
    The cluster this node's pillar declares: ``{cluster_name, master, nodes}`` (plain names, so
    an orchestration can read them from every minion), ``{}`` when it names no master.

    CLI Example:

    .. code-block:: bash

        salt '*' ganeti.declared_cluster
    """
    opts = __salt__["config.get"]("hostnode:node:ganeti", {}) or {}
    if not isinstance(opts, dict) or not opts.get("master"):
        return {}
    return {key: str(opts[key]) if key != "nodes" else [str(n) for n in opts.get(key) or []]
            for key in ("cluster_name", "master", "nodes")}  # fmt: skip


def initialised():
    """
    Whether this node holds a Ganeti cluster configuration (/var/lib/ganeti/config.data, the
    file whose presence makes ``gnt-cluster init`` refuse).

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.initialised
    """
    return os.path.exists(_rooted(CONFIG_DATA))


def cluster_info(source=None):
    """
    ``gnt-cluster info`` as nested dicts (``{"Cluster name": ..., "Cluster parameters": {...}}``);
    source reads saved output instead.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.cluster_info
        salt-call ganeti.cluster_info source=/tmp/gnt-cluster-info.txt
    """
    if source:
        parse = hostnode_ganeti.parse_cluster_info
        return hostnode_files.parse_source(source, parse, "gnt-cluster info output")
    return _parsed(
        hostnode_ganeti.parse_cluster_info, _run(["gnt-cluster", "info"]), "gnt-cluster info"
    )


def nodes(source=None):
    """
    The cluster's nodes from ``gnt-node list`` on the master: ``{name: {name, pip, sip,
    master_candidate, offline, drained}}``; source reads saved output of the same command.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.nodes
    """
    if source:
        parse = hostnode_ganeti.parse_node_list
        return hostnode_files.parse_source(source, parse, "gnt-node list output")
    text = _run([
        "gnt-node", "list", "--no-headers", f"--separator={hostnode_ganeti.SEPARATOR}",
        "-o", ",".join(hostnode_ganeti.NODE_FIELDS),
    ])  # fmt: skip
    return _parsed(hostnode_ganeti.parse_node_list, text, "gnt-node list")


def _parsed(parser, text, where):
    try:
        return parser(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{where}: {exc}") from None


def members(source=None):
    """
    The names of the cluster's nodes as the master's ssconf node list holds them ([] on a node
    without a cluster); source reads a saved copy of that file.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.members
    """
    if source:
        parse = hostnode_ganeti.parse_ssconf_list
        return hostnode_files.parse_source(source, parse, "a copy of ssconf_node_list")
    path = _rooted(NODE_LIST)
    if not os.path.exists(path):
        return []
    return _parsed(hostnode_ganeti.parse_ssconf_list, hostnode_files.read(path), path)


def _apply(plan, test):
    done = []
    for argv in plan:
        if not test and not salt.utils.path.which(argv[0]):
            raise CommandExecutionError(
                f"{argv[0]} is not installed (Debian package ganeti, which node.ganeti installs)"
            )
        if not test:
            _run(argv)
        done.append(" ".join(argv))
    return {"commands": done} if done else {}


def init_cluster(settings=None, name=None, test=False):
    """
    Initialise the cluster on this node (the pillar's master) unless it is initialised; returns
    ``{"commands": [...]}`` run (or, with test, to run), ``{}`` when there is nothing to do.
    settings defaults to pillar ``hostnode:node:ganeti``. name, when given, must be their
    ``cluster_name``; a node that holds another cluster (its ssconf_cluster_name, which the
    master writes) is refused, naming both.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.init_cluster name=ganeti.ams1.example.net test=True
    """
    opts = _options(settings)
    path = _rooted(CLUSTER_NAME)
    held = _parsed(lambda text: hostnode_ganeti.parse_ssconf_list(text, "ssconf_cluster_name"),
                   hostnode_files.read(path) or "", path)  # fmt: skip
    try:
        plan = hostnode_ganeti.plan_init(initialised(), opts, name, (held or [None])[0])
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None
    return _apply(plan, test)


def add_node(nodes=None, settings=None, test=False):
    """
    On the master, add each of nodes (default: pillar ``hostnode:node:ganeti:nodes``) that is not
    a member yet (``members``) with ``gnt-node add --no-ssh-key-check``; returns
    ``{"commands": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.add_node '[hv2.ams1.example.net]' test=True
    """
    opts = _options(settings)
    wanted = opts["nodes"] if nodes is None else nodes
    try:
        wanted = [
            hostnode_node.fqdn(n, "nodes") for n in hostnode_validate.as_list(wanted, "nodes")
        ]
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None
    return _apply(hostnode_ganeti.plan_add(members() if initialised() else [], wanted), test)


# DRBD and cluster health (docs/ganeti.md). /proc/drbd lists the minors of DRBD 8; DRBD 9 keeps
# only its version there and answers drbdsetup status instead.
from saltext.hostnode.utils import drbd as hostnode_drbd
from saltext.hostnode.utils import hcheck as hostnode_hcheck
from saltext.hostnode.utils import prometheus as hostnode_prometheus

PROC_DRBD = "/proc/drbd"
DRBD_STATUS = ["drbdsetup", "status", "--verbose", "--statistics"]
# Seconds drbdsetup may take: the ganeti_health beacon runs in the minion's main loop.
DRBD_TIMEOUT = 10


def drbd(source=None):
    """
    The configured DRBD minors of this node, one dict each: ``{minor, resource, volume,
    connection, role, peer_role, disk, peer_disk, out_of_sync_kib, sync_percent, degraded}``
    (degraded: not Connected with UpToDate data on both sides). Read from /proc/drbd (DRBD 8),
    or from ``drbdsetup status --verbose --statistics`` when /proc/drbd says DRBD 9; [] without
    the drbd module.

    source
        Parse this saved /proc/drbd or ``drbdsetup status`` output instead (the layout is told
        from the text).

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.drbd
        salt-call ganeti.drbd source=/tmp/bundle/proc-drbd.txt
    """
    return _drbd_minors(source)


def _drbd_minors(source):
    if source:
        what = "/proc/drbd or drbdsetup status output"
        return hostnode_files.parse_source(source, hostnode_drbd.parse, what)
    text = hostnode_files.read(PROC_DRBD)
    if text is None:
        return []
    if text.startswith("version: 9"):
        text = hostnode_command.run(__salt__["cmd.run_all"], DRBD_STATUS, timeout=DRBD_TIMEOUT)
        return _parsed(hostnode_drbd.parse_status, text, " ".join(DRBD_STATUS))
    return _parsed(hostnode_drbd.parse_proc, text, PROC_DRBD)


def health(drbd=None, hcheck=None):
    """
    ``{healthy, problems}``: one problem per DRBD minor that is degraded, naming the minor and
    its states (connection, roles, disks, resync progress), and, given hcheck, one per count of
    Ganeti's cluster checker that is not zero (nodes not N+1 happy, not directly evacuable,
    ...).

    drbd
        A saved /proc/drbd or ``drbdsetup status`` output to judge instead of this node's.

    hcheck
        A saved ``hcheck`` output (plain or ``--machine-readable``) of the cluster.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.health
        salt-call ganeti.health drbd=/tmp/bundle/proc-drbd.txt hcheck=/tmp/bundle/hcheck.txt
    """
    report = hostnode_drbd.health(_drbd_minors(drbd))
    if hcheck:
        report["problems"] += hostnode_hcheck.problems(_hcheck(hcheck))
        report["healthy"] = not report["problems"]
    return report


def _hcheck(source):
    return hostnode_files.parse_source(source, hostnode_hcheck.parse, "hcheck output")


def events(previous=None, drbd=None, hcheck=None):
    """
    What the ``ganeti_health`` beacon reports since previous, the ``health`` of an earlier
    call: ``degraded`` per problem that appeared, ``recovered`` per problem that went away.
    Returns ``{"health": ..., "events": [...]}``; without previous, no events. A
    ``drbdsetup status`` that does not answer in time is killed and reported as the one event
    ``{"tag": "timeout", "command", "timeout"}``, with previous kept as the health.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.events
    """
    try:
        now = health(drbd, hcheck)
    except hostnode_command.CommandTimeout as exc:
        return {
            "health": previous,
            "events": [{"tag": "timeout", "command": exc.command, "timeout": exc.timeout}],
        }
    found = [] if previous is None else hostnode_drbd.events(previous, now)
    return {"health": now, "events": found}


def write_metrics(path, source=None, hcheck=None):
    """
    Write the DRBD minors' states as a Prometheus textfile for node_exporter at path (absolute,
    ending in .prom), atomically: ``hostnode_ganeti_drbd_info`` (states as labels),
    ``_degraded``, ``_out_of_sync_bytes`` and ``_sync_ratio`` (0 to 1, while syncing); given
    hcheck, also ``hostnode_ganeti_hcheck_*`` (nodes not N+1 happy, ...). Returns
    ``{path, samples}``.

    source
        A saved /proc/drbd or ``drbdsetup status`` output to export instead of this node's.

    hcheck
        A saved ``hcheck`` output (plain or ``--machine-readable``) of the cluster.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.write_metrics /var/lib/prometheus/node-exporter/hostnode_ganeti.prom
    """
    if not isinstance(path, str) or not path.endswith(".prom") or not os.path.isabs(path):
        raise SaltInvocationError(f"path: {path!r} must be an absolute path ending in .prom")
    families = hostnode_drbd.render_metrics(_drbd_minors(source))
    if hcheck:
        families += hostnode_hcheck.render_metrics(_hcheck(hcheck))
    text = hostnode_prometheus.exposition(families)
    hostnode_files.replace(path, text, mode=0o644)
    return {"path": path, "samples": sum(1 for line in text.splitlines() if line[:1] != "#")}
