"""
Linux bonds: read them, and pin a bond's MAC so it no longer depends on the enslave order.

A bond takes the MAC of the slave enslaved first. With hot-plug slaves (Debian's ``bond-slaves
none`` plus ``bond-master`` on each NIC) the hardware decides which comes first, so the node's
MAC changes across reboots and DHCP reservations, SLAAC addresses, port security and ARP caches
break. ``bond.pin_mac`` sets the MAC on the bond live (a MAC set on the bond is kept by the
kernel whatever the enslave order) and persists it for the node's network backend:

- ifupdown: ``/etc/network/interfaces.d/hostnode-bond-<bond>`` (an ``inet manual`` stanza with
  ``hwaddress``, which ifupdown runs right after the user's stanza that creates the bond);
- netplan: ``/etc/netplan/90-hostnode-bond-<bond>.yaml`` (netplan merges it with the user's
  definition of the bond);
- systemd-networkd: a drop-in ``hostnode-mac.conf`` beside the bond's ``.netdev``.

The MAC is chosen by a policy: an explicit MAC, ``first-slave`` (the permanent MAC of the first
slave of the configured order) or ``stable`` (derived from ``/etc/machine-id`` and the bond name).
Files are written under the minion option ``hostnode:config_root`` (default ``/``).
"""

import os
import tempfile

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import bond as hostnode_bond
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import netbackend as hostnode_netbackend
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "bond"
__func_alias__ = {"list_": "list"}

PROC_BONDING = "/proc/net/bonding"
SYSFS_NET = "/sys/class/net"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "bond: Linux bonding exists on Linux only")
    if not salt.utils.path.which("ip"):
        return (False, "bond: the ip command (package iproute2) is not installed")
    return __virtualname__


def _run(argv):
    return hostnode_command.run(__salt__["cmd.run_all"], argv)


def _config_root():
    return __salt__["config.get"]("hostnode:config_root", "/") or "/"


def list_():
    """
    The bonds of this node (of its network namespace).

    CLI Example:

    .. code-block:: bash

        salt '*' bond.list
    """
    return hostnode_bond.bond_names(SYSFS_NET)


def info(bond, source=None):
    """
    The bond's state from ``/proc/net/bonding/<bond>``: mode, MII settings, primary and active
    slave, hash policy, 802.3ad aggregator (``ad_info``) and the slaves in kernel order, plus
    its current MAC (``mac``) and how the kernel got it (``mac_assigned``: ``set`` once pinned).

    source
        Parse this saved copy of ``/proc/net/bonding/<bond>`` instead (no MAC then).

    CLI Example:

    .. code-block:: bash

        salt '*' bond.info bond0
        salt '*' bond.info bond0 source=/tmp/bundle/bond0.txt
    """
    hostnode_validate.interface_name(bond, "bond")
    model = _model(bond, source)
    if source is None:
        sysfs = hostnode_bond.read_sysfs(SYSFS_NET, bond)
        model.update(mac=sysfs["mac"], mac_assigned=sysfs["mac_assigned"])
    return model


def _model(bond, source=None):
    if source:
        parse = hostnode_bond.parse_bonding
        return hostnode_files.parse_source(source, parse, "a copy of /proc/net/bonding/<bond>")
    path = os.path.join(PROC_BONDING, bond)
    text = hostnode_files.read(path)
    if text is None:
        raise SaltInvocationError(f"bond: {bond!r} is not a bond on this node")
    try:
        return hostnode_bond.parse_bonding(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{path}: {exc}") from None


def health(bond, source=None):
    """
    The LACP health of an 802.3ad bond: ``{"healthy", "problems": [...]}``, each problem a dict
    with a ``kind`` (``no_active_aggregator``, ``no_partner``, ``split_aggregator``,
    ``missing_ports``), the ``slave`` or ``aggregator`` it concerns and a ``message``. Bonds of
    other modes are always healthy here.

    source
        Read this saved copy of ``/proc/net/bonding/<bond>`` instead.

    CLI Example:

    .. code-block:: bash

        salt '*' bond.health bond0
        salt '*' bond.health bond0 source=/tmp/bundle/bond0.txt
    """
    hostnode_validate.interface_name(bond, "bond")
    return hostnode_bond.health(_model(bond, source))


def write_metrics(path, bonds=None, source=None):
    """
    Write the bonds' state as a Prometheus textfile for node_exporter's textfile collector
    (atomically, mode 0644): per slave whether its MII status is up, its link failures and
    802.3ad aggregator; per bond and slave the number of LACP problems (see ``bond.health``).

    bonds
        The bonds (list or comma-separated; default: every bond of the node).

    source
        A saved copy of ``/proc/net/bonding/<bond>``; bonds then names that one bond.

    CLI Example:

    .. code-block:: bash

        salt '*' bond.write_metrics /var/lib/prometheus/node-exporter/hostnode_bond.prom
    """
    if not isinstance(path, str) or not path.endswith(".prom") or not os.path.isabs(path):
        raise SaltInvocationError(f"path: {path!r} must be an absolute path ending in .prom")
    if source and len(hostnode_validate.as_list(bonds, "bonds") or []) != 1:
        raise SaltInvocationError("bonds: with source, name the one bond it is a copy of")
    names = _bond_names(bonds)
    models = {bond: _model(bond, source) for bond in names}
    text = hostnode_bond.render_metrics(models)
    hostnode_files.replace(path, text, mode=0o644)
    return {"path": path, "samples": sum(1 for line in text.splitlines() if line[:1] != "#")}


def _bond_names(bonds):
    return [
        hostnode_validate.interface_name(b, f"bonds[{i}]")
        for i, b in enumerate(hostnode_validate.as_list(bonds, "bonds") or list_())
    ]


def stable_mac(bond, seed=None):
    """
    The MAC the ``stable`` policy gives bond: locally administered, unicast, derived from the
    node's ``/etc/machine-id`` (under ``hostnode:config_root``) or seed, and the bond name.

    CLI Example:

    .. code-block:: bash

        salt '*' bond.stable_mac bond0
        salt '*' bond.stable_mac bond0 seed=rack12-node3
    """
    hostnode_validate.interface_name(bond, "bond")
    return hostnode_bond.stable_mac(_seed(seed), bond)


def _seed(seed):
    if seed is not None:
        if not isinstance(seed, str) or not seed.strip():
            raise SaltInvocationError(f"seed: {seed!r} is not a non-empty string")
        return seed.strip()
    path = os.path.join(_config_root(), "etc/machine-id")
    machine_id = (hostnode_files.read(path) or "").strip()
    if not machine_id:
        raise SaltInvocationError(f"seed: {path} is missing or empty; pass seed=")
    return machine_id


def pin_mac(bond, mac="stable", slaves=None, seed=None, persist=True, backend=None, test=False):
    """
    Pin the bond's MAC live and (by default) across reboots.

    mac
        An explicit unicast MAC, ``first-slave`` (the permanent MAC of the first of slaves) or
        ``stable`` (see ``bond.stable_mac``; the default).

    slaves
        The configured slave order (list or comma-separated); needed by ``first-slave``.

    persist, backend
        Also write the boot-time file for the network backend (``ifupdown``, ``netplan``,
        ``networkd``; detected when not given).

    test
        Only report what would change.

    Returns ``{"mac": {"old", "new"}, "file": {"path", "backend", "diff"}}`` with the parts that
    change, or ``{}``.

    CLI Example:

    .. code-block:: bash

        salt '*' bond.pin_mac bond0 mac=first-slave slaves=eth0,eth1 test=True
        salt '*' bond.pin_mac bond0 mac=02:00:5e:10:00:01 backend=netplan
    """
    plan = _plan(bond, mac, slaves, seed, persist, backend)
    if test or not (plan["command"] or plan["file"]):
        return _changes(plan["old"], plan["mac"], plan["file"])
    try:
        if plan["command"]:
            _run(plan["command"])
        if plan["file"]:
            mode = 0o600 if plan["file"]["backend"] == "netplan" else 0o644
            hostnode_files.replace(plan["file"]["path"], plan["file"]["new"], mode=mode)
    except CommandExecutionError as exc:
        raise CommandExecutionError(str(exc), info=_observed(plan)) from None
    return _observed(plan)


def _plan(bond, mac, slaves, seed, persist, backend):
    hostnode_validate.interface_name(bond, "bond")
    order = [
        hostnode_validate.interface_name(s, f"slaves[{i}]")
        for i, s in enumerate(hostnode_validate.as_list(slaves, "slaves"))
    ]
    wanted = _wanted_mac(bond, mac, order, seed)
    backend = _backend(backend) if persist else None
    old = hostnode_bond.read_sysfs(SYSFS_NET, bond)["mac"]
    command = ["ip", "link", "set", "dev", bond, "address", wanted] if old != wanted else None
    file_plan = _file_plan(backend, bond, wanted) if backend else None
    return {"bond": bond, "old": old, "mac": wanted, "command": command, "file": file_plan}


def _wanted_mac(bond, mac, order, seed):
    explicit = None if mac in hostnode_bond.POLICIES else _explicit_mac(mac)
    model = _model(bond)  # also: the bond must exist
    if explicit:
        return explicit
    if mac == "stable":
        return hostnode_bond.stable_mac(_seed(seed), bond)
    if mac == "first-slave":
        if not order:
            raise SaltInvocationError("slaves: the first-slave policy needs the slave order")
        try:
            return hostnode_bond.first_slave_mac(model, order)
        except ValueError as exc:
            raise SaltInvocationError(str(exc)) from None


def _explicit_mac(mac):
    normal = hostnode_bond.normal_mac(mac)
    if normal is None:
        raise SaltInvocationError(
            f"mac: {mac!r} is not a MAC (six octets such as 02:00:5e:10:00:01) "
            f"nor one of {', '.join(hostnode_bond.POLICIES)}"
        )
    problem = hostnode_bond.mac_problem(normal)
    if problem:
        raise SaltInvocationError(f"mac: {mac!r} {problem}; a bond needs a unicast MAC")
    return normal


def _backend(backend):
    return hostnode_netbackend.chosen(backend, _config_root())


def _file_plan(backend, bond, mac):
    root = _config_root()
    netdev = _check_backend_defines(backend, bond, mac, root)
    path = hostnode_bond.pin_path(backend, bond, root, netdev)
    old = hostnode_files.read(path)
    new = hostnode_bond.render_pin(backend, bond, mac)
    if new == old:
        return None
    _validate_rendered(backend, bond, path, new, root)
    return {"path": path, "backend": backend, "old": old, "new": new}


def _check_backend_defines(backend, bond, mac, root):
    """The user's configuration must define the bond; returns networkd's .netdev path."""
    if backend == "networkd":
        netdev = hostnode_bond.networkd_netdev(root, bond)
        if netdev is None:
            raise CommandExecutionError(
                f"networkd: no .netdev under {root}/etc/systemd/network defines {bond}; "
                "hostnode adds a drop-in to the bond's own .netdev and changed nothing"
            )
        return netdev
    if backend == "ifupdown":
        ours = hostnode_bond.pin_path(backend, bond, root)
        units = hostnode_bond.ifupdown_read_order(root, ours)
        problem = hostnode_bond.ifupdown_problem(units, ours, bond)
        if problem:
            raise CommandExecutionError(
                f"ifupdown: {problem}, so a file of ours cannot pin the MAC. Add this line to "
                f"your 'iface {bond}' stanza yourself: 'hwaddress ether {mac}' "
                "(hostnode changed nothing)"
            )
    return None


def _validate_rendered(backend, bond, path, text, root):
    """The backend's own tool reads the rendered file (netplan: merged with the user's)."""
    tool = {"netplan": "netplan", "ifupdown": "ifquery"}.get(backend)
    if tool is None or not salt.utils.path.which(tool):
        return
    with tempfile.TemporaryDirectory(prefix="hostnode-validate-") as scratch:
        if backend == "netplan":
            _netplan_check(bond, path, text, root, scratch)
        else:
            copy = os.path.join(scratch, os.path.basename(path))
            hostnode_files.replace(copy, text)
            _checked(backend, path, ["ifquery", "-i", copy, bond])


def _netplan_check(bond, path, text, root, scratch):
    netplan_dir = os.path.join(root, "etc/netplan")
    names = sorted(n for n in os.listdir(netplan_dir) if n.endswith(".yaml"))
    texts = {n: hostnode_files.read(os.path.join(netplan_dir, n)) for n in names}
    texts[os.path.basename(path)] = text
    theirs = [t for n, t in texts.items() if n != os.path.basename(path)]
    if not hostnode_bond.netplan_defines(theirs, bond):
        raise CommandExecutionError(
            f"netplan: no file under {netplan_dir} defines bonds.{bond}; hostnode only adds "
            "macaddress to the user's definition and changed nothing"
        )
    for name, content in texts.items():
        hostnode_files.replace(os.path.join(scratch, "etc/netplan", name), content, mode=0o600)
    _checked("netplan", path, ["netplan", "generate", "--root-dir", scratch])


def _checked(backend, path, argv):
    try:
        _run(argv)
    except CommandExecutionError as exc:
        raise CommandExecutionError(f"{backend} rejects {path}: {exc}") from None


def _observed(plan):
    """Re-read the bond's MAC and the file, and report what really changed."""
    now = hostnode_bond.read_sysfs(SYSFS_NET, plan["bond"])["mac"]
    file_plan = hostnode_files.written(plan["file"])
    return _changes(plan["old"], now, file_plan)


def _changes(old, new, file_plan):
    changes = {}
    if old != new:
        changes["mac"] = {"old": old, "new": new}
    if file_plan:
        changes["file"] = hostnode_files.change(file_plan)
    return changes


def persisted(bond):
    """
    The MAC hostnode persisted for bond, per file of ours (any backend), under the config root.

    CLI Example:

    .. code-block:: bash

        salt '*' bond.persisted bond0
    """
    hostnode_validate.interface_name(bond, "bond")
    found = {}
    for path in hostnode_bond.pin_paths(_config_root(), bond):
        text = hostnode_files.read(path)
        if text is not None:
            found[path] = hostnode_bond.parse_pin(text)
    return found


def unpin(bond, test=False):
    """
    Remove hostnode's boot-time MAC files of bond (every backend). The live MAC stays until the
    bond is rebuilt, so the link does not flap.

    Returns ``{"files": {"removed": [...]}}``, or ``{}`` when there were none.

    CLI Example:

    .. code-block:: bash

        salt '*' bond.unpin bond0 test=True
    """
    hostnode_validate.interface_name(bond, "bond")
    paths = [p for p in hostnode_bond.pin_paths(_config_root(), bond) if os.path.exists(p)]
    if not test:
        for path in paths:
            hostnode_files.replace(path, None)
    return {"files": {"removed": paths}} if paths else {}


def events(bonds=None, previous=None):
    """
    What changed in the bonds since previous, the ``snapshots`` of an earlier call: the check
    behind the ``bond`` beacon, callable by hand.

    Returns ``{"snapshots": {bond: ...}, "events": [...]}``: a slave whose MII status changed,
    the loss (or return) of a bond's last active slave, an 802.3ad LACP problem (see
    ``bond.health``) that appeared or cleared, and a MAC that differs from the one hostnode
    pinned (or matches it again). Without previous, only a lost pin, a bond without an active
    slave and the LACP problems are reported.

    CLI Example:

    .. code-block:: bash

        salt '*' bond.events
        salt '*' bond.events bonds=bond0
    """
    names = _bond_names(bonds)
    previous = previous or {}
    snapshots, found = {}, []
    for bond in names:
        snapshots[bond] = _snapshot(bond)
        found += hostnode_bond.events(bond, previous.get(bond), snapshots[bond])
    return {"snapshots": snapshots, "events": found}


def _snapshot(bond):
    try:
        model = _model(bond)
        mac = hostnode_bond.read_sysfs(SYSFS_NET, bond)["mac"]
    except (SaltInvocationError, OSError):  # a bond that is gone: no slaves, no MAC
        model, mac = {"slaves": []}, None
    pins = [pin for pin in persisted(bond).values() if pin]
    return hostnode_bond.snapshot(model, mac, pins[0] if pins else None)
