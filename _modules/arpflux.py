"""
ARP flux and reverse-path filtering per interface, for hosts with several NICs in one subnet.

Storage clients with two NICs in the SAN's subnet (iSCSI multipath) need, on those NICs,
``rp_filter`` 2 (or 0), ``arp_ignore`` 1 and ``arp_announce`` 2, or one path silently fails.
The kernel uses max(conf/all, conf/<interface>) for these keys, so this module reports the
*effective* values and, when conf/all would override what an interface needs, lowers conf/all
too while raising every other interface (and conf/default) to keep their effective values.

Values are read from /proc/sys (the keys and interfaces in question; every interface only when
conf/all must be lowered) and written in one ``sysctl -w`` call; they are persisted in
``/etc/sysctl.d/90-hostnode-arpflux.conf`` under the minion option ``hostnode:config_root``
(default ``/``). At boot systemd-sysctl applies that file, and its udev rule
(``99-systemd.rules``: ``systemd-sysctl --prefix=/net/ipv4/conf/$name``) applies the keys of an
interface again when the interface appears, so interfaces created later (bonds, VLANs) get their
values too. A node without systemd needs the same per-interface re-run from its own hook.
"""

import os

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import arpflux as hostnode_arpflux
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "arpflux"

CONF_DIR = "/proc/sys/net/ipv4/conf"
SYSCTL_FILE = "etc/sysctl.d/90-hostnode-arpflux.conf"
HEADER = (
    "Managed by hostnode (arpflux); local changes are overwritten. "
    "Per-interface keys apply again when the interface appears (systemd's udev rule)."
)


def __virtual__():
    if not salt.utils.platform.is_linux() or not os.path.isdir(CONF_DIR):
        return (False, "arpflux: needs Linux with IPv4 (/proc/sys/net/ipv4/conf)")
    if not salt.utils.path.which("sysctl"):
        return (False, "arpflux: the sysctl command (package procps) is not installed")
    return __virtualname__


def _run(argv, stdin=None):
    return hostnode_command.run(__salt__["cmd.run_all"], argv, stdin)


def _conf(source=None):
    """{interface: {key: value}}: every interface from /proc/sys, or from saved sysctl output."""
    if source:
        parse = hostnode_arpflux.parse_sysctl_output
        return hostnode_files.parse_source(source, parse, "sysctl net.ipv4.conf output")
    return _read(os.listdir(CONF_DIR), hostnode_arpflux.VALID)


def _read(interfaces, keys):
    """{interface: {key: value}} from /proc/sys; interfaces that are gone are left out."""
    conf = {}
    for interface in interfaces:
        directory = os.path.join(CONF_DIR, interface)
        try:
            conf[interface] = {key: _read_number(os.path.join(directory, key)) for key in keys}
        except FileNotFoundError:
            continue
    return conf


def _read_number(path):
    with open(path, "rb") as handle:
        return int(handle.read())


def detect(source=None):
    """
    The groups of interfaces that share an IPv4 subnet: the hosts where ARP flux happens.

    source
        Parse this saved ``ip -json addr show`` output instead of asking the kernel.

    CLI Example:

    .. code-block:: bash

        salt '*' arpflux.detect
        salt '*' arpflux.detect source=/tmp/bundle/ip-addr.json
    """
    if source:
        parse = hostnode_arpflux.subnet_groups
        return hostnode_files.parse_source(source, parse, "ip -json addr output")
    try:
        return hostnode_arpflux.subnet_groups(_run(["ip", "-json", "addr", "show"]))
    except ValueError as exc:
        raise CommandExecutionError(str(exc)) from None


def status(interfaces=None, source=None):
    """
    Configured and effective rp_filter, arp_ignore, arp_announce and arp_filter per interface,
    with a warning wherever conf/all overrides the interface's own value.

    interfaces
        A list (or comma-separated string); default every interface.

    source
        Parse this saved ``sysctl net.ipv4.conf`` output instead of reading /proc/sys.

    CLI Example:

    .. code-block:: bash

        salt '*' arpflux.status
        salt '*' arpflux.status interfaces=eth1,eth2
        salt '*' arpflux.status source=/tmp/bundle/sysctl.txt
    """
    conf = _conf(source)
    names = _interfaces(interfaces, conf, absent_ok=False) if interfaces else None
    return hostnode_arpflux.status(conf, names)


def tune(interfaces=None, auto=False, values=None, persist=True, absent_ok=False, test=False):
    """
    Make the effective values of interfaces right for several NICs in one subnet, live and in
    hostnode's sysctl.d file.

    interfaces
        The interfaces to tune (a list or comma-separated string).

    auto
        Also tune every interface that shares an IPv4 subnet with another (see detect).

    values
        ``{key: value}`` for rp_filter, arp_ignore, arp_announce, arp_filter; default
        ``{"rp_filter": 2, "arp_ignore": 1, "arp_announce": 2}``.

    absent_ok
        Interfaces that do not exist yet are only persisted (they get their values when they
        appear) instead of being an error.

    test
        Only report what would change.

    Returns ``{"sysctl": {interface: {key: {"old", "new"}}}, "file": {"path", "diff"}}`` with
    the parts that change, or ``{}``.

    CLI Example:

    .. code-block:: bash

        salt '*' arpflux.tune interfaces=eth1,eth2 test=True
        salt '*' arpflux.tune auto=True
        salt '*' arpflux.tune interfaces=eth1,eth2 values='{rp_filter: 0}'
    """
    values = _values(values)
    if not interfaces and not auto:
        raise SaltInvocationError("interfaces: give the interfaces to tune, or auto=True")
    present = set(os.listdir(CONF_DIR))
    names = _interfaces(interfaces, present, absent_ok)
    if auto:
        names += [n for group in detect() for n in group["interfaces"] if n not in names]
    # Only the keys and interfaces in question, unless conf/all must be lowered.
    conf = _read(["all", *(name for name in names if name in present)], values)
    if hostnode_arpflux.lowers_all(conf["all"], values):
        conf = _read(present, values)
    live = [name for name in names if name in conf]
    writes = hostnode_arpflux.plan(conf, live, values)
    file_plan = _file_plan(writes, names, values) if persist else None
    if test or not (writes or file_plan):
        return _changes(writes, file_plan)
    if writes:
        assignments = [f"{hostnode_arpflux.sysctl_key(i, k)}={new}" for i, k, _, new in writes]
        try:
            _run(["sysctl", "-q", "-w", *assignments])
        except CommandExecutionError as exc:
            raise CommandExecutionError(str(exc), info=_changes(_observed(writes), None)) from None
    if file_plan:
        try:
            hostnode_files.replace(file_plan["path"], file_plan["new"])
        except CommandExecutionError as exc:
            # the sysctls took (sysctl -w exited 0): they are reported with the error
            raise CommandExecutionError(str(exc), info=_changes(writes, None)) from None
    # sysctl -w tries every assignment and exits non-zero if any failed, and the kernel keeps
    # these keys as written: a zero exit means that every write took.
    return _changes(writes, file_plan)


def _values(values):
    if values is None:
        return dict(hostnode_arpflux.MULTIPATH)
    if not isinstance(values, dict) or not values:
        raise SaltInvocationError(f"values: expected a mapping of key to value, got {values!r}")
    for key, value in values.items():
        allowed = hostnode_arpflux.VALID.get(key)
        if allowed is None:
            raise SaltInvocationError(
                f"values: {key!r} is not a key arpflux manages "
                f"({', '.join(hostnode_arpflux.VALID)})"
            )
        if isinstance(value, bool) or value not in allowed:
            raise SaltInvocationError(
                f"values.{key}: {value!r} is not one of {', '.join(map(str, allowed))}"
            )
    return dict(values)


def _interfaces(interfaces, present, absent_ok):
    names = []
    for index, name in enumerate(hostnode_validate.as_list(interfaces, "interfaces")):
        field = f"interfaces[{index}]"
        hostnode_validate.interface_name(name, field)
        if name in hostnode_arpflux.TEMPLATES:
            raise SaltInvocationError(f"{field}: {name!r} is a template, not an interface")
        if name not in present and not absent_ok:
            raise SaltInvocationError(
                f"{field}: {name!r} does not exist on this node (absent_ok=True persists it "
                "for when it appears)"
            )
        if name not in names:
            names.append(name)
    return names


def _file_plan(writes, names, values):
    path = os.path.join(_config_root(), SYSCTL_FILE)
    old = hostnode_files.read(path)
    tuned_before = hostnode_arpflux.tuned_in(old)
    persisted = hostnode_arpflux.persist(
        _parse_persisted(path, old), tuned_before, writes, names, values
    )
    new = hostnode_arpflux.render_sysctl_d(persisted, HEADER, names)
    if new == old:
        return None
    return {"path": path, "old": old, "new": new}


def _parse_persisted(path, text):
    if text is None:
        return {}
    try:
        return hostnode_arpflux.parse_sysctl(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{path}: not a file hostnode wrote ({exc})") from None


def _config_root():
    return __salt__["config.get"]("hostnode:config_root", "/") or "/"


def _observed(writes):
    """After a failed write: the planned writes with the values the kernel shows now as new."""
    after = _read({interface for interface, _, _, _ in writes}, hostnode_arpflux.VALID)
    return [(i, k, old, after[i][k]) for i, k, old, _ in writes if i in after]


def _changes(writes, file_plan):
    changes = {}
    for interface, key, old, new in writes:
        if old != new:
            changes.setdefault("sysctl", {}).setdefault(interface, {})[key] = {
                "old": old,
                "new": new,
            }
    if file_plan:
        changes["file"] = {
            "path": file_plan["path"],
            "diff": hostnode_files.diff(file_plan["path"], file_plan["old"], file_plan["new"]),
        }
    return changes


def persisted():
    """
    What hostnode's sysctl.d file sets, as ``{interface: {key: value}}``.

    CLI Example:

    .. code-block:: bash

        salt '*' arpflux.persisted
    """
    path = os.path.join(_config_root(), SYSCTL_FILE)
    return _parse_persisted(path, hostnode_files.read(path))
