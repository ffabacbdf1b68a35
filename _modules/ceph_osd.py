"""
Ceph OSDs with ceph-volume: list them (LVM and raw, one model), create them on devices that are
provably free, and remove them only once the cluster says their data is safe elsewhere.

Nothing here writes to a disk that holds anything: before create or zap, hostnode reads the
device's signatures itself (wipefs), its mounts and its holders, and the label of a bluestore
device (ceph-bluestore-tool), and refuses a partition table, a filesystem, LVM, or an OSD of
another cluster unless ``force`` names that device. Every write function takes ``test=True``
and then returns the exact commands a real run would execute, running none that writes.

Without systemd as PID 1 (containers, the test guests) an activated OSD is started as
``ceph-osd -i ID`` and stopped by its pid file; with systemd, ``ceph-osd@ID`` is used.
"""

import os
import socket
import time

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import ceph as hostnode_ceph
from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import disks as hostnode_disks
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "ceph_osd"
__func_alias__ = {"list_": "list"}
METHODS = ("raw", "lvm")


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "ceph_osd: Ceph OSDs run on Linux only")
    return __virtualname__


def _run(argv, check=True):
    if not salt.utils.path.which(argv[0]):
        raise CommandExecutionError(f"{argv[0]} is not installed (packages ceph-osd, ceph-common)")
    return hostnode_command.run(__salt__["cmd.run_all"], argv, check=check)


def _parsed(parser, argv, source):
    if source:
        return hostnode_files.parse_source(source, parser, f"{' '.join(argv)} output")
    try:
        return parser(_run(argv))
    except ValueError as exc:
        raise CommandExecutionError(f"{' '.join(argv)}: {exc}") from None


def list_(source=None):
    """
    The OSDs on this host, LVM and raw alike: ``[{id, osd_fsid, cluster_fsid, method,
    objectstore, devices, db_device, wal_device, encrypted, device_class}]``.

    source
        A saved ``ceph-volume lvm list --format json`` or ``raw list --format json``.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.list
        salt '*' ceph_osd.list source=/tmp/bundle/raw-list.json
    """
    if source:
        return hostnode_files.parse_source(source, _parse_list, "ceph-volume lvm/raw list output")
    lvm = _parsed(hostnode_ceph.parse_lvm_list,
                  ["ceph-volume", "lvm", "list", "--format", "json"], None)  # fmt: skip
    raw = _parsed(hostnode_ceph.parse_raw_list,
                  ["ceph-volume", "raw", "list", "--format", "json"], None)  # fmt: skip
    known = {osd["osd_fsid"] for osd in lvm}
    return sorted(lvm + [osd for osd in raw if osd["osd_fsid"] not in known],
                  key=lambda osd: osd["id"])  # fmt: skip


def _parse_list(text):
    """Saved ``ceph-volume lvm list`` or ``raw list`` JSON, told apart by its shape."""
    lvm = hostnode_ceph.list_format(text) == "lvm"
    return (hostnode_ceph.parse_lvm_list if lvm else hostnode_ceph.parse_raw_list)(text)


def tree(source=None):
    """
    The cluster's OSDs (``ceph osd tree``): ``[{id, name, host, status, crush_weight, reweight,
    device_class}]``, weights as numbers whatever the release printed.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.tree
        salt '*' ceph_osd.tree source=/tmp/bundle/osd-tree.json
    """
    argv = ["ceph", "osd", "tree", "-f", "json"]
    return _parsed(hostnode_ceph.parse_osd_tree, argv, source)


def inventory(source=None):
    """
    ceph-volume's view of this host's devices: ``[{path, available, rejected_reasons, size}]``.
    hostnode does not trust it before writing (see ``check_device``).

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.inventory
    """
    argv = ["ceph-volume", "inventory", "--format", "json"]
    return _parsed(hostnode_ceph.parse_inventory, argv, source)


def cluster_fsid():
    """
    The fsid of the cluster this host's ceph.conf names.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.cluster_fsid
    """
    return _parsed(hostnode_ceph.parse_fsid, ["ceph", "fsid", "-f", "json"], None)


def check_device(device, force=False):
    """
    Whether device may be written, from its own signatures, mounts and holders:
    ``{device, writable, reason, osd}`` (``osd: ours`` when it already is an OSD of this
    cluster). force overrides signatures, never a mount or a holder.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.check_device /dev/sdc
    """
    return hostnode_disks.verdict(device, _device_facts(device), cluster_fsid(), force)


def _device_facts(device):
    _device(device, "device")
    name = os.path.basename(os.path.realpath(device))
    signatures = hostnode_disks.parse_wipefs(_run(["wipefs", "--no-act", "--json", device]))
    facts = {
        **hostnode_disks.block_facts("/sys/class/block", name),
        "signatures": signatures,
        "mounted": hostnode_disks.mounted_devices(hostnode_files.read("/proc/self/mountinfo")),
        "osd_cluster_fsid": None,
        "osd_id": None,
        "live_ids": {osd["id"] for osd in tree()},
    }
    kinds = {signature["type"] for signature in signatures}
    if hostnode_disks.OSD_SIGNATURE in kinds:
        text = _run(["ceph-bluestore-tool", "show-label", "--dev", device])
        label = hostnode_ceph.parse_label(text, device)
        facts["osd_cluster_fsid"] = label["ceph_fsid"]
        facts["osd_id"] = int(label["whoami"]) if str(label.get("whoami", "")).isdecimal() else None
    elif hostnode_disks.LVM_SIGNATURE in kinds:
        # a physical volume: the data device of an LVM OSD when ceph-volume's LV tags say so
        argv = ["ceph-volume", "lvm", "list", "--format", "json"]
        real = os.path.realpath(device)
        for osd in _parsed(hostnode_ceph.parse_lvm_list, argv, None):
            if real in {os.path.realpath(path) for path in osd["devices"]}:
                facts.update(osd_cluster_fsid=osd["cluster_fsid"], osd_id=osd["id"], lvm_osd=True)
    return facts


def _device(value, field):
    if not isinstance(value, str) or not value.startswith("/dev/") or ".." in value:
        raise SaltInvocationError(f"{field}: {value!r} is not a device path under /dev")
    if not os.path.exists(value):
        raise SaltInvocationError(f"{field}: {value} does not exist")
    return value


def create(device, method="raw", db_device=None, wal_device=None, dmcrypt=False,
           device_class=None, force=False, expected_fsid=None, test=False):  # fmt: skip
    """
    Create a bluestore OSD on device after proving the device free (``check_device``), and
    start it. Returns ``{"device", "osd_id", "commands"}``; with test=True nothing runs and the
    commands are those a real run would execute (the OSD id is the lowest the cluster has
    free, as the monitors would give).

    expected_fsid
        Refuse unless this host's cluster has that fsid (the wrong ceph.conf is the easiest
        way to write to the wrong cluster).

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.create /dev/sdc test=True
        salt '*' ceph_osd.create /dev/sdc method=lvm db_device=/dev/nvme0n1p1 device_class=hdd
    """
    plans = plan_create([{"device": device, "db_device": db_device, "wal_device": wal_device,
                          "device_class": device_class, "force": force}],
                        method, dmcrypt, expected_fsid)  # fmt: skip
    if not plans:
        return {}
    (plan,) = plans
    if not test:
        _execute(plan["commands"])
    return plan


def plan_create(entries, method="raw", dmcrypt=False, expected_fsid=None):
    """
    The OSDs to create on entries (``{device, db_device, wal_device, device_class, force}``),
    each ``{device, osd_id, commands}``, leaving out devices that already are OSDs of this
    cluster. Every device is checked before any plan is made, the DB and WAL devices of a new
    OSD too (they must hold nothing; force is for the data device only); a refused one is a
    SaltInvocationError naming all refusals. Runs nothing that writes.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.plan_create '[{device: /dev/sdc}, {device: /dev/sdd}]'
    """
    if method not in METHODS:
        raise SaltInvocationError(f"method: {method!r} is not one of {', '.join(METHODS)}")
    for entry in entries:
        for key in ("device", "db_device", "wal_device"):
            if key == "device" or entry.get(key) is not None:
                _device(entry.get(key), key)
    fsid = cluster_fsid()
    if expected_fsid is not None and expected_fsid != fsid:
        raise SaltInvocationError(
            f"expected_fsid: this host's cluster is {fsid}, not {expected_fsid}"
        )
    found = [(e, _device_facts(e["device"])) for e in entries]
    verdicts = [hostnode_disks.verdict(e["device"], f, fsid, e.get("force")) for e, f in found]
    refused = [v["reason"] for v in verdicts if v["reason"]]
    wanted = [e for e, v in zip(entries, verdicts, strict=True) if v["osd"] != "ours"]
    refused += _companion_refusals(wanted, fsid)
    if refused:
        raise SaltInvocationError("refused, nothing written: " + "; ".join(refused))
    free = hostnode_ceph.free_ids(tree(), len(wanted))
    systemd = _systemd()
    ours = [item for item, v in zip(found, verdicts, strict=True) if v["osd"] == "ours"]
    return [
        {"device": entry["device"], "osd_id": osd_id,
         "commands": hostnode_ceph.create_commands(entry, method, osd_id, dmcrypt, systemd)}
        for entry, osd_id in zip(wanted, free, strict=True)
    ] + _restarts(ours, method, systemd)  # fmt: skip


def _restarts(ours, method, systemd):
    """
    Plans that start the OSDs of ours (``(entry, facts)``) whose daemon does not run here: one
    killed, or not started since a reboot. The cluster may still list it as up (the monitors
    wait for enough peers to report it), so the daemon is what counts.
    """
    plans = []
    for entry, facts in ours:
        osd_id = facts["osd_id"]
        if osd_id is not None and _pid(osd_id) is None:
            primed = os.path.exists(f"/var/lib/ceph/osd/ceph-{osd_id}/whoami")
            commands = hostnode_ceph.start_commands(entry, method, osd_id, systemd, primed)
            plans.append({"device": entry["device"], "osd_id": osd_id, "commands": commands})
    return plans


def _companion_refusals(entries, fsid):
    """
    Why the DB or WAL device of a new OSD may not be written. ceph-volume overwrites it whole
    (``vgcreate --force`` with lvm), so it must hold nothing: force does not apply to it.
    """
    refused = []
    for entry in entries:
        for key in ("db_device", "wal_device"):
            device = entry.get(key)
            if device:
                found = hostnode_disks.verdict(device, _device_facts(device), fsid, forcible=False)
                if not found["writable"]:
                    reason = found["reason"] or f"{device} already is an OSD of this cluster"
                    refused.append(f"{key} of {entry['device']}: {reason}")
    return refused


def provision(devices, method="raw", dmcrypt=False, expected_fsid=None, test=False):
    """
    Make every one of devices an OSD of this cluster, creating only those that are not yet:
    ``{device: {"osd_id", "commands"}}`` of what was (test: would be) done. Each entry is a
    device path or ``{device, db_device, wal_device, device_class, force}``. All devices are
    checked before anything is written. An OSD of this cluster on one of devices whose daemon
    does not run here (killed, or not started since a reboot) is started. When a command fails,
    the error's ``info`` holds the commands that ran, those of the failed device included.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.provision '[/dev/sdc, /dev/sdd]' test=True
    """
    if not isinstance(devices, list) or not devices:
        raise SaltInvocationError("devices: must be a non-empty list")
    entries = [_entry(item, f"devices:{index}") for index, item in enumerate(devices)]
    changes = {}
    for plan in plan_create(entries, method, dmcrypt, expected_fsid):
        ran = plan["commands"] if test else []
        try:
            if not test:
                _execute(plan["commands"], ran)
        except CommandExecutionError as exc:
            exc.info = {**changes, **_done(plan, ran)}  # the commands that ran, those too
            raise
        changes.update(_done(plan, ran))
    return changes


def _done(plan, ran):
    return {plan["device"]: {"osd_id": plan["osd_id"], "commands": ran}} if ran else {}


_ENTRY_KEYS = {"device", "db_device", "wal_device", "device_class", "force"}


def _entry(item, field):
    item = {"device": item} if isinstance(item, str) else item
    if not isinstance(item, dict) or "device" not in item or set(item) - _ENTRY_KEYS:
        raise SaltInvocationError(f"{field}: a device path or {{{', '.join(sorted(_ENTRY_KEYS))}}}")
    for key in ("device", "db_device", "wal_device"):
        if item.get(key) is not None:
            _device(item[key], f"{field}:{key}")
    if not isinstance(item.get("force", False), bool):
        raise SaltInvocationError(f"{field}:force: must be true or false")
    return item


def _execute(commands, ran=None):
    """Run commands in order, each one appended to ran once it succeeded."""
    for argv in commands:
        _run(argv)
        if ran is not None:
            ran.append(argv)


def _systemd():
    return os.path.isdir("/run/systemd/system")


def crush_host():
    """
    The CRUSH host bucket of this node, the only one whose OSDs it may remove: the option
    ``hostnode:crush_host`` (minion config ``hostnode: {crush_host: NAME}``, for a host whose
    ceph.conf sets a ``crush_location`` of its own), else the short hostname, where ceph-osd
    places itself by default (``host=<short hostname>``).

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.crush_host
    """
    return __salt__["config.get"]("hostnode:crush_host") or socket.gethostname().split(".")[0]


def remove(osd_id, zap=False, force=False, timeout=600, test=False):
    """
    Remove osd_id safely: out, wait until safe-to-destroy (the cluster has its data
    elsewhere), ok-to-stop, stop, purge, and with zap wipe its devices. An OSD under another
    CRUSH host than this node's (``crush_host``) is refused, naming that host, before
    anything changes. An OSD that does not become safe within timeout seconds is left out but
    running, and the call fails; force skips the cluster's answers. Returns ``{"osd_id",
    "commands"}`` (``{}`` when it is no longer in the cluster); test=True runs nothing that
    writes.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.remove 3 test=True
        salt '*' ceph_osd.remove 3 zap=True
    """
    osd_id = _osd_id(osd_id)
    done = retire([osd_id], zap, force, timeout, test)
    return {"osd_id": osd_id, **done[f"osd.{osd_id}"]} if done else {}


def retire(osd_ids, zap=False, force=False, timeout=600, test=False):
    """
    Remove each of osd_ids still in the cluster as ``remove`` does, one after the other, once
    all of them are proven to be under this node's CRUSH host (``crush_host``): one under
    another host refuses the whole call before anything changes, naming where it is. Returns
    ``{"osd.ID": {"commands"}}`` of the OSDs removed (test: to remove). When a command fails,
    the error's ``info`` holds the OSDs removed before it.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.retire '[3, 4]' test=True
    """
    ids = [_osd_id(value) for value in hostnode_validate.as_list(osd_ids, "osd_ids")]
    try:
        ids = hostnode_ceph.own_osds(tree(), ids, crush_host())
    except ValueError as exc:
        raise SaltInvocationError(f"refused, nothing changed: {exc}") from None
    done = {}
    for osd_id in ids:
        try:
            done[f"osd.{osd_id}"] = {"commands": _remove(osd_id, zap, force, timeout, test)}
        except CommandExecutionError as exc:
            exc.info = done
            raise
    return done


def purge_host(host, zap=False, force=False, timeout=600, test=False):
    """
    Remove every OSD under the CRUSH host bucket host, which must be this node's
    (``crush_host``): naming it is the confirmation. Each is drained and purged as ``remove``
    does. Returns ``{"osd.ID": {"commands"}}`` as ``retire``.

    CLI Example:

    .. code-block:: bash

        salt 'stor1*' ceph_osd.purge_host stor1 test=True
    """
    here = crush_host()
    if host != here:
        raise SaltInvocationError(
            f"host: {host!r} is not this node's CRUSH host ({here}): nothing purged"
        )
    return retire([osd["id"] for osd in tree() if osd["host"] == here], zap, force, timeout, test)


def _remove(osd_id, zap, force, timeout, test):
    """The commands that remove osd_id, run unless test (its host already checked)."""
    fsid = cluster_fsid()
    local = [o for o in list_() if o["id"] == osd_id and o["cluster_fsid"] == fsid]
    devices = [d for osd in local for d in osd["devices"]] if zap else []
    steps = hostnode_ceph.remove_commands(osd_id, devices, _systemd(), _pid(osd_id))
    commands = [*steps["out"], *steps["purge"]]
    if not test:
        _execute(steps["out"])
        if not force:
            _wait_safe(osd_id, timeout)
        _execute(steps["purge"])
    return commands


def _osd_id(value):
    if isinstance(value, bool) or not str(value).isdecimal():
        raise SaltInvocationError(f"osd_id: {value!r} is not an OSD id")
    return int(value)


def _ask(question, osd_id, parser):
    result = _run(["ceph", "osd", question, str(osd_id), "-f", "json"], check=False)
    return parser(result["stdout"], result["retcode"], result["stderr"])


def _wait_safe(osd_id, timeout):
    """Wait until the cluster says osd_id is both safe to destroy and ok to stop."""
    deadline = time.monotonic() + timeout
    while True:
        verdict = _ask("safe-to-destroy", osd_id, hostnode_ceph.parse_safe_to_destroy)
        if verdict["ok"]:
            verdict = _ask("ok-to-stop", osd_id, hostnode_ceph.parse_ok_to_stop)
            if verdict["ok"]:
                return
        if time.monotonic() > deadline:
            raise CommandExecutionError(
                f"osd.{osd_id} is out but the cluster still needs it after {timeout} s: "
                f"{verdict['reason']}; it was left out and running, not purged"
            )
        time.sleep(5)


def _pid(osd_id):
    """
    The pid of the running ceph-osd -i osd_id, read from /proc (ceph-osd writes no pid file by
    default): only processes that see this host's /var/lib/ceph (our mount namespace) count.
    """
    ours = os.readlink("/proc/self/ns/mnt")
    cmdlines = {}
    for entry in os.listdir("/proc"):
        if entry.isdecimal():
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") != ours:
                    continue
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdlines[entry] = handle.read().decode(errors="replace").split("\0")
            except OSError:
                continue
    return hostnode_ceph.osd_pid(cmdlines, osd_id)


def zap(device, force=False, test=False):
    """
    Wipe device (``ceph-volume lvm zap --destroy``) only when it holds nothing, or an OSD of
    this cluster that is no longer in the cluster (purged); anything else needs force, and a
    mounted or held device is refused even then.

    CLI Example:

    .. code-block:: bash

        salt '*' ceph_osd.zap /dev/sdc test=True
    """
    facts = _device_facts(device)
    fsid = cluster_fsid()
    verdict = hostnode_disks.verdict(device, facts, fsid, force)
    in_cluster = {osd["id"] for osd in tree()}
    here = [o for o in list_() if device in o["devices"] and o["cluster_fsid"] == fsid]
    if any(osd["id"] in in_cluster for osd in here) and not force:
        raise SaltInvocationError(f"{device} is a live OSD of this cluster: remove it first")
    if verdict["reason"]:
        raise SaltInvocationError(f"refused, nothing written: {verdict['reason']}")
    commands = [["ceph-volume", "lvm", "zap", "--destroy", device]]
    if not test:
        _execute(commands)
    return {"device": device, "commands": commands}
