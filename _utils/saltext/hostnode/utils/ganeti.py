"""
Ganeti as hostnode reads and forms it: the parsers of ``gnt-cluster info``, ``gnt-node list``
and ``gnt-group list`` output, the cluster options taken from pillar, and the plans (argv lists)
that initialise a cluster, bring a running cluster's hypervisor and disk parameters to pillar's,
give it its node groups and add the nodes that are not members yet;
the SSH keys a join needs (public key lines, Ganeti's known_hosts) and the replication network's
don't-fragment ping. Pure: nothing here runs a command.
"""

import base64
import ipaddress
import itertools
import re

from saltext.hostnode.utils import node as hostnode_node

# The fields hostnode asks gnt-node list for, in this order (lib/query.py names them).
NODE_FIELDS = ("name", "pip", "sip", "master_candidate", "offline", "drained")
GROUP_FIELDS = ("name", "group")
# The group gnt-cluster init puts the master in (src/Ganeti/Constants.hs initialNodeGroupName).
INITIAL_GROUP = "default"
# The disk parameters of each disk template and their types: Ganeti's DISK_DT_DEFAULTS and
# DISK_DT_TYPES (src/Ganeti/Constants.hs diskDtDefaults, diskDtTypes); gnt-cluster init refuses
# any other name.
DISK_PARAMETERS = {
    "drbd": {"resync-rate": int, "data-stripes": int, "meta-stripes": int,
             "disk-barriers": str, "meta-barriers": bool, "metavg": str, "disk-custom": str,
             "net-custom": str, "protocol": str, "dynamic-resync": bool, "c-plan-ahead": int,
             "c-fill-target": int, "c-delay-target": int, "c-max-rate": int, "c-min-rate": int},
    "plain": {"stripes": int},
    "ext": {"access": str},
    "rbd": {"pool": str, "access": str, "user-id": str},
    "gluster": {"access": str, "host": str, "volume": str, "port": int},
}  # fmt: skip
SEPARATOR = "|"
_BARE_ITEM = re.compile(r"^(?P<indent> *)- (?P<value>[^:]*)$")
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<item>- )?(?P<key>[^:]+):(?: +(?P<value>.*))?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,126}$")
_HELPER = re.compile(r"^/[A-Za-z0-9_./+-]+$")
# A hypervisor parameter's value on gnt-cluster's command line (`-H kvm:key=value,...`).
_PARAMETER_VALUE = re.compile(r"^[A-Za-z0-9_./+:-]*$")
# A disk parameter's string value (`-D drbd:disk-custom=--al-extents 3389,...`): no , or =.
_DISK_VALUE = re.compile(r"^[A-Za-z0-9_./+: -]*$")
# The public key types sshd offers as host keys and Ganeti uses for root (ssh-keygen -t).
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "ssh-rsa", "ssh-dss")  # fmt: skip
# IPv4 and ICMP headers (20 + 8 bytes); IPv6 and ICMPv6 (40 + 8): what ping -s leaves out.
_PING_HEADERS = {4: 28, 6: 48}


def parse_cluster_info(text):
    """
    ``gnt-cluster info`` as nested dicts: the output is lib/cli.py's PrintGenericInfo, a
    ``key: value`` per line, two spaces per level, ``- `` before the items of a list (kept as
    keys of their parent here). A key without a value opens the next level; with nothing under
    it, its value is empty (the output writes ``key: `` for both).

    >>> parse_cluster_info("Cluster name: ganeti.ams1.example.net\\n"
    ...                    "Master node: hv1.ams1.example.net\\n"
    ...                    "Cluster parameters:\\n"
    ...                    "  - master netdev: xen-br0\\n")["Cluster parameters"]
    {'master netdev': 'xen-br0'}

    Any other line raises ValueError naming it.
    """
    root = {}
    stack = [(-1, root, None, None)]
    last = (-1, False)  # the indent of the previous line, and whether it held a value
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        bare = _BARE_ITEM.match(line)
        if bare and len(bare["indent"]) > stack[-1][0] and not last[1]:
            _append_item(stack, bare["value"].strip(), number, line)
            continue
        match = _KEY_LINE.match(line)
        if not match:
            raise ValueError(f"gnt-cluster info line {number}: not 'key: value': {line!r}")
        indent = len(match["indent"]) + (2 if match["item"] else 0)
        if indent > last[0] and last[1]:
            raise ValueError(f"gnt-cluster info line {number}: under a value: {line!r}")
        while stack[-1][0] >= indent:
            _close(stack.pop())
        parent = stack[-1][1]
        key, value = match["key"].strip(), match["value"]
        last = (indent, bool(value))
        if not isinstance(parent, dict):
            raise ValueError(f"gnt-cluster info line {number}: a key among list items: {line!r}")
        if value is None or value == "":
            parent[key] = {}
            stack.append((indent, parent[key], parent, key))
        else:
            parent[key] = value.strip()
    while stack:
        _close(stack.pop())
    if "Cluster name" not in root:
        raise ValueError("gnt-cluster info: no 'Cluster name' line")
    return root


def _close(level):
    """A key without a value and nothing under it held an empty value (``kernel_path: ``)."""
    _indent, container, owner, key = level
    if owner is not None and container == {}:
        owner[key] = ""


def _append_item(stack, value, number, line):
    """A ``- value`` line: the key that opened this level holds a list."""
    _indent, container, owner, key = stack[-1]
    if isinstance(container, dict):
        if container or owner is None:
            raise ValueError(f"gnt-cluster info line {number}: a list item among keys: {line!r}")
        container = owner[key] = []
        stack[-1] = (_indent, container, owner, key)
    container.append(value)


def parse_node_list(text, fields=NODE_FIELDS, separator=SEPARATOR):
    """
    ``gnt-node list --no-headers --separator=| -o <fields>`` as ``{name: {field: value}}``;
    booleans (Y/N) become True/False.

    A line of output (``-o name,pip,sip,master_candidate,offline,drained``)::

        hv1.ams1.example.net|10.1.0.11|10.1.0.11|Y|N|N

    gives ``{"hv1.ams1.example.net": {"name": "hv1.ams1.example.net", "pip": "10.1.0.11",
    "sip": "10.1.0.11", "master_candidate": True, "offline": False, "drained": False}}``.

    A line with another number of columns raises ValueError naming it.
    """
    nodes = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        columns = line.split(separator)
        if len(columns) != len(fields):
            raise ValueError(
                f"gnt-node list line {number}: {len(columns)} columns, expected "
                f"{len(fields)} ({','.join(fields)}): {line!r}"
            )
        row = {f: {"Y": True, "N": False}.get(v, v) for f, v in zip(fields, columns, strict=True)}
        if not row.get("name", "x"):
            raise ValueError(f"gnt-node list line {number}: empty node name: {line!r}")
        nodes[row.get("name", str(number))] = row
    return nodes


def parse_group_list(text):
    """
    The group names of ``gnt-group list --no-headers --separator=| -o name``, one a line::

        default
        rack1

    ValueError names a line that is not a group name.
    """
    return parse_ssconf_list(text, "gnt-group list")


def parse_group_members(text):
    """
    ``gnt-node list --no-headers --separator=| -o name,group`` as ``{node: group}``::

        node1.guest.example.net|rack1

    A line with another number of columns raises ValueError naming it.
    """
    rows = parse_node_list(text, GROUP_FIELDS)
    return {name: row["group"] for name, row in rows.items()}


def parse_ssconf_map(text, name="ssconf_hvparams_kvm"):
    """An ssconf file of ``key=value`` lines (``ssconf_hvparams_kvm``) as a dict; ValueError
    names a line without ``=``."""
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if "=" not in line:
            raise ValueError(f"{name} line {number}: not 'key=value': {line!r}")
        key, value = line.split("=", 1)
        found[key.strip()] = value.strip()
    return found


def parse_ssconf_list(text, name="ssconf_node_list"):
    """The names of an ssconf list file (one a line, as the master writes it); ValueError names
    the line that is not a name."""
    names = []
    for number, line in enumerate(text.splitlines(), 1):
        item = line.strip()
        if item and not _NAME.match(item):
            raise ValueError(f"{name} line {number}: {line!r} is not a name")
        if item:
            names.append(item)
    return names


def _names(value, field):
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError(f"{field}: a non-empty list of names, got {value!r}")
    for item in items:
        if not isinstance(item, str) or not _NAME.match(item):
            raise ValueError(f"{field}: {item!r} is not a name")
    return list(items)


def _fqdns(value, field):
    if not isinstance(value, list):
        raise ValueError(f"{field}: a list of host names, got {value!r}")
    return [hostnode_node.fqdn(name, field) for name in value]


def options(settings):
    """
    The Ganeti settings of pillar ``hostnode:node:ganeti`` checked and completed; ValueError
    names the first bad field. Keys: cluster_name, master (FQDN of the master node),
    master_netdev, enabled_hypervisors, enabled_disk_templates, vg_name (null for no LVM),
    drbd_usermode_helper (null without drbd), nic_link, nodes (FQDNs of the other nodes),
    secondary_ips ({FQDN: IP} of the master and every node, or empty) and replication
    ({network, nic, mtu}: see ``_replication``), groups (node group names), node_groups
    ({FQDN: group}) and disk_parameters ({template: {parameter: value}}, values as
    gnt-cluster takes them).
    """
    if not isinstance(settings, dict):
        raise ValueError(f"hostnode:node:ganeti: a mapping, got {settings!r}")
    field = "hostnode:node:ganeti:"
    opts = {
        "cluster_name": hostnode_node.fqdn(settings.get("cluster_name"), field + "cluster_name"),
        "master": hostnode_node.fqdn(settings.get("master"), field + "master"),
        "master_netdev": _names([settings.get("master_netdev") or "xen-br0"],
                                field + "master_netdev")[0],
        "enabled_hypervisors": _names(settings.get("enabled_hypervisors") or ["kvm"],
                                      field + "enabled_hypervisors"),
        "enabled_disk_templates": _names(settings.get("enabled_disk_templates") or ["plain"],
                                         field + "enabled_disk_templates"),
        "vg_name": settings.get("vg_name"),
        "drbd_usermode_helper": settings.get("drbd_usermode_helper"),
        "nic_link": settings.get("nic_link"),
        "nodes": _fqdns(settings.get("nodes") or [], field + "nodes"),
    }  # fmt: skip
    templates = opts["enabled_disk_templates"]
    if opts["vg_name"] is not None:
        opts["vg_name"] = _names([opts["vg_name"]], field + "vg_name")[0]
    elif {"plain", "drbd"} & set(templates):
        raise ValueError(f"{field}vg_name: the disk templates {templates} need a volume group")
    helper = opts["drbd_usermode_helper"]
    if helper is not None and not (isinstance(helper, str) and _HELPER.match(helper)):
        raise ValueError(f"{field}drbd_usermode_helper: {helper!r} is not an absolute path")
    if "drbd" in templates and helper is None:
        raise ValueError(f"{field}drbd_usermode_helper: drbd needs one (/bin/true)")
    if opts["nic_link"] is not None:
        opts["nic_link"] = _names([opts["nic_link"]], field + "nic_link")[0]
    opts["hypervisor_parameters"] = _hypervisor_parameters(
        settings.get("hypervisor_parameters") or {}, opts["enabled_hypervisors"],
        field + "hypervisor_parameters",
    )  # fmt: skip
    opts["replication"] = _replication(settings.get("replication") or {}, field + "replication")
    opts["disk_parameters"] = _disk_parameters(
        settings.get("disk_parameters") or {}, templates, field + "disk_parameters"
    )
    opts["groups"] = _names(settings.get("groups") or [INITIAL_GROUP], field + "groups")
    opts["node_groups"] = _node_groups(
        settings.get("node_groups") or {}, opts["groups"], field + "node_groups"
    )
    opts["secondary_ips"] = _secondary_ips(
        settings.get("secondary_ips") or {}, [opts["master"], *opts["nodes"]],
        opts["replication"]["network"], field + "secondary_ips",
    )  # fmt: skip
    return opts


def _node_groups(value, groups, field):
    """{FQDN: group} of nodes whose group pillar names; each group one of groups."""
    if not isinstance(value, dict):
        raise ValueError(f"{field}: a mapping of node FQDN to group, got {value!r}")
    checked = {}
    for name, group in value.items():
        node = hostnode_node.fqdn(name, field)
        if group not in groups:
            raise ValueError(f"{field}:{node}: {group!r} is not one of groups {groups}")
        checked[node] = group
    return checked


def _disk_parameters(value, templates, field):
    """{template: {parameter: value}} of enabled disk templates, each parameter one Ganeti
    knows for its template (DISK_PARAMETERS) with a value of its type, as a string."""
    if not isinstance(value, dict):
        raise ValueError(f"{field}: a mapping of disk template to parameters, got {value!r}")
    checked = {}
    for template, parameters in value.items():
        if template not in templates:
            raise ValueError(f"{field}:{template}: not among enabled_disk_templates {templates}")
        if not isinstance(parameters, dict):
            raise ValueError(f"{field}:{template}: a mapping of parameters, got {parameters!r}")
        known = DISK_PARAMETERS.get(template, {})
        for key, item in parameters.items():
            where = f"{field}:{template}:{key}"
            if key not in known:
                raise ValueError(f"{where}: not a {template} disk parameter of Ganeti "
                                 f"({', '.join(sorted(known)) or 'it has none'})")  # fmt: skip
            checked.setdefault(template, {})[key] = _disk_value(item, known[key], where)
    return checked


def _disk_value(item, kind, where):
    if kind is bool and isinstance(item, bool):
        return str(item).lower()
    if kind is int and isinstance(item, int) and not isinstance(item, bool) and item >= 0:
        return str(item)
    if kind is str and isinstance(item, str) and _DISK_VALUE.match(item):
        return item
    raise ValueError(f"{where}: {item!r} is not a {kind.__name__} value Ganeti takes here")


def _replication(value, field):
    """{network (a CIDR or None), nic (an interface name or None), mtu (576..65535, 1500)}."""
    if not isinstance(value, dict) or set(value) - {"network", "nic", "mtu"}:
        raise ValueError(f"{field}: a mapping of network, nic and mtu, got {value!r}")
    network = value.get("network")
    if network is not None:
        try:
            network = ipaddress.ip_network(str(network), strict=True)
        except ValueError:
            raise ValueError(f"{field}:network: {network!r} is not a network (CIDR)") from None
    nic = value.get("nic")
    if nic is not None:
        nic = _names([nic], field + ":nic")[0]
    mtu = value.get("mtu", 1500)
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not 576 <= mtu <= 65535:
        raise ValueError(f"{field}:mtu: {mtu!r} is not an MTU (576 to 65535)")
    return {"network": network and str(network), "nic": nic, "mtu": mtu}


def _secondary_ips(value, names, network, field):
    """
    {FQDN: IP} for the cluster's nodes: none, or one for each (Ganeti refuses a node without a
    secondary IP in a cluster whose master has one), each in network when one is declared.
    """
    if not isinstance(value, dict):
        raise ValueError(f"{field}: a mapping of node FQDN to IP address, got {value!r}")
    checked = {}
    for name, ip in value.items():
        node = hostnode_node.fqdn(name, field)
        checked[node] = hostnode_node.address(ip, f"{field}:{node}")
        if network and ipaddress.ip_address(checked[node]) not in ipaddress.ip_network(network):
            raise ValueError(f"{field}:{node}: {checked[node]} is not in the replication "
                             f"network {network}")  # fmt: skip
    missing = [name for name in names if name not in checked]
    if checked and missing:
        raise ValueError(f"{field}: no secondary IP for {', '.join(missing)} (each node of a "
                         f"cluster with a replication network needs one)")  # fmt: skip
    return checked


def _hypervisor_parameters(value, hypervisors, field):
    """{hypervisor: {key: value}} of enabled hypervisors, values as gnt-cluster takes them."""
    if not isinstance(value, dict):
        raise ValueError(f"{field}: a mapping of hypervisor to parameters, got {value!r}")
    checked = {}
    for hypervisor, parameters in value.items():
        if hypervisor not in hypervisors:
            raise ValueError(f"{field}:{hypervisor}: not among enabled_hypervisors {hypervisors}")
        if not isinstance(parameters, dict):
            raise ValueError(f"{field}:{hypervisor}: a mapping of parameters, got {parameters!r}")
        for key, item in parameters.items():
            text = "" if item is None else str(item).lower() if isinstance(item, bool) else item
            if not (isinstance(key, str) and _NAME.match(key)):
                raise ValueError(f"{field}:{hypervisor}: {key!r} is not a parameter name")
            if not (isinstance(text, (str, int)) and _PARAMETER_VALUE.match(str(text))):
                raise ValueError(f"{field}:{hypervisor}:{key}: {item!r} is not a value")
            checked.setdefault(hypervisor, {})[key] = str(text)
    return checked


def init_argv(opts):
    """
    The ``gnt-cluster init`` argv for the options of ``options``. ``--no-etc-hosts``: the node
    formula owns /etc/hosts (its hosts block lists the cluster name and every node); Ganeti
    rewriting its lines there would undo the highstate and the highstate undo Ganeti.
    """
    argv = [
        "gnt-cluster", "init", "--no-etc-hosts",
        f"--master-netdev={opts['master_netdev']}",
        f"--enabled-hypervisors={','.join(opts['enabled_hypervisors'])}",
        f"--enabled-disk-templates={','.join(opts['enabled_disk_templates'])}",
    ]  # fmt: skip
    if opts["vg_name"]:
        argv.append(f"--vg-name={opts['vg_name']}")
    if opts["drbd_usermode_helper"]:
        argv.append(f"--drbd-usermode-helper={opts['drbd_usermode_helper']}")
    if opts["nic_link"]:
        argv.append(f"--nic-parameters=link={opts['nic_link']}")
    if opts["secondary_ips"]:
        argv.append(f"--secondary-ip={opts['secondary_ips'][opts['master']]}")
    for hypervisor, parameters in sorted(opts["hypervisor_parameters"].items()):
        pairs = ",".join(f"{key}={value}" for key, value in sorted(parameters.items()))
        argv.append(f"--hypervisor-parameters={hypervisor}:{pairs}")
    for template, parameters in sorted(opts["disk_parameters"].items()):
        pairs = ",".join(f"{key}={value}" for key, value in sorted(parameters.items()))
        argv.append(f"--disk-parameters={template}:{pairs}")
    argv.append(opts["cluster_name"])
    return argv


def plan_init(initialised, opts, name=None, held=None):
    """
    [] when the cluster exists already, else the one init command. name (the state's) must be
    the options' cluster_name; held, the name of the cluster an initialised node holds, must be
    it too: ValueError names both otherwise.
    """
    wanted = opts["cluster_name"]
    if name is not None and str(name).lower() != wanted.lower():
        raise ValueError(f"name: {name!r} is not hostnode:node:ganeti:cluster_name ({wanted})")
    if initialised and held is not None and held.lower() != wanted.lower():
        raise ValueError(
            f"this node holds Ganeti cluster {held} (ssconf_cluster_name), not "
            f"hostnode:node:ganeti:cluster_name {wanted}; nothing changed"
        )
    return [] if initialised else [init_argv(opts)]


def needs_cpu_type(opts):
    """Whether the init must be given the KVM guests' CPU model: KVM is enabled and pillar's
    hypervisor_parameters set none (the site's choice wins)."""
    kvm = opts["hypervisor_parameters"].get("kvm", {})
    return "kvm" in opts["enabled_hypervisors"] and "cpu_type" not in kvm


def with_cpu_type(opts, model):
    """The options with the KVM hypervisor parameter ``cpu_type`` model."""
    kvm = {**opts["hypervisor_parameters"].get("kvm", {}), "cpu_type": model}
    return {**opts, "hypervisor_parameters": {**opts["hypervisor_parameters"], "kvm": kvm}}


# Where gnt-cluster info reports each kind of cluster parameter, and the option of gnt-cluster
# modify (and init) that sets it (lib/client/gnt_cluster.py: HVLIST_OPT, DISK_PARAMS_OPT).
_CLUSTER_PARAMETERS = {
    "hypervisor_parameters": ("Hypervisor parameters", "--hypervisor-parameters"),
    "disk_parameters": ("Default disk parameters", "--disk-parameters"),
}


def parameter_changes(info, opts):
    """
    ``{kind: {owner: {key: {old, new}}}}``: the hypervisor and disk parameters of opts
    (``hypervisor_parameters``: ``{kvm: {cpu_type: ...}}``, ``disk_parameters``: ``{drbd:
    {resync-rate: ...}}``) whose value differs from what ``gnt-cluster info`` (parsed) reports.
    Booleans compare as Ganeti prints them (``True``). A hypervisor, template or key the
    cluster does not report raises ValueError naming the pillar field.
    """
    changes = {}
    for kind, (section, _option) in _CLUSTER_PARAMETERS.items():
        reported = info.get(section) or {}
        for owner, parameters in sorted(opts[kind].items()):
            field = f"hostnode:node:ganeti:{kind}:{owner}"
            current = reported.get(owner)
            if not isinstance(current, dict):
                raise ValueError(f"{field}: gnt-cluster info reports no {section} of {owner}")
            for key, value in sorted(parameters.items()):
                if key not in current:
                    raise ValueError(f"{field}:{key}: not a parameter gnt-cluster info reports")
                if not _same(current[key], value):
                    changes.setdefault(kind, {}).setdefault(owner, {})[key] = {
                        "old": current[key], "new": value,
                    }  # fmt: skip
    return changes


def _same(reported, wanted):
    """Whether gnt-cluster info's value is the wanted one (booleans as Ganeti prints them)."""
    if wanted in ("true", "false"):
        return str(reported).lower() == wanted
    return reported == wanted


def modify_argv(changes):
    """The ``gnt-cluster modify`` argv that sets the new values of changes (see
    ``parameter_changes``), or None when there are none."""
    if not changes:
        return None
    argv = ["gnt-cluster", "modify"]
    for kind, (_section, option) in _CLUSTER_PARAMETERS.items():
        for owner, parameters in sorted(changes.get(kind, {}).items()):
            pairs = ",".join(f"{key}={value['new']}" for key, value in sorted(parameters.items()))
            argv.append(f"{option}={owner}:{pairs}")
    return argv


def plan_add(members, wanted, secondary_ips=None, node_groups=None):
    """
    ``gnt-node add`` for each wanted node (in order) that is not a member, with its secondary
    IP when secondary_ips ({FQDN: IP}) has one and its group when node_groups ({FQDN: group})
    has one; [] when all are members. Host key checking stays on (Ganeti's default): the
    master's Ganeti known_hosts must hold the node's keys (``plan_known_hosts``).
    """
    known = {m.lower() for m in members}
    plan = []
    for node in wanted:
        if node.lower() not in known:
            ip = (secondary_ips or {}).get(node)
            group = (node_groups or {}).get(node)
            options = [*([f"--secondary-ip={ip}"] if ip else []),
                       *([f"--node-group={group}"] if group else [])]  # fmt: skip
            plan.append(["gnt-node", "add", *options, node])
    return plan


def plan_groups(groups, members, opts):
    """
    The commands that give the cluster the options' groups and put each member (members:
    ``{node: group}``, as ``parse_group_members`` reads them) that node_groups names in its
    group: ``gnt-group add`` per missing group (groups: the existing ones), then one
    ``gnt-group assign-nodes`` per group for the members elsewhere. Nodes that are not members
    get their group when added (``plan_add``); groups and nodes pillar does not name are left
    alone. [] when all is as wanted.
    """
    existing = set(groups)
    plan = [["gnt-group", "add", group] for group in opts["groups"] if group not in existing]
    current = {node.lower(): group for node, group in members.items()}
    moving = {}
    for node, group in sorted(opts["node_groups"].items()):
        if current.get(node.lower(), group) != group:
            moving.setdefault(group, []).append(node)
    plan += [["gnt-group", "assign-nodes", group, *moving[group]]
             for group in opts["groups"] if group in moving]  # fmt: skip
    return plan


def public_key(line, field):
    """
    ``type base64`` of an OpenSSH public key line (its comment dropped), ValueError naming field
    for anything else::

        ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB... root@hv1
    """
    parts = line.split() if isinstance(line, str) else []
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise ValueError(f"{field}: not an OpenSSH public key of {', '.join(KEY_TYPES)}")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise ValueError(f"{field}: the key of {parts[0]} is not base64") from None
    if blob[4 : 4 + len(parts[0])] != parts[0].encode():
        raise ValueError(f"{field}: the key does not hold a {parts[0]} key")
    return f"{parts[0]} {parts[1]}"


def published_keys(value, node):
    """
    The ``{"root": [...], "host": [...]}`` a node publishes in the mine (``ganeti.ssh_keys``),
    checked; ValueError names the node when it published none, or something else.
    """
    if not isinstance(value, dict) or not value.get("host"):
        raise ValueError(f"{node}: no SSH host key in the Salt mine (ganeti.ssh_keys)")
    return {kind: [public_key(line, f"{node}: mine ganeti.ssh_keys:{kind}")
                   for line in value.get(kind) or []] for kind in ("root", "host")}  # fmt: skip


def plan_known_hosts(text, host_keys):
    """
    Ganeti's known_hosts (``/var/lib/ganeti/known_hosts``, the only file its ssh reads: global
    file, user file /dev/null) with each node of host_keys ({FQDN: ["type base64", ...]}) holding
    exactly those keys: its other lines (the cluster name's, written by gnt-cluster init) stay.
    None when it holds them already.
    """
    kept = [line for line in (text or "").splitlines()
            if line.split(" ", 1)[0].lower() not in host_keys]  # fmt: skip
    added = [f"{node} {key}" for node, keys in host_keys.items() for key in keys]
    new = "".join(f"{line}\n" for line in kept + added)
    return None if new == (text or "") else new


def authorized_keys(text, keys):
    """
    root's authorized_keys holding keys (``type base64`` each) as well: the missing ones are
    appended, every other line stays; None when it holds them already (with options or a
    comment of their own: the key is what counts).
    """
    present = set()
    for line in (text or "").splitlines():
        tokens = line.split()
        pairs = itertools.pairwise(tokens)
        present.update(f"{kind} {blob}" for kind, blob in pairs if kind in KEY_TYPES)
    missing = [key for key in keys if key not in present]
    if not missing:
        return None
    body = text or ""
    if body and not body.endswith("\n"):
        body += "\n"
    return body + "".join(f"{key}\n" for key in missing)


def ping_argv(opts):
    """
    The don't-fragment ping that proves the replication path at the pillar's MTU, from a
    node to the master's secondary IP (a packet of exactly mtu bytes, by the replication NIC
    when one is declared); None when the cluster has no secondary IPs.
    """
    target = opts["secondary_ips"].get(opts["master"])
    if not target:
        return None
    replication = opts["replication"]
    size = replication["mtu"] - _PING_HEADERS[ipaddress.ip_address(target).version]
    nic = ["-I", replication["nic"]] if replication["nic"] else []
    return ["ping", "-M", "do", "-s", str(size), "-c", "1", "-W", "1", *nic, target]
