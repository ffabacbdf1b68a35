"""
The node itself, as a new hypervisor or storage node needs it before it joins its site: its
FQDN hostname, the /etc/hosts entries of its cluster and peers, the kernel modules it loads
with their options (DRBD), its sysctl profile; and ``preflight``, the pillar checks that stop a
bootstrap before anything changes. The bridges per VLAN are the ``bridges`` module's, the LVM
volume group and filter ``node_lvm``'s.

Files go under the minion option ``hostnode:config_root`` (default ``/``), each owned by
hostnode: ``/etc/hostname``, one marked block of ``/etc/hosts`` (the rest of the file is kept),
``/etc/modules-load.d/hostnode.conf``, ``/etc/modprobe.d/hostnode.conf``,
``/etc/sysctl.d/90-hostnode-node.conf``. Every function that changes something takes
``test=True`` and then returns the same changes without making them.
"""

import os

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import bridge as hostnode_bridge
from saltext.hostnode.utils import chrony as hostnode_chrony
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import ethtool as hostnode_ethtool
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import lvm as hostnode_lvm
from saltext.hostnode.utils import node as hostnode_node
from saltext.hostnode.utils import replication as hostnode_replication
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "node"

HOSTNAME_FILE = "etc/hostname"
HOSTS_FILE = "etc/hosts"
MODULES_LOAD_FILE = "etc/modules-load.d/hostnode.conf"
MODPROBE_FILE = "etc/modprobe.d/hostnode.conf"
SYSCTL_FILE = "etc/sysctl.d/90-hostnode-node.conf"
HEADER = hostnode_node.HEADER
SYSFS_MODULE = "/sys/module"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "node: hostnode nodes run Linux")
    return __virtualname__


def _run(argv, check=True):
    return hostnode_command.run(__salt__["cmd.run_all"], argv, check=check)


def _config_root():
    return __salt__["config.get"]("hostnode:config_root", "/") or "/"


def _path(relative):
    return os.path.join(_config_root(), relative)


def _invalid(exc):
    return SaltInvocationError(str(exc))


def roles():
    """
    The node's roles: its ``roles`` grain and the pillar list ``hostnode:roles``, in that order,
    each once.

    CLI Example:

    .. code-block:: bash

        salt '*' node.roles
    """
    found = []
    sources = (
        ("grain roles", __grains__.get("roles")),
        ("pillar hostnode:roles", __pillar__.get("hostnode", {}).get("roles")),
    )
    for source, value in sources:
        for role in hostnode_validate.as_list(value or [], source):
            if not isinstance(role, str) or not role:
                raise SaltInvocationError(f"{source}: {role!r} is not a role name")
            if role not in found:
                found.append(role)
    return found


# --- Hostname and /etc/hosts ------------------------------------------------------------------


def hostname(name=None, test=False):
    """
    Give the node its fully qualified name, live (the kernel's hostname, which ``hostname``
    prints and Ganeti requires to be the FQDN) and in /etc/hostname. name defaults to the minion
    id. Returns ``{"hostname": {"old", "new"}, "files": {path: diff}}`` with what changes.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' node.hostname hv1.ams1.example.net test=True
    """
    try:
        wanted = hostnode_node.fqdn(name or __opts__["id"], "name")
    except ValueError as exc:
        raise _invalid(exc) from None
    current = hostnode_files.read("/proc/sys/kernel/hostname").strip()
    plan = hostnode_files.plan(_path(HOSTNAME_FILE), hostnode_node.render_hostname(wanted))
    changes = {}
    if current != wanted:
        changes["hostname"] = {"old": current, "new": wanted}
    if plan:
        changes["files"] = hostnode_files.diffs([plan])
    if test or not changes:
        return changes
    if current != wanted:
        _run(["hostname", wanted])
    if plan:
        hostnode_files.replace_planned([plan])
    return changes


def hosts(entries, test=False):
    """
    Keep hostnode's block of /etc/hosts (at the top of the file, so its names win over a
    ``127.0.1.1`` line of the installer) holding ``ip fqdn short`` for entries
    (``{fqdn: ip}``: the node, its cluster name and its peers). Lines outside the block are
    never changed. Returns ``{"files": {path: diff}}`` or ``{}``.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' node.hosts '{hv1.ams1.example.net: 10.1.0.11}' test=True
    """
    try:
        wanted = hostnode_node.hosts_entries(entries or {}, "entries")
    except ValueError as exc:
        raise _invalid(exc) from None
    path = _path(HOSTS_FILE)
    old = hostnode_files.read(path)
    try:
        new = hostnode_node.render_hosts(old, wanted)
    except ValueError as exc:
        raise CommandExecutionError(f"{path}: {exc}") from None
    plan = hostnode_files.plan(_path(HOSTS_FILE), new) if new != (old or "") else None
    if not plan:
        return {}
    return {
        "files": hostnode_files.diffs([plan]) if test else hostnode_files.replace_planned([plan])
    }


def hosts_shadowed(entries):
    """
    Lines of /etc/hosts outside hostnode's block that give one of entries' names another
    address: harmless for lookups (the block comes first) but confusing to a reader.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' node.hosts_shadowed '{hv1.ams1.example.net: 10.1.0.11}'
    """
    try:
        wanted = hostnode_node.hosts_entries(entries or {}, "entries")
        return hostnode_node.shadowing_lines(hostnode_files.read(_path(HOSTS_FILE)), wanted)
    except ValueError as exc:
        raise _invalid(exc) from None


# --- Kernel modules ---------------------------------------------------------------------------


def kernel_modules(modules, test=False):
    """
    Load modules at boot (modules-load.d) with their options (modprobe.d), and load now those
    this kernel has and has not loaded. modules: ``{name: {options: {key: value}}}``. Returns
    ``{"files": {path: diff}, "loaded": [names]}`` with what changes; see
    ``kernel_modules_status`` for modules this kernel lacks or loaded with other options.

    CLI Example:

    .. code-block:: bash

        salt '*' node.kernel_modules '{drbd: {options: {minor_count: 255}}}' test=True
    """
    wanted = _modules(modules)
    plans = [
        hostnode_files.plan(
            _path(MODULES_LOAD_FILE), hostnode_node.render_modules_load(wanted, HEADER)
        ),
        hostnode_files.plan(_path(MODPROBE_FILE), hostnode_node.render_modprobe(wanted, HEADER)),
    ]
    plans = [plan for plan in plans if plan]
    status = kernel_modules_status(modules)
    to_load = [name for name in sorted(wanted) if name in status["loadable"]]
    changes = {}
    if plans:
        changes["files"] = hostnode_files.diffs(plans)
    if to_load:
        changes["loaded"] = to_load
    if test or not changes:
        return changes
    files = hostnode_files.replace_planned(plans)
    loaded = []
    for name in to_load:
        options = [f"{k}={v}" for k, v in sorted(wanted[name].items())]
        try:
            _run(["modprobe", name, *options])
        except CommandExecutionError as exc:
            info = {"files": files, "loaded": loaded} if files else {"loaded": loaded}
            raise CommandExecutionError(str(exc), info=info) from None
        loaded.append(name)
    return changes


def _modules(modules):
    try:
        return hostnode_node.kernel_modules(modules or {}, "modules")
    except ValueError as exc:
        raise _invalid(exc) from None


def kernel_modules_status(modules):
    """
    ``{"loaded": [...], "loadable": [...], "unavailable": [...], "option_mismatches": {module:
    {option: {wanted, loaded}}}}`` for modules against the running kernel: a module it does not
    have is loaded at boot once it has it; a loaded module keeps its options until reloaded.

    CLI Example:

    .. code-block:: bash

        salt '*' node.kernel_modules_status '{drbd: {options: {minor_count: 255}}}'
    """
    wanted = _modules(modules)
    status = {"loaded": [], "loadable": [], "unavailable": [], "option_mismatches": {}}
    parameters = {}
    for name in sorted(wanted):
        if os.path.isdir(os.path.join(SYSFS_MODULE, name)):
            status["loaded"].append(name)
            parameters[name] = _module_parameters(name)
        elif _run(["modprobe", "--dry-run", "--quiet", name], check=False)["retcode"] == 0:
            status["loadable"].append(name)
        else:
            status["unavailable"].append(name)
    status["option_mismatches"] = hostnode_node.option_mismatches(wanted, parameters)
    return status


def _module_parameters(name):
    folder = os.path.join(SYSFS_MODULE, name, "parameters")
    if not os.path.isdir(folder):
        return {}
    return {entry: (hostnode_files.read(os.path.join(folder, entry)) or "").strip()
            for entry in sorted(os.listdir(folder))}  # fmt: skip


# --- sysctl profile ---------------------------------------------------------------------------


def sysctl(values, test=False):
    """
    Set the node's sysctl profile live and in hostnode's sysctl.d file (the node formula's
    one file; arpflux keeps its own per-interface file). Keys this kernel does not have yet
    (a module not loaded) are persisted and apply at boot. Returns ``{"sysctl": {key: {"old",
    "new"}}, "files": {path: diff}}`` with what changes.

    CLI Example:

    .. code-block:: bash

        salt '*' node.sysctl '{vm.swappiness: 10, net.ipv4.ip_forward: 0}' test=True
    """
    wanted = _sysctl_values(values)
    current = {key: _sysctl_read(key) for key in wanted}
    writes = hostnode_node.sysctl_writes(wanted, current)
    plan = hostnode_files.plan(_path(SYSCTL_FILE), hostnode_node.render_sysctl(wanted, HEADER))
    changes = _sysctl_changes(writes, plan)
    if test or not changes:
        return changes
    if writes:
        _run(["sysctl", "-q", "-w", *(f"{key}={new}" for key, _, new in writes)])
    if plan:
        hostnode_files.replace_planned([plan])
    return _sysctl_changes([(k, o, _sysctl_read(k)) for k, o, _ in writes], plan)


def sysctl_absent_keys(values):
    """
    The keys of values that this kernel does not have (persisted only until it has them).

    CLI Example:

    .. code-block:: bash

        salt '*' node.sysctl_absent_keys '{net.bridge.bridge-nf-call-iptables: 0}'
    """
    return [key for key in sorted(_sysctl_values(values)) if _sysctl_read(key) is None]


def _sysctl_values(values):
    try:
        return hostnode_node.sysctl_profile(values or {}, "values")
    except ValueError as exc:
        raise _invalid(exc) from None


def _sysctl_read(key):
    text = hostnode_files.read(hostnode_node.proc_path(key))
    return None if text is None else " ".join(text.split())


def _sysctl_changes(writes, plan):
    changes = {}
    if writes:
        changes["sysctl"] = {key: {"old": old, "new": new} for key, old, new in writes}
    if plan:
        changes["files"] = hostnode_files.diffs([plan])
    return changes


# --- Role formulas and preflight -----------------------------------------------------------


def formulas(role_formulas):
    """
    The formulas (SLS names) the node's roles need, in the order of role_formulas
    (``{role: [sls, ...]}``), each once; roles without an entry are other formulas' business.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' node.formulas '{hypervisor: [bonding, node.bridges], storage: [ceph_osd]}'
    """
    if not isinstance(role_formulas, dict):
        raise SaltInvocationError("role_formulas: expected a mapping of role to formula list")
    node_roles = roles()
    found = []
    for role, names in role_formulas.items():
        if role in node_roles:
            for name in hostnode_validate.as_list(names, f"role_formulas:{role}"):
                if name not in found:
                    found.append(name)
    return found


def pillar(formula, defaults, moved=None):
    """
    The formula's pillar ``hostnode:<formula>`` merged over its defaults (as ``pillar.get``
    with ``merge=True``), after checking that every key of it is one the defaults know: a
    misspelt key is refused with CommandExecutionError naming it, not ignored. Each formula's
    map.jinja calls it, so the SLS fails to render and nothing changes.

    moved
        ``{key: where it lives now}`` for keys of earlier releases: a pillar still holding
        one is refused with its new place.

    CLI Example:

    .. code-block:: bash

        salt '*' node.pillar anyip '{device: lo, prefixes: [], persist: true, backend: null}'
    """
    if not isinstance(formula, str) or not formula.isidentifier():
        raise SaltInvocationError(f"formula: {formula!r} is not a formula name")
    if not isinstance(defaults, dict):
        raise SaltInvocationError(f"defaults: a mapping, got {defaults!r}")
    key = f"hostnode:{formula}"
    value = __salt__["pillar.get"](key, None)
    for old, new in (moved or {}).items():
        if isinstance(value, dict) and old in value:
            raise CommandExecutionError(
                f"pillar refused, nothing changed: {key}:{old}: moved to {new}"
            )
    try:
        hostnode_validate.known_keys(value, defaults, key)
    except SaltInvocationError as exc:
        raise CommandExecutionError(f"pillar refused, nothing changed: {exc}") from None
    return __salt__["pillar.get"](key, default=defaults, merge=True)


def preflight(settings, formulas=()):
    """
    Check a node's pillar before its highstate changes anything; raise CommandExecutionError
    naming every offending pillar key, or return True. It reads (``pvs``, ``wipefs
    --no-act``) and writes nothing. The node formula runs it as its first state
    (``node.preflight``, with ``failhard``), so a refusal is one failed state and a real
    highstate stops there.

    settings
        The node formula's merged data (``hostnode:node`` over its defaults).

    formulas
        The formulas the node gets (``node.formulas``): with storage_net or a part of it,
        global rp_filter and ARP keys are refused in the sysctl profile (arpflux owns them).

    Also checked: AnyIP prefixes (pillar ``hostnode:anyip:prefixes``) must not overlap a storage
    subnet (``hostnode:storage_net:subnets``) nor hold a node address (``addresses``, and the
    node's own line of ``hosts``); the volume group's name and LVM filter must be valid and
    its devices free; the time sources (``time``) must be host names or IP addresses with
    source options chrony knows; the bridge ports' offloads
    (``hostnode:node:bridges:offloads``) name known offloads with true or false, and
    ``hostnode:node:bridges:netfilter`` is a boolean that owns the bridge-nf sysctl keys; with
    node.replication, the replication NIC, its MTU and the node's secondary IP with the prefix
    of ``hostnode:node:ganeti:replication:network``.

    CLI Example:

    .. code-block:: bash

        salt 'hv1*' node.preflight '{fqdn: hv1.ams1.example.net, sysctl: {vm.swappiness: 10}}'
    """
    if not isinstance(settings, dict):
        raise SaltInvocationError("settings: must be the node formula's data (a mapping)")
    pillar = __pillar__.get("hostnode", {})
    try:
        own = hostnode_node.fqdn(settings.get("fqdn") or __opts__["id"], "hostnode:node:fqdn")
    except ValueError as exc:
        raise CommandExecutionError(f"pillar refused, nothing changed: {exc}") from None
    addresses = _listed("hostnode:node:addresses", settings.get("addresses"))
    hosts = settings.get("hosts") or {}
    addresses.update({f"hostnode:node:hosts:{n}": ip for n, ip in hosts.items() if n == own})
    anyip = _listed("hostnode:anyip:prefixes", (pillar.get("anyip") or {}).get("prefixes"))
    subnets = _listed(
        "hostnode:storage_net:subnets", (pillar.get("storage_net") or {}).get("subnets")
    )
    sysctl = {key: (f"hostnode:node:sysctl:{key}", value)
              for key, value in (settings.get("sysctl") or {}).items()}  # fmt: skip
    try:
        for key, value in {**anyip, **subnets}.items():
            hostnode_validate.prefix(value, key)
        addresses = {key: hostnode_node.address(ip, key) for key, ip in addresses.items()}
        hostnode_chrony.sources(settings.get("time"), "hostnode:node:time")
        storage_node = any(name.split(".")[0] == "storage_net" for name in formulas)
        problems = hostnode_node.pillar_problems(anyip, subnets, addresses, sysctl, storage_node)
    except (ValueError, SaltInvocationError) as exc:
        raise CommandExecutionError(f"pillar refused, nothing changed: {exc}") from None
    problems += _bridges_problems(settings, formulas)
    problems += _replication_problems(settings, formulas, own)
    problems += _volume_group_problems(settings.get("lvm") or {})
    if problems:
        raise CommandExecutionError("pillar refused, nothing changed: " + "; ".join(problems))
    return True


def _listed(key, values):
    return {f"{key}:{index}": value for index, value in enumerate(values or [])}


def _bridges_problems(settings, formulas):
    """The bridge ports' offloads and the netfilter switch; the bridge-nf keys are netfilter's."""
    key = "hostnode:node:bridges"
    bridges = settings.get("bridges") or {}
    problems = []
    try:
        hostnode_ethtool.offloads(bridges.get("offloads"), f"{key}:offloads")
    except ValueError as exc:
        problems.append(str(exc))
    if not isinstance(bridges.get("netfilter", False), bool):
        problems.append(f"{key}:netfilter: true or false, got {bridges['netfilter']!r}")
    if "node.bridges" in formulas:
        problems += [f"hostnode:node:sysctl:{name}: set by {key}:netfilter"
                     for name in hostnode_bridge.NETFILTER_KEYS
                     if name in (settings.get("sysctl") or {})]  # fmt: skip
    return problems


def _replication_problems(settings, formulas, own):
    """On a node that gets node.replication: its NIC, MTU and secondary IP from the pillar."""
    if "node.replication" not in formulas:
        return []
    try:
        hostnode_replication.wanted(settings.get("ganeti") or {}, own)
    except ValueError as exc:
        return [str(exc)]
    return []


def _volume_group_problems(lvm):
    if not lvm.get("vg"):
        return []
    wanted = lvm.get("filter") or {}
    try:
        hostnode_lvm.vg_name(lvm["vg"], "hostnode:node:lvm:vg")
        hostnode_lvm.filter_patterns(
            lvm["vg"], wanted.get("reject_drbd", True), wanted.get("reject_instance_disks", True),
            wanted.get("reject", []), "hostnode:node:lvm:filter:",
        )  # fmt: skip
    except SaltInvocationError as exc:
        return [str(exc)]
    if not lvm.get("devices"):
        return []
    key = "hostnode:node:lvm:devices"
    if "node_lvm.volume_group_check" not in __salt__:
        return [f"{key}: the node_lvm module is not loaded (is lvm2 installed?)"]
    try:
        verdicts = __salt__["node_lvm.volume_group_check"](lvm["vg"], lvm["devices"])
    except SaltInvocationError as exc:
        return [f"{key}:{exc}"]
    return [f"{key}:{index}: {v['reason']}" for index, v in enumerate(verdicts) if v["reason"]]
