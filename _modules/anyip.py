"""
Linux AnyIP: make whole IPv4 and IPv6 prefixes local to the node.

``ip route add local 192.0.2.0/24 dev lo`` lets a node answer on every address of a prefix:
one IPv6 address per hosted site, anycast service addresses, or a pool that a load balancer
spreads over. This module reads the kernel's local routing table, adds and removes AnyIP routes
in one ``ip -batch`` call, and persists them for the node's network backend (ifupdown, netplan
or systemd-networkd) so they come back after a reboot.

Files are written under the minion option ``hostnode:config_root`` (default ``/``), so an image
or chroot can be prepared from outside::

    hostnode:
      config_root: /srv/images/node1

Routes the kernel creates itself (``proto kernel``: 127.0.0.0/8, ::1, the node's own addresses)
are never AnyIP routes: nothing here lists them as such or removes them.
"""

import contextlib
import errno
import fcntl
import gc
import logging
import os
import socket
import struct
import tempfile

import salt.utils.files
import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import anyip as hostnode_anyip
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import netbackend as hostnode_netbackend
from saltext.hostnode.utils import validate as hostnode_validate

log = logging.getLogger(__name__)

__virtualname__ = "anyip"
__func_alias__ = {"list_": "list"}

MODES = ("present", "absent", "managed")
_SIOCGIFFLAGS = 0x8913
_IFREQ = struct.Struct("16sH22x")  # struct ifreq: the name, then ifr_flags
_IFF_UP = 0x1
# Every table, so that one dump holds both families; -details names each route's table.
READ_LOCAL_ROUTES = ["ip", "-details", "-json", "route", "show", "table", "all", "type", "local"]


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "anyip: AnyIP local routes exist on Linux only")
    if not salt.utils.path.which("ip"):
        return (False, "anyip: the ip command (package iproute2) is not installed")
    return __virtualname__


def _run(argv, stdin=None):
    return hostnode_command.run(__salt__["cmd.run_all"], argv, stdin)


def _routes(device=None, source=None):
    """The local routes of the local table: both families in one dump, or a saved file."""
    if source:
        parse = lambda text: hostnode_anyip.parse_routes(text, device)  # noqa: E731
        return hostnode_files.parse_source(source, parse, "ip -json route output")
    try:
        return hostnode_anyip.parse_routes(_run(READ_LOCAL_ROUTES), device)
    except ValueError as exc:
        raise CommandExecutionError(f"cannot read the local routing table: {exc}") from None


def list_(device=None, family=None, kernel=False, source=None):
    """
    List the AnyIP routes: local routes that the kernel did not create for an address.

    device
        Only routes on this device (default: every device).

    family
        ``inet`` or ``inet6`` (default: both).

    kernel
        Also list the kernel's own local routes (``proto kernel``).

    source
        Parse this saved output of ``ip -details -json route show table all type local``, or
        of ``ip -json -4 route show table local`` and/or ``-6``, instead of asking the kernel.

    CLI Example:

    .. code-block:: bash

        salt '*' anyip.list
        salt '*' anyip.list device=lo family=inet6
        salt '*' anyip.list source=/tmp/bundle/local-routes.json kernel=True
    """
    version = hostnode_validate.family_version(family)
    return [
        {
            "prefix": str(route.prefix),
            "device": route.device,
            "family": "inet" if route.prefix.version == 4 else "inet6",
            "protocol": route.protocol,
        }
        for route in _routes(device, source)
        if (kernel or route.protocol != "kernel") and version in (None, route.prefix.version)
    ]


def add(prefixes, device="lo", persist=True, backend=None, test=False):
    """
    Make prefixes local on device, live and (by default) across reboots.

    Returns the changes made, ``{}`` when there was nothing to do.

    CLI Example:

    .. code-block:: bash

        salt '*' anyip.add 192.0.2.0/24,2001:db8:100::/64
        salt '*' anyip.add 198.51.100.0/28 persist=False
        salt '*' anyip.add 2001:db8:100::/64 backend=netplan test=True
    """
    return converge(prefixes, device, "present", persist, backend, test)


def remove(prefixes, device="lo", persist=True, backend=None, test=False):
    """
    Remove AnyIP prefixes from device, live and from the persisted configuration.

    CLI Example:

    .. code-block:: bash

        salt '*' anyip.remove 192.0.2.0/24
        salt '*' anyip.remove 2001:db8:100::/64 test=True
    """
    return converge(prefixes, device, "absent", persist, backend, test)


def converge(prefixes, device="lo", mode="present", persist=True, backend=None, test=False):
    """
    Bring the AnyIP routes of device to the wanted state and report what changed.

    mode
        ``present``: these prefixes are local. ``absent``: these prefixes are not AnyIP routes.
        ``managed``: exactly these prefixes are the AnyIP routes of device (others are removed).

    persist
        Also write the boot-time configuration of the network backend.

    backend
        ``ifupdown``, ``netplan`` or ``networkd``; detected from the system when not given.

    test
        Only report what would change.

    Returns ``{"routes": {"added": [...], "removed": [...]}, "file": {...}}`` with the parts
    that change, or ``{}``. The state functions ``anyip.present``/``absent``/``managed`` are
    built on this function.

    CLI Example:

    .. code-block:: bash

        salt '*' anyip.converge 192.0.2.0/24,2001:db8:100::/64 mode=managed test=True
    """
    with _collection_paused():
        return _converge(prefixes, device, mode, persist, backend, test)


@contextlib.contextmanager
def _collection_paused():
    """
    No cyclic garbage collection while a converge runs. Its tens of thousands of objects (a
    large table) hold no cycles and are freed when it returns, yet they would set off full
    collections of the minion's whole heap on the way, some 0.1 s each.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _converge(prefixes, device, mode, persist, backend, test):
    plan = _plan(prefixes, device, mode, persist, backend)
    if test or not (plan["commands"] or plan["file"]):
        return _predicted(plan)
    try:
        _apply(plan)
    except CommandExecutionError as exc:
        raise CommandExecutionError(str(exc), info=_observed(plan)) from None
    # ip -batch without -force stops at the first command that fails: a zero exit means that
    # every planned route was applied, so the table need not be read again.
    return _changes(plan["to_add"], plan["to_remove"], hostnode_files.written(plan["file"]))


def _plan(prefixes, device, mode, persist, backend):
    hostnode_validate.choice(mode, MODES, "mode")
    networks = hostnode_validate.prefixes(prefixes)
    hostnode_validate.interface_name(device)
    flags = _device_flags(device)
    if flags is None:
        raise SaltInvocationError(f"device: {device!r} does not exist on this node")
    backend = _backend(backend) if persist else None
    routes = _routes(device)
    to_add, to_remove = hostnode_anyip.diff(routes, device, networks, mode)
    if any(p.version == 6 for p in to_add) and not flags & _IFF_UP:
        raise SaltInvocationError(
            f"device: {device!r} is down; the kernel adds IPv6 local routes only on an up device"
        )
    # Each prefix is put into words once, for the commands and the changes alike.
    to_add = [hostnode_validate.text_of(p) for p in to_add]
    to_remove = [hostnode_validate.text_of(p) for p in to_remove]
    return {
        "device": device,
        "before": routes,
        "to_add": to_add,
        "to_remove": to_remove,
        "commands": hostnode_anyip.batch_commands(to_add, to_remove, device),
        "file": _file_plan(backend, device, networks, mode) if backend else None,
    }


def _backend(backend):
    return hostnode_netbackend.chosen(backend, _config_root())


def _config_root():
    return __salt__["config.get"]("hostnode:config_root", "/") or "/"


def _device_flags(device):
    """The device's interface flags, or None when this network namespace has no such device."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            reply = fcntl.ioctl(sock, _SIOCGIFFLAGS, _IFREQ.pack(device.encode(), 0))
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return None
            raise
    return _IFREQ.unpack(reply)[1]


def _file_plan(backend, device, networks, mode):
    path = hostnode_netbackend.local_routes_path(backend, device, _config_root())
    old = hostnode_files.read(path)
    persisted = _parse_persisted(backend, path, old)
    if mode == "present":
        wanted = persisted | set(networks)
    elif mode == "absent":
        wanted = persisted - set(networks)
    else:
        wanted = set(networks)
    new = hostnode_netbackend.render_local_routes(backend, device, wanted)
    if new == old:
        return None
    if new is not None:
        _validate_rendered(backend, device, os.path.basename(path), new)
    return {"path": path, "backend": backend, "old": old, "new": new}


def _parse_persisted(backend, path, text):
    if text is None:
        return set()
    try:
        return hostnode_netbackend.parse_local_routes(backend, text, where=path)
    except ValueError as exc:
        raise CommandExecutionError(str(exc)) from None


def _validate_rendered(backend, device, name, text):
    """Let the backend's own tool parse the rendered file before it is installed."""
    tool = {"netplan": "netplan", "ifupdown": "ifquery"}.get(backend)
    if tool is None or not salt.utils.path.which(tool):
        log.debug("anyip: no %s validator on this node; %s not checked", backend, name)
        return
    with tempfile.TemporaryDirectory(prefix="hostnode-validate-") as root:
        if backend == "netplan":
            hostnode_files.replace(os.path.join(root, "etc/netplan", name), text, mode=0o600)
            argv = ["netplan", "generate", "--root-dir", root]
        else:
            hostnode_files.replace(os.path.join(root, name), text)
            argv = ["ifquery", "-i", os.path.join(root, name), device]
        try:
            _run(argv)
        except CommandExecutionError as exc:
            raise CommandExecutionError(f"{backend} rejects the rendered {name}: {exc}") from None


def _apply(plan):
    if plan["commands"]:
        _run(["ip", "-batch", "-"], stdin="".join(" ".join(c) + "\n" for c in plan["commands"]))
    if plan["file"]:
        mode = 0o600 if plan["file"]["backend"] == "netplan" else 0o644
        hostnode_files.replace(plan["file"]["path"], plan["file"]["new"], mode=mode)


def _predicted(plan):
    return _changes(plan["to_add"], plan["to_remove"], plan["file"])


def _observed(plan):
    """After a failed batch: re-read the kernel and the file, and report what really changed."""
    device = plan["device"]
    before = hostnode_anyip.local_prefixes(plan["before"], device)
    after = hostnode_anyip.local_prefixes(_routes(device), device)
    file_plan = hostnode_files.written(plan["file"])
    return _changes(
        hostnode_validate.sorted_networks(after - before),
        hostnode_validate.sorted_networks(before - after),
        file_plan,
    )


def _changes(added, removed, file_plan):
    changes = {}
    if added or removed:
        changes["routes"] = {"added": [str(p) for p in added], "removed": [str(p) for p in removed]}
    if file_plan:
        changes["file"] = hostnode_files.change(file_plan)
    return changes


def persisted(device="lo", backend=None):
    """
    The AnyIP prefixes persisted for device in hostnode's boot-time file of the backend.

    CLI Example:

    .. code-block:: bash

        salt '*' anyip.persisted
        salt '*' anyip.persisted device=lo backend=netplan
    """
    hostnode_validate.interface_name(device)
    backend = _backend(backend)
    path = hostnode_netbackend.local_routes_path(backend, device, _config_root())
    prefixes = _parse_persisted(backend, path, hostnode_files.read(path))
    return {
        "backend": backend,
        "path": path,
        "prefixes": [str(p) for p in hostnode_validate.sorted_networks(prefixes)],
    }


def random_address(prefix):
    """
    An address drawn uniformly at random from all addresses of prefix (IPv4 or IPv6).

    CLI Example:

    .. code-block:: bash

        salt '*' anyip.random_address 2001:db8:100::/64
    """
    return str(hostnode_anyip.random_address(hostnode_validate.prefix(prefix, "prefix")))


def random_addresses(prefix, count=10):
    """
    count distinct addresses drawn uniformly at random from prefix.

    CLI Example:

    .. code-block:: bash

        salt '*' anyip.random_addresses 192.0.2.0/24 count=5
    """
    network = hostnode_validate.prefix(prefix, "prefix")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise SaltInvocationError(f"count: {count!r} is not a positive whole number")
    if count > network.num_addresses:
        raise SaltInvocationError(
            f"count: {count} is more than the {network.num_addresses} addresses of {network}"
        )
    picked = set()
    while len(picked) < count:
        picked.add(hostnode_anyip.random_address(network))
    return [str(address) for address in sorted(picked)]
