"""
A Ganeti cluster formed from pillar: read it (``cluster_info``, ``nodes``, ``groups``,
``group_members``), initialise it on the master node (``init_cluster``, with the KVM CPU model
every node runs and the pillar's disk parameters), give it its node groups (``assign_groups``)
and add the nodes that are not members yet (``add_node``). The options come from pillar
``hostnode:node:ganeti`` (see formulas/node/parameters/defaults.yaml); on a running cluster,
``modify_cluster`` brings its hypervisor and disk parameters and its CPU model to them.

``gnt-cluster init`` refuses when /var/lib/ganeti/config.data exists, so that file is what
"initialised" means here; membership is the master's ssconf node list
(/var/lib/ganeti/ssconf_node_list, rewritten by the master at each change of its configuration),
so neither needs Ganeti's daemons, nor Ganeti installed: ``test=True`` on a node the highstate
has not given its packages yet still lists the commands. Every function that changes something
takes ``test=True`` and then returns the same changes (the exact commands) without running them.

A join runs with SSH host key checking on. Ganeti's ssh reads one known_hosts file,
/var/lib/ganeti/known_hosts (``-oGlobalKnownHostsFile``, the user's file is /dev/null), and
asks (``StrictHostKeyChecking=ask``: with no terminal, a refusal) for a key it does not hold:
``add_node`` writes there each new node's host keys as the node publishes them in the Salt mine
(``ssh_keys``), and each node authorizes the master's root key from the mine
(``authorize_master``) after checking its replication path (``replication_check``).
"""

import os

import salt.utils.path
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import cpu as hostnode_cpu
from saltext.hostnode.utils import drbd as hostnode_drbd
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import ganeti as hostnode_ganeti
from saltext.hostnode.utils import hcheck as hostnode_hcheck
from saltext.hostnode.utils import node as hostnode_node
from saltext.hostnode.utils import prometheus as hostnode_prometheus
from saltext.hostnode.utils import validate as hostnode_validate
from saltext.hostnode.utils import verify_disks as hostnode_verify_disks

__virtualname__ = "ganeti"

CONFIG_DATA = "/var/lib/ganeti/config.data"
NODE_LIST = "/var/lib/ganeti/ssconf_node_list"
MASTER_NODE = "/var/lib/ganeti/ssconf_master_node"
CLUSTER_NAME = "/var/lib/ganeti/ssconf_cluster_name"
# The cluster's KVM parameters as the master writes them for its nodes (key=value lines).
KVM_PARAMETERS = "/var/lib/ganeti/ssconf_hvparams_kvm"
KNOWN_HOSTS = "/var/lib/ganeti/known_hosts"
AUTHORIZED_KEYS = "/root/.ssh/authorized_keys"
# root's public key files of Ganeti's key types (gnt-cluster init creates id_rsa by default),
# and sshd's host keys (Debian's three).
ROOT_KEYS = ("/root/.ssh/id_rsa.pub", "/root/.ssh/id_ecdsa.pub", "/root/.ssh/id_dsa.pub")
HOST_KEYS = ("/etc/ssh/ssh_host_ed25519_key.pub", "/etc/ssh/ssh_host_ecdsa_key.pub",
             "/etc/ssh/ssh_host_rsa_key.pub")  # fmt: skip


def __virtual__():
    return __virtualname__


def _run(argv, check=True, timeout=None):
    return hostnode_command.run(__salt__["cmd.run_all"], argv, check=check, timeout=timeout)


def _options(settings):
    if settings is None:
        settings = __salt__["config.get"]("hostnode:node:ganeti", {})
    try:
        return hostnode_ganeti.options(settings)
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None


def _rooted(path, root=None):
    root = root or __salt__["config.get"]("hostnode:config_root", "/") or "/"
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
        hostnode_ganeti.parse_cluster_info, _read(["gnt-cluster", "info"]), "gnt-cluster info"
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


def _installed(tool, package="ganeti"):
    if not salt.utils.path.which(tool):
        raise CommandExecutionError(
            f"{tool} is not installed (Debian package {package}, which node.ganeti installs)"
        )


def _read(argv):
    """The output of a Ganeti command that reads the cluster (it needs Ganeti's daemons)."""
    _installed(argv[0])
    return _run(argv)


def _apply(plan, test):
    done = []
    for argv in plan:
        if not test:
            _installed(argv[0])
            _run(argv)
        done.append(" ".join(argv))
    return {"commands": done} if done else {}


def init_cluster(settings=None, name=None, test=False):
    """
    Initialise the cluster on this node (the pillar's master) unless it is initialised; returns
    ``{"commands": [...]}`` run (or, with test, to run), ``{}`` when there is nothing to do.
    settings defaults to pillar ``hostnode:node:ganeti``. The KVM guests' CPU model
    (``kvm:cpu_type``) is the one every node of the cluster can run (``common_cpu_model`` over
    the Salt mine), unless hypervisor_parameters set it. name, when given, must be their
    ``cluster_name``; a node that holds another cluster (its ssconf_cluster_name, which the
    master writes) is refused, naming both.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.init_cluster name=ganeti.ams1.example.net test=True
    """
    opts = _options(settings)
    if not initialised() and hostnode_ganeti.needs_cpu_type(opts):
        cpus = _mine_cpus([opts["master"], *opts["nodes"]])
        opts = hostnode_ganeti.with_cpu_type(opts, common_cpu_model(cpus=cpus)["model"])
    path = _rooted(CLUSTER_NAME)
    held = _parsed(lambda text: hostnode_ganeti.parse_ssconf_list(text, "ssconf_cluster_name"),
                   hostnode_files.read(path) or "", path)  # fmt: skip
    try:
        plan = hostnode_ganeti.plan_init(initialised(), opts, name, (held or [None])[0])
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None
    return _apply(plan, test)


def modify_cluster(settings=None, test=False):
    """
    On the master of an initialised cluster (``{}`` elsewhere, and before the init, which sets
    them): the hypervisor and disk parameters of pillar (``hypervisor_parameters``,
    ``disk_parameters``) and the KVM guests' CPU model (``kvm:cpu_type``: the model every node
    runs, over the Salt mine's ``hostnode_cpu`` of the pillar's master and nodes and the
    cluster's members, unless pillar sets it) as ``gnt-cluster info`` reports them, set by one
    ``gnt-cluster modify`` of only what differs. Returns ``{"commands": [...], "parameters":
    {kind: {owner: {key: {old, new}}}}, "cpu_model": [why]}`` or ``{}``: a CPU model change
    always says why (the nodes that cannot run the old model, and their missing flags) and
    what it means for running instances.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.modify_cluster test=True
    """
    opts = _options(settings)
    if not initialised():
        return {}
    info = cluster_info()
    cpus = None
    if hostnode_ganeti.needs_cpu_type(opts):
        found = _mine_cpus([opts["master"], *opts["nodes"], *members()])
        opts = hostnode_ganeti.with_cpu_type(opts, common_cpu_model(cpus=found)["model"])
        cpus = _cpus(None, found)
    try:
        changes = hostnode_ganeti.parameter_changes(info, opts)
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None
    if not changes:
        return {}
    model = changes.get("hypervisor_parameters", {}).get("kvm", {}).get("cpu_type")
    notes = []
    if model and cpus is None:
        notes.append(f"kvm:cpu_type {model['old'] or '(none)'} -> {model['new']}: set by "
                     "hostnode:node:ganeti:hypervisor_parameters:kvm:cpu_type")  # fmt: skip
    elif model:
        notes.append(hostnode_cpu.model_change(model["old"], model["new"], cpus))
    result = {"parameters": changes, **_apply([hostnode_ganeti.modify_argv(changes)], test)}
    return {**result, "cpu_model": notes} if notes else result


def ssh_keys(source=None):
    """
    The SSH public keys a join needs, for the Salt mine: ``{"root": [...], "host": [...]}``,
    each ``type base64``: root's (/root/.ssh/id_{rsa,ecdsa,dsa}.pub; on the master, the key
    gnt-cluster init made, which its ssh logs in with) and sshd's host keys
    (/etc/ssh/ssh_host_*_key.pub). Missing files are left out. source is a directory read in
    place of / (a copy of a node's files).

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.ssh_keys
        salt-call ganeti.ssh_keys source=/tmp/hv2-root
    """
    if source and not os.path.isdir(source):
        raise SaltInvocationError(f"source: {source} is not a directory")
    keys = {}
    for kind, paths in (("root", ROOT_KEYS), ("host", HOST_KEYS)):
        keys[kind] = []
        for path in paths:
            text = hostnode_files.read(_rooted(path, source))
            if text is not None:
                keys[kind].append(_parsed(lambda t, p=path: hostnode_ganeti.public_key(t, p),
                                          text, _rooted(path, source)))  # fmt: skip
    return keys


def _mine(minions, function="ganeti.ssh_keys"):
    """{minion: what it publishes as function} of the Salt mine."""
    found = __salt__["mine.get"](",".join(minions), function, tgt_type="list")
    return found if isinstance(found, dict) else {}


def add_node(nodes=None, settings=None, test=False, host_keys=None):
    """
    On the master, add each of nodes (default: pillar ``hostnode:node:ganeti:nodes``) that is not
    a member yet (``members``) with ``gnt-node add`` (``--secondary-ip`` from pillar
    ``secondary_ips``), host key checking on: first their host keys go into Ganeti's
    known_hosts, taken from host_keys (``{node: ganeti.ssh_keys}``, default: the Salt mine). A
    node that publishes no host key is refused, and nothing changes. Returns ``{"known_hosts":
    diff, "commands": [...]}``.

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
    current = members() if initialised() else []
    plan = hostnode_ganeti.plan_add(current, wanted, opts["secondary_ips"], opts["node_groups"])
    adding = [argv[-1] for argv in plan]
    published = (host_keys if host_keys is not None else _mine(adding)) if adding else {}
    try:
        keys = {n: hostnode_ganeti.published_keys(published.get(n), n)["host"] for n in adding}
    except ValueError as exc:
        raise CommandExecutionError(f"{exc}: not added, nothing changed") from None
    path = _rooted(KNOWN_HOSTS)
    old = hostnode_files.read(path)
    new = hostnode_ganeti.plan_known_hosts(old, keys)
    if new is not None and not test:
        hostnode_files.replace(path, new, mode=0o644)
    changes = {"known_hosts": hostnode_files.diff(path, old, new)} if new is not None else {}
    lowered = _cpu_lowered(current, adding)
    changes.update({"cpu_model": lowered} if lowered else {})
    return {**changes, **_apply(plan, test)}


def _cpu_lowered(members, adding):
    """One line per node of adding that cannot run the cluster's KVM cpu_type (the master's
    ssconf_hvparams_kvm), naming the model the cluster would have in common with it, or that
    publishes no CPU to judge."""
    path = _rooted(KVM_PARAMETERS)
    text = hostnode_files.read(path) if adding else None
    if text is None:
        return []
    model = _parsed(hostnode_ganeti.parse_ssconf_map, text, path).get("cpu_type", "")
    found = _mine_cpus([*members, *adding], required=False)
    cpus = {node: hostnode_cpu.from_grain(cpu, node) for node, cpu in found.items()}
    joining = {node: cpus.pop(node) for node in adding if node in cpus}
    lines = [
        f"{node} publishes no hostnode_cpu in the Salt mine: its CPU is not checked against "
        f"the cluster's model {model}"
        for node in adding
        if node not in joining
    ]
    return lines + [
        f"{low['node']} cannot run the cluster's CPU model {model} (it lacks "
        f"{', '.join(low['lacks'])}): the model all nodes share with it is {low['common']}; "
        f"instances cannot live-migrate to it until gnt-cluster modify -H "
        f"kvm:cpu_type={low['common']}"
        for low in hostnode_cpu.lowered_by(model, cpus, joining)
    ]


def groups(source=None):
    """
    The cluster's node group names (``gnt-group list``, on the master); source reads saved
    output of ``gnt-group list --no-headers --separator=| -o name``.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.groups
    """
    return _gnt_list("gnt-group", ["name"], hostnode_ganeti.parse_group_list, source)


def group_members(source=None):
    """
    Each node's group, ``{node: group}`` (``gnt-node list -o name,group``, on the master);
    source reads saved output of ``gnt-node list --no-headers --separator=| -o name,group``.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.group_members
    """
    fields = hostnode_ganeti.GROUP_FIELDS
    return _gnt_list("gnt-node", fields, hostnode_ganeti.parse_group_members, source)


def _gnt_list(command, fields, parser, source):
    """parser's reading of ``<command> list`` of fields, or of its saved output at source."""
    if source:
        return hostnode_files.parse_source(source, parser, f"{command} list output")
    argv = [command, "list", "--no-headers", f"--separator={hostnode_ganeti.SEPARATOR}",
            "-o", ",".join(fields)]  # fmt: skip
    return _parsed(parser, _read(argv), f"{command} list")


def assign_groups(settings=None, test=False):
    """
    On the master: the node groups of pillar ``hostnode:node:ganeti:groups`` exist (``gnt-group
    add``) and each member that ``node_groups`` names is in its group (``gnt-group
    assign-nodes``); nodes not yet members get theirs at ``gnt-node add`` (``add_node``). Before
    the init, the cluster is taken as gnt-cluster init leaves it: the group ``default`` with
    the master in it. Returns ``{"commands": [...]}`` or ``{}``.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' ganeti.assign_groups test=True
    """
    opts = _options(settings)
    if initialised():
        current = (groups(), group_members())
    else:
        current = ([hostnode_ganeti.INITIAL_GROUP], {opts["master"]: hostnode_ganeti.INITIAL_GROUP})
    return _apply(hostnode_ganeti.plan_groups(*current, opts), test)


def replication_check(settings=None):
    """
    Before this node joins: a don't-fragment ping of the pillar's replication MTU to the master
    node's secondary IP (``ping -M do -s <mtu - 28> -c 1 -W 1 [-I nic] <ip>``). Returns
    ``{"command": ..., "mtu": ...}``, ``{}`` when the cluster declares no secondary IPs (or this
    node is the master); a path that does not carry the MTU unfragmented raises an error with
    ping's own words. Changes nothing, so it runs under test=True too.

    CLI Example:

    .. code-block:: bash

        salt 'hv2*' ganeti.replication_check
    """
    opts = _options(settings)
    argv = hostnode_ganeti.ping_argv(opts)
    if argv is None or __grains__["id"] == opts["master"]:
        return {}
    _installed(argv[0], "iputils-ping")
    result = _run(argv, check=False)
    if result["retcode"] != 0:
        said = " ".join((result["stdout"] + result["stderr"]).split())
        raise CommandExecutionError(
            f"the replication path to the master {opts['master']} ({argv[-1]}) does not carry "
            f"{opts['replication']['mtu']}-byte packets unfragmented ({' '.join(argv)}: {said}); "
            "this node is not joined"
        )
    return {"command": " ".join(argv), "mtu": opts["replication"]["mtu"]}


def authorize_master(settings=None, keys=None, test=False):
    """
    root's authorized_keys on this node holds the root key of the cluster's master node (the
    pillar's ``master``), as the master publishes it in the Salt mine (``ssh_keys``; keys gives
    them instead): Ganeti's gnt-node add logs in with it. Returns ``{"authorized_keys": diff}``
    or ``{}``. Before gnt-cluster init the master has no root key: an error, except under test
    (an orchestration inits, then refreshes the mine, before it asks this).

    CLI Example:

    .. code-block:: bash

        salt 'hv2*' ganeti.authorize_master test=True
    """
    master = _options(settings)["master"]
    if __grains__["id"] == master:
        return {}
    if keys is None:
        keys = (_mine([master]).get(master) or {}).get("root") or []
    try:
        keys = [hostnode_ganeti.public_key(k, f"{master}: mine ganeti.ssh_keys:root") for k in keys]
    except ValueError as exc:
        raise CommandExecutionError(str(exc)) from None
    if not keys:
        if test:
            return {"authorized_keys": f"the root key {master} makes at gnt-cluster init"}
        raise CommandExecutionError(
            f"{master} publishes no root key in the Salt mine (ganeti.ssh_keys; gnt-cluster init "
            "makes it, mine_functions must list ganeti.ssh_keys): nothing authorized"
        )
    path = _rooted(AUTHORIZED_KEYS)
    old = hostnode_files.read(path)
    new = hostnode_ganeti.authorized_keys(old, keys)
    if new is None:
        return {}
    if not test:
        hostnode_files.replace(path, new, mode=0o600)
    return {"authorized_keys": hostnode_files.diff(path, old, new)}


# DRBD and cluster health (docs/ganeti.md). /proc/drbd lists the minors of DRBD 8; DRBD 9 keeps
# only its version there and answers drbdsetup status instead.

PROC_DRBD = "/proc/drbd"
DRBD_STATUS = ["drbdsetup", "status", "--verbose", "--statistics"]
# Seconds drbdsetup may take: the ganeti_health beacon runs in the minion's main loop.
DRBD_TIMEOUT = 10
VERIFY_DISKS = ["gnt-cluster", "verify-disks"]
# Seconds gnt-cluster verify-disks may take (a job per node group, an RPC to each node) unless
# pillar or the minion config sets hostnode:node:ganeti:verify_disks_timeout.
VERIFY_DISKS_TIMEOUT = 60


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
        text = _run(DRBD_STATUS, timeout=DRBD_TIMEOUT)
        return _parsed(hostnode_drbd.parse_status, text, " ".join(DRBD_STATUS))
    return _parsed(hostnode_drbd.parse_proc, text, PROC_DRBD)


def health(drbd=None, hcheck=None, verify_disks=None):
    """
    ``{healthy, problems}``: one problem per DRBD minor that is degraded, naming the minor and
    its states (connection, roles, disks, resync progress); one per finding of ``gnt-cluster
    verify-disks`` (a node it cannot read, an instance whose disks it had to activate or failed
    to, one it cannot verify, one missing logical volumes, a failed job), run on the cluster's
    master node only (/var/lib/ganeti/ssconf_master_node names this minion's id or fqdn), left
    out elsewhere; and, given hcheck, one per count of Ganeti's cluster checker that is not zero
    (nodes not N+1 happy, not directly evacuable, ...). verify-disks activates the disks it
    finds inactive, as ganeti-watcher does every 5 minutes.

    drbd
        A saved /proc/drbd or ``drbdsetup status`` output to judge instead of this node's.

    hcheck
        A saved ``hcheck`` output (plain or ``--machine-readable``) of the cluster.

    verify_disks
        A saved ``gnt-cluster verify-disks`` output (stdout and stderr) to judge instead of
        running it; False leaves verify-disks out.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.health
        salt-call ganeti.health drbd=/tmp/bundle/proc-drbd.txt hcheck=/tmp/bundle/hcheck.txt
        salt-call ganeti.health verify_disks=/tmp/bundle/verify-disks.txt
    """
    report = hostnode_drbd.health(_drbd_minors(drbd))
    findings = _verify_disks(verify_disks)
    if findings:
        report["problems"] += hostnode_verify_disks.problems(findings)
    if hcheck:
        report["problems"] += hostnode_hcheck.problems(_hcheck(hcheck))
    report["healthy"] = not report["problems"]
    return report


def _hcheck(source):
    return hostnode_files.parse_source(source, hostnode_hcheck.parse, "hcheck output")


def _master():
    """Whether this node is the cluster's master (its ssconf_master_node names this minion)."""
    names = hostnode_files.read(_rooted(MASTER_NODE))
    return bool(names) and names.strip() in (__grains__.get("id"), __grains__.get("fqdn"))


def _verify_disks(source):
    """
    The findings of verify-disks: of source, or of running it on the master; None elsewhere,
    and None when source is False (the beacon's default: it is not asked for).
    """
    if source is False:
        return None
    if source:
        what = "gnt-cluster verify-disks output"
        return hostnode_files.parse_source(source, hostnode_verify_disks.parse, what)
    if not _master():
        return None
    result = _run(VERIFY_DISKS, check=False, timeout=_verify_disks_timeout())
    try:
        return hostnode_verify_disks.parse(f"{result['stdout']}\n{result['stderr']}")
    except ValueError as exc:
        said = (result["stderr"] or result["stdout"]).strip()
        raise CommandExecutionError(
            f"{' '.join(VERIFY_DISKS)} exited {result['retcode']}: {said}"
            if result["retcode"]
            else f"{' '.join(VERIFY_DISKS)}: {exc}"
        ) from None


def _verify_disks_timeout():
    field = "hostnode:node:ganeti:verify_disks_timeout"
    value = __salt__["config.get"](field, None)
    if value is None:
        return VERIFY_DISKS_TIMEOUT
    return hostnode_validate.whole_number(value, field, minimum=1)


def events(previous=None, drbd=None, hcheck=None, verify_disks=None):
    """
    What the ``ganeti_health`` beacon reports since previous, the ``health`` of an earlier
    call: ``degraded`` per problem that appeared, ``recovered`` per problem that went away.
    Returns ``{"health": ..., "events": [...]}``; without previous, no events. A
    ``drbdsetup status`` or ``gnt-cluster verify-disks`` that does not answer in time is killed
    and reported as the one event ``{"tag": "timeout", "command", "timeout"}``, with previous
    kept as the health.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.events
    """
    return hostnode_command.events_since(
        previous, lambda: health(drbd, hcheck, verify_disks), hostnode_drbd.events
    )


def write_metrics(path, source=None, hcheck=None, verify_disks=None):
    """
    Write the DRBD minors' states as a Prometheus textfile for node_exporter at path (absolute,
    ending in .prom), atomically: ``hostnode_ganeti_drbd_info`` (states as labels),
    ``_degraded``, ``_out_of_sync_bytes`` and ``_sync_ratio`` (0 to 1, while syncing); on the
    master node (or given verify_disks), ``hostnode_ganeti_verify_disks_problems`` (findings of
    ``gnt-cluster verify-disks`` by ``kind``); given hcheck, also ``hostnode_ganeti_hcheck_*``
    (nodes not N+1 happy, ...). Returns ``{path, samples}``.

    source
        A saved /proc/drbd or ``drbdsetup status`` output to export instead of this node's.

    hcheck
        A saved ``hcheck`` output (plain or ``--machine-readable``) of the cluster.

    verify_disks
        A saved ``gnt-cluster verify-disks`` output to export instead of running it.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' ganeti.write_metrics /var/lib/prometheus/node-exporter/hostnode_ganeti.prom
    """
    if not isinstance(path, str) or not path.endswith(".prom") or not os.path.isabs(path):
        raise SaltInvocationError(f"path: {path!r} must be an absolute path ending in .prom")
    families = hostnode_drbd.render_metrics(_drbd_minors(source))
    findings = _verify_disks(verify_disks)
    if findings is not None:
        families += hostnode_verify_disks.render_metrics(findings)
    if hcheck:
        families += hostnode_hcheck.render_metrics(_hcheck(hcheck))
    text = hostnode_prometheus.exposition(families)
    hostnode_files.replace(path, text, mode=0o644)
    return {"path": path, "samples": sum(1 for line in text.splitlines() if line[:1] != "#")}


# One CPU model per cluster (docs/node-bootstrap.md §7).


def _cpus(sources, cpus):
    if sources:
        paths = hostnode_validate.as_list(sources, "sources")
        return {p: hostnode_files.parse_source(p, hostnode_cpu.parse_cpuinfo, "a /proc/cpuinfo")
                for p in paths}  # fmt: skip
    if cpus is None:
        cluster = declared_cluster()
        if not cluster:
            raise SaltInvocationError("cpus: none given, and pillar declares no cluster")
        cpus = _mine_cpus([cluster["master"], *cluster["nodes"]])
    if not isinstance(cpus, dict):
        raise SaltInvocationError("cpus: not a mapping of node to hostnode_cpu grain")
    return {str(node): hostnode_cpu.from_grain(value, node) for node, value in cpus.items()}


def _mine_cpus(names, required=True):
    """{node: hostnode_cpu grain} of names from the Salt mine; a node that publishes none is an
    error naming it, unless not required (then it is left out)."""
    names = list(dict.fromkeys(names))
    # A minion publishes "" until the grain is synced to it.
    found = {node: cpu for node, cpu in _mine(names, "hostnode_cpu").items() if cpu}
    absent = sorted(set(names) - set(found))
    if absent and required:
        raise CommandExecutionError(
            f"mine: no hostnode_cpu from {', '.join(absent)} (mine_functions must publish the "
            "grain, or hypervisor_parameters:kvm:cpu_type set the CPU model): nothing changed"
        )
    return {node: found[node] for node in names if node in found}


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
