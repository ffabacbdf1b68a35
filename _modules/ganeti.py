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


# One CPU model per cluster: this capability's import sits with it, in one block.
from saltext.hostnode.utils import cpu as hostnode_cpu


def _cpus(sources, cpus):
    if sources:
        paths = hostnode_validate.as_list(sources, "sources")
        return {p: hostnode_files.parse_source(p, hostnode_cpu.parse_cpuinfo, "a /proc/cpuinfo")
                for p in paths}  # fmt: skip
    if cpus is None:
        cluster = declared_cluster()
        if not cluster:
            raise SaltInvocationError("cpus: none given, and pillar declares no cluster")
        names = list(dict.fromkeys([cluster["master"], *cluster["nodes"]]))
        cpus = __salt__["mine.get"](names, "hostnode_cpu", tgt_type="list")
        absent = sorted(set(names) - set(cpus))
        if absent:
            raise CommandExecutionError(f"mine: no hostnode_cpu from {absent}")
    if not isinstance(cpus, dict):
        raise SaltInvocationError("cpus: not a mapping of node to hostnode_cpu grain")
    return {str(node): hostnode_cpu.from_grain(value, node) for node, value in cpus.items()}


def common_cpu_model(sources=None, cpus=None):
    """
    The best QEMU named CPU model every node of the cluster can run (one CPU model per cluster,
    so a guest migrates to any node): ``{model, vendor, blocked, note}``, ``blocked`` the better
    models of the vendor with the /proc/cpuinfo flags each node lacks for them. Nodes of
    different vendors get ``qemu64`` and a note. The nodes' CPUs come from sources (saved
    /proc/cpuinfo files, keyed by path), cpus (``{node: hostnode_cpu grain}``), or else the mine
    function ``hostnode_cpu`` of the pillar's cluster (``hostnode:node:ganeti``: the master and
    the nodes, by minion id).

    CLI Example:

    .. code-block:: bash

        salt-call ganeti.common_cpu_model sources='[/tmp/hv1.cpuinfo, /tmp/hv2.cpuinfo]'
        salt 'hv1*' ganeti.common_cpu_model
    """
    try:
        return hostnode_cpu.common_model(_cpus(sources, cpus))
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None
