"""
The node's network links that hostnode owns, live (``ip link``, ``ip address``) and in the
boot-time files of the node's network backend (ifupdown, netplan or systemd-networkd).

A bridge per VLAN for instance traffic (``br0100`` for VLAN 100) whose port is the VLAN device on
the node's bond (``bond0.100``), with a pinned MAC (``converge``). Files go under the minion
option ``hostnode:config_root`` (default ``/``), each owned by hostnode:
``/etc/network/interfaces.d/hostnode-bridge-<bond>``,
``/etc/netplan/90-hostnode-bridge-<bond>.yaml`` or ``/etc/systemd/network/90-hostnode-bridge-*``
(with a drop-in beside the bond's ``.network`` file declaring the VLANs).

The Ganeti replication network's NIC (``replication``): up, with its MTU and the node's
secondary IP, in ``/etc/network/interfaces.d/hostnode-replication-<nic>``,
``/etc/netplan/90-hostnode-replication-<nic>.yaml``, or
``/etc/systemd/network/10-hostnode-replication-<nic>.network`` (a drop-in
``hostnode-replication.conf`` beside the node's own ``.network`` file of the NIC when it has
one).

Every function that changes something takes ``test=True`` and then returns the same changes
without making them.

The virtual name is ``bridges``: Salt's own ``bridge`` module (brctl) keeps its name.
"""

import glob
import ipaddress
import os
import re
import tempfile

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import bond as hostnode_bond
from saltext.hostnode.utils import bridge as hostnode_bridge
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import ethtool as hostnode_ethtool
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import netbackend as hostnode_netbackend
from saltext.hostnode.utils import replication as hostnode_replication
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "bridges"

_SLS = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
BRIDGE_FILE_GLOBS = (
    "etc/network/interfaces.d/hostnode-bridge-*",
    "etc/netplan/90-hostnode-bridge-*.yaml",
    "etc/systemd/network/90-hostnode-bridge-*",
    "etc/systemd/network/*.network.d/hostnode-bridge-vlans.conf",
)
REPLICATION_FILE_GLOBS = (
    f"etc/network/interfaces.d/{hostnode_replication.FILE_PREFIX}*",
    f"etc/netplan/90-{hostnode_replication.FILE_PREFIX}*.yaml",
    f"etc/systemd/network/{hostnode_replication.NETWORKD_PREFIX}*.network",
    f"etc/systemd/network/*.network.d/{hostnode_replication.NETWORKD_DROP_IN}",
)


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "bridges: Linux bridges")
    if not salt.utils.path.which("ip"):
        return (False, "bridges: the ip command (package iproute2) is not installed")
    return __virtualname__


def _run(argv):
    return hostnode_command.run(__salt__["cmd.run_all"], argv)


def _config_root():
    return __salt__["config.get"]("hostnode:config_root", "/") or "/"


def converge(
    bond, vlans, mac="stable", seed=None, offloads=None, persist=True, backend=None, test=False
):
    """
    A bridge per VLAN (``br0100`` for 100) whose port is the VLAN device on bond
    (``bond0.100``), with a pinned MAC and the port's offloads as wanted, live and for the
    network backend.

    vlans
        VLAN ids (``[100, 200]``) or ``{id: {mac: ...}}``; ``null`` in the list is an untagged
        bridge on the bond itself (``br-bond0``).

    mac
        The MAC policy, as for bonds: ``stable`` (derived from the node's machine-id, or seed,
        and the bridge name, see ``bond.stable_mac``), ``port`` (the bond's own MAC, pinned by
        the bonding formula) or an explicit MAC for a single bridge.

    offloads
        ``{offload: true|false}`` for every bridge port (``rx``, ``tx``, ``tso``, ``gso``,
        ``gro``, ``lro``, named as ``ethtool -K`` names them), set with ``ethtool -K`` where
        they differ; none (the default) leaves the ports' offloads alone.

    Returns ``{"links": {bridge: {created, mac, port}}, "offloads": {port: {offload: {old,
    new}}}, "files": {path: diff}}`` with what changes (offloads as requested of the NIC, see
    ``offloads``; ``old`` None: the port is created).

    CLI Example:

    .. code-block:: bash

        salt 'hv*' bridges.converge bond0 '[100, 200]' test=True
        salt 'hv*' bridges.converge bond0 '{100: {mac: "02:00:00:00:01:00"}}'
        salt 'hv*' bridges.converge bond0 '[100]' offloads='{gro: false, gso: false, tso: false}'
    """
    hostnode_validate.interface_name(bond, "bond")
    wanted = _offloads(offloads)
    links = _links()
    items = hostnode_bridge.wanted(bond, *_vlans_and_macs(bond, vlans, mac, seed, links))
    features = _port_features(items, wanted, links)
    problems = hostnode_bridge.problems(links, items) + _offload_problems(features, wanted)
    if problems:
        raise CommandExecutionError("; ".join(problems) + " (nothing changed)")
    commands = hostnode_bridge.plan(links, items)
    file_plans = _bridge_file_plans(items, wanted, backend) if persist else []
    changes = _bridge_changes(links, _predicted(links, items) if commands else links, items,
                              features, _predicted_features(items, features, wanted), wanted,
                              file_plans)  # fmt: skip
    if test or not changes:
        return changes

    def changed(plans):
        after = _links()
        return _bridge_changes(links, after, items, features, _port_features(items, wanted, after),
                               wanted, plans)  # fmt: skip

    _apply(commands, lambda: changed([]), then=lambda: _set_offloads(items, wanted))
    hostnode_files.replace_planned(file_plans)
    return changed(file_plans)


def _apply(commands, changed, then=None):
    """
    Run commands in order, then ``then()`` when given. A failure is an error saying how many
    commands ran, with what changed so far (``changed()``) as its info.
    """
    done = 0
    try:
        for argv in commands:
            _run(argv)
            done += 1
        if then:
            then()
    except CommandExecutionError as exc:
        raise CommandExecutionError(f"{exc} (after {done} commands)", info=changed()) from None


def offloads(port, source=None):
    """
    The offloads hostnode sets (``rx``, ``tx``, ``tso``, ``gso``, ``gro``, ``lro``) of port as
    ``{offload: {"on": bool, "requested": bool, "fixed": bool}}`` (on: what the NIC does;
    requested: what was asked, which differs while another feature holds it off; fixed: its
    driver does not let it change), read with ``ethtool -k``, or from source, a saved
    ``ethtool -k`` output.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' bridges.offloads bond0.100
        salt-call bridges.offloads bond0.100 source=/tmp/bundle/ethtool-k.txt
    """
    hostnode_validate.interface_name(port, "port")
    if source:
        features = hostnode_files.parse_source(
            source, hostnode_ethtool.parse_features, "ethtool -k output"
        )
    else:
        features = _features(port)
    return {name: features[feature] for name, feature in hostnode_ethtool.OFFLOADS.items()
            if feature in features}  # fmt: skip


def replication(nic=None, address=None, mtu=1500, persist=True, backend=None, test=False):
    """
    The Ganeti replication (secondary) network's NIC, the one DRBD runs on: up, with its MTU
    and address, live (``ip link``/``ip address``) and for the network backend. Its other
    addresses stay (the node's primary address may be in the same network): one the pillar
    no longer gives goes at the next reboot, with the boot-time file rewritten.

    nic
        The NIC (an existing interface); none manages nothing and removes hostnode's
        boot-time files of a replication NIC (what is live stays until reboot).

    address
        ``IP/prefix``, the node's secondary IP with the length of the replication network
        (``replication_wanted`` computes it from pillar); none sets no address.

    mtu
        576 to 65535; 9000 for jumbo frames where every switch port of the network takes them.

    Returns ``{"links": {nic: {mtu: {old, new}, up: {old, new}, addresses: {added,
    removed}}}, "files": {path: diff}}`` with what changes.

    CLI Example:

    .. code-block:: bash

        salt 'hv2*' bridges.replication eth1 10.99.0.12/24 mtu=9000 test=True
        salt 'hv2*' bridges.replication eth1 10.99.0.12/24 mtu=9000 backend=ifupdown
    """
    want = _replication_wanted_link(nic, address, mtu)
    links = _addresses() if nic is not None else {}
    problems = hostnode_replication.problems(links, want)
    if problems:
        raise CommandExecutionError("; ".join(problems) + " (nothing changed)")
    commands = hostnode_replication.plan(links, want)
    file_plans = _replication_file_plans(want, backend) if persist else []
    predicted = hostnode_replication.predicted(links, want)
    changes = _replication_changes(links, predicted, nic, file_plans)
    if test or not changes:
        return changes
    _apply(commands, lambda: _replication_changes(links, _addresses(), nic, []))
    hostnode_files.replace_planned(file_plans)
    return _replication_changes(links, _addresses(), nic, file_plans)


def replication_wanted(node=None, settings=None):
    """
    What ``replication`` sets on node (its FQDN; this minion's id by default) from the Ganeti
    settings (pillar ``hostnode:node:ganeti`` by default): ``{nic, address, mtu}``, nic from
    ``replication:nic`` (None: nothing to manage), address the node's ``secondary_ips`` entry
    with the length of ``replication:network``, mtu ``replication:mtu``. Reads nothing else.

    CLI Example:

    .. code-block:: bash

        salt 'hv2*' bridges.replication_wanted
        salt-call bridges.replication_wanted hv2.fra1.example.net
    """
    if settings is None:
        settings = __salt__["config.get"]("hostnode:node:ganeti", {})
    try:
        return hostnode_replication.wanted(settings, node or __grains__["id"])
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None


def _replication_wanted_link(nic, address, mtu):
    if nic is None:
        if address is not None:
            raise SaltInvocationError("address: needs a nic to be set on")
        return {"nic": None, "address": None, "mtu": None}
    hostnode_validate.interface_name(nic, "nic")
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not 576 <= mtu <= 65535:
        raise SaltInvocationError(f"mtu: {mtu!r} is not an MTU (576 to 65535)")
    if address is not None:
        try:
            address = str(ipaddress.ip_interface(str(address)))
        except ValueError:
            raise SaltInvocationError(f"address: {address!r} is not IP/prefix") from None
    return {"nic": nic, "address": address, "mtu": mtu}


def _addresses():
    try:
        return hostnode_replication.parse_links(_run(["ip", "-json", "address", "show"]))
    except ValueError as exc:
        raise CommandExecutionError(f"ip address: {exc}") from None


def _replication_changes(before, after, nic, file_plans):
    changes = {}
    links = hostnode_replication.changes(before, after, nic)
    if links:
        changes["links"] = links
    if file_plans:
        changes["files"] = hostnode_files.diffs(file_plans)
    return changes


def _replication_file_plans(want, backend):
    root = _config_root()
    wanted = {}
    if want["nic"] is not None:
        backend = hostnode_netbackend.chosen(backend, root)
        nic_network = _matching_network(root, want["nic"]) if backend == "networkd" else None
        wanted = hostnode_replication.render(backend, want, nic_network)
    return _file_plans(REPLICATION_FILE_GLOBS, wanted, backend, root)


def kernel_profile(netfilter, kernel_modules, sysctl, formulas):
    """
    The node's kernel modules and sysctl profile (the node formula's ``kernel_modules`` and
    ``sysctl``) as ``{"kernel_modules": ..., "sysctl": ...}``: on a node whose formulas include
    ``node.bridges``, with br_netfilter loaded and ``net.bridge.bridge-nf-call-iptables``,
    ``-ip6tables`` and ``-arptables`` at 0 (netfilter false: bridged traffic bypasses the
    host's firewall chains) or 1 (netfilter true); unchanged on other nodes. The node formula's
    kernel.sls passes the result to ``node.kernel_modules`` and ``node.sysctl``, whose files
    load the module at boot before the keys are set (systemd-modules-load, then
    systemd-sysctl). Nothing is read or changed here.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' bridges.kernel_profile false '{}' '{vm.swappiness: 10}' '[node.bridges]'
    """
    names = hostnode_validate.as_list(formulas, "formulas")
    for index, name in enumerate(names):
        if not isinstance(name, str) or not _SLS.match(name):
            raise SaltInvocationError(f"formulas:{index}: {name!r} is not an SLS name")
    kernel_modules, sysctl = kernel_modules or {}, sysctl or {}
    # What is not a mapping the node's own states refuse, naming the pillar key.
    if "node.bridges" not in names or not isinstance(kernel_modules, dict) \
            or not isinstance(sysctl, dict):  # fmt: skip
        return {"kernel_modules": kernel_modules, "sysctl": sysctl}
    return hostnode_bridge.kernel_profile(netfilter, kernel_modules, sysctl)


def _offloads(offloads):
    try:
        return hostnode_ethtool.offloads(offloads, "offloads")
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None


def _features(port):
    if not salt.utils.path.which("ethtool"):
        raise CommandExecutionError("offloads: ethtool (package ethtool) is not installed")
    try:
        return hostnode_ethtool.parse_features(_run(["ethtool", "-k", port]))
    except ValueError as exc:
        raise CommandExecutionError(f"ethtool -k {port}: {exc}") from None


def _offload_problems(features, wanted):
    return [problem for port, found in features.items()
            for problem in hostnode_ethtool.problems(port, found, wanted)]  # fmt: skip


def _predicted_features(items, features, wanted):
    """What the ports' features read after a run; a port created then reads as wanted."""
    created = {
        feature: {"on": None, "requested": None, "fixed": False}
        for feature in hostnode_ethtool.OFFLOADS.values()
    }
    return {i["port"]: hostnode_ethtool.predicted(features.get(i["port"], created), wanted)
            for i in items if wanted}  # fmt: skip


def _set_offloads(items, wanted):
    for port in (i["port"] for i in items if wanted):
        features = _features(port)
        problems = hostnode_ethtool.problems(port, features, wanted)
        if problems:
            raise CommandExecutionError("; ".join(problems))
        argv = hostnode_ethtool.plan(port, features, wanted)
        if argv:
            _run(argv)


def _port_features(items, wanted, links):
    return {i["port"]: _features(i["port"]) for i in items if wanted and i["port"] in links}


def _links():
    try:
        return hostnode_bridge.parse_links(_run(["ip", "-json", "-d", "link", "show"]))
    except ValueError as exc:
        raise CommandExecutionError(f"ip link: {exc}") from None


def _vlans_and_macs(bond, vlans, mac, seed, links):
    if isinstance(vlans, dict):
        settings = dict(vlans)
    else:
        settings = {vlan: {} for vlan in hostnode_validate.as_list(vlans, "vlans")}
    ids, macs = [], {}
    for key, options in settings.items():
        field = f"vlans:{key}"
        vlan = _vlan_id(key, field)
        bridge = hostnode_bridge.name(vlan, bond)
        policy = (options or {}).get("mac", mac)
        macs[bridge] = _bridge_mac(policy, bridge, bond, seed, links, f"{field}:mac")
        ids.append(vlan)
    return ids, macs


def _vlan_id(value, field):
    if value is None:
        return None
    if isinstance(value, bool) or not str(value).isdecimal() or not 1 <= int(value) <= 4094:
        raise SaltInvocationError(f"{field}: a VLAN id is 1-4094 (or null for untagged)")
    return int(value)


def _bridge_mac(policy, bridge, bond, seed, links, field):
    if policy == "stable":
        return __salt__["bond.stable_mac"](bridge, seed)
    if policy == "port":
        if not (links.get(bond) or {}).get("mac"):
            raise SaltInvocationError(
                f"{field}: port takes {bond}'s MAC, and {bond} does not exist"
            )
        return links[bond]["mac"]
    mac = hostnode_bond.normal_mac(policy)
    if mac is None or hostnode_bond.mac_problem(mac):
        raise SaltInvocationError(f"{field}: {policy!r} is not stable, port or a unicast MAC")
    return mac


def _predicted(links, items):
    after = {name: dict(link) for name, link in links.items()}
    for item in items:
        after.setdefault(item["port"], {"kind": "vlan", "mac": None, "up": True})
        after[item["port"]].update(master=item["bridge"], up=True)
        after[item["bridge"]] = {"kind": "bridge", "mac": item["mac"], "master": None, "up": True}
    return after


def _bridge_changes(before, after, items, features, after_features, wanted, file_plans):
    changes = {}
    links = hostnode_bridge.changes(before, after, items)
    if links:
        changes["links"] = links
    offloads = {}
    for port, found in after_features.items():
        if port in features:
            entry = hostnode_ethtool.changes(features[port], found, wanted)
        else:
            entry = {name: {"old": None, "new": found[hostnode_ethtool.OFFLOADS[name]]["requested"]}
                     for name in sorted(wanted)}  # fmt: skip
        if entry:
            offloads[port] = entry
    if offloads:
        changes["offloads"] = offloads
    if file_plans:
        changes["files"] = hostnode_files.diffs(file_plans)
    return changes


def _bridge_file_plans(items, offloads, backend):
    root = _config_root()
    wanted = {}
    if items:
        backend = hostnode_netbackend.chosen(backend, root)
        bond_network = _bond_network(root, items[0]["link"]) if backend == "networkd" else None
        wanted = hostnode_bridge.render(backend, items, bond_network, offloads)
    return _file_plans(BRIDGE_FILE_GLOBS, wanted, backend, root)


def _file_plans(owned_globs, wanted, backend, root):
    """Plans writing wanted ({relative path: text}) and removing the other files of ours
    (owned_globs) under root, each written file validated by backend's tool first."""
    found = (glob.glob(os.path.join(root, pattern)) for pattern in owned_globs)
    owned = {os.path.relpath(path, root) for paths in found for path in paths}
    plans = [hostnode_files.plan(os.path.join(root, relative), wanted.get(relative))
             for relative in sorted(set(wanted) | owned)]  # fmt: skip
    plans = [plan for plan in plans if plan]
    for plan in plans:
        if plan["new"] is not None:
            _validate(backend, plan, root)
    return plans


def _bond_network(root, bond):
    found = _matching_network(root, bond)
    if found is None:
        raise CommandExecutionError(
            f"networkd: no .network file under {os.path.join(root, 'etc/systemd/network')} "
            f"matches {bond}; the VLANs are declared in a drop-in beside it (nothing changed)"
        )
    return found


def _matching_network(root, name):
    """The .network file (relative to root) that matches name, not the replication NIC's own
    (``replication`` puts a drop-in beside the node's file, or writes that one), or None."""
    folder = os.path.join(root, "etc/systemd/network")
    for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not entry.endswith(".network") or entry.startswith(hostnode_replication.NETWORKD_PREFIX):
            continue
        text = hostnode_files.read(os.path.join(folder, entry))
        if text and any(line.strip() == f"Name={name}" for line in text.splitlines()):
            return os.path.join("etc/systemd/network", entry)
    return None


def _validate(backend, plan, root):
    """The backend's own tool reads the rendered file (netplan: with the node's own files)."""
    if backend == "ifupdown" and salt.utils.path.which("ifquery"):
        with tempfile.TemporaryDirectory(prefix="hostnode-validate-") as scratch:
            copy = os.path.join(scratch, "interfaces")
            hostnode_files.replace(copy, plan["new"])
            stanzas = re.findall(r"^iface (\S+)", plan["new"], re.MULTILINE)
            for interface in dict.fromkeys(stanzas):
                _checked(plan["path"], ["ifquery", "-i", copy, interface])
    elif (
        backend == "netplan" and plan["path"].endswith(".yaml") and salt.utils.path.which("netplan")
    ):
        with tempfile.TemporaryDirectory(prefix="hostnode-validate-") as scratch:
            folder = os.path.join(root, "etc/netplan")
            for entry in sorted(os.listdir(folder)):
                if entry.endswith(".yaml") and entry != os.path.basename(plan["path"]):
                    text = hostnode_files.read(os.path.join(folder, entry))
                    hostnode_files.replace(os.path.join(scratch, "etc/netplan", entry), text, 0o600)
            ours = os.path.join(scratch, "etc/netplan", os.path.basename(plan["path"]))
            hostnode_files.replace(ours, plan["new"], 0o600)
            _checked(plan["path"], ["netplan", "generate", "--root-dir", scratch])


def _checked(path, argv):
    try:
        _run(argv)
    except CommandExecutionError as exc:
        raise CommandExecutionError(
            f"{path} is rejected by {argv[0]}: {exc} (nothing changed)"
        ) from None
