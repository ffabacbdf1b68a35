"""
The node's LVM: the volume group for instance disks, created only on devices hostnode has
checked to be free (wipefs signatures, mounts, holders, the VG LVM reports them in), and the
host's LVM filter (``global_filter`` in /etc/lvm/lvmlocal.conf, a file hostnode owns), so the
host never scans nor activates the volume groups inside instance disks and DRBD devices.

The node formula applies both (``node.lvm``); ``node.preflight`` runs ``volume_group_check``
before the highstate changes anything. Files go under the minion option
``hostnode:config_root`` (default ``/``). Every function that changes something takes
``test=True`` and then returns the same changes without making them.
"""

import os

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import disks as hostnode_disks
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import lvm as hostnode_lvm
from saltext.hostnode.utils import node as hostnode_node
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "node_lvm"

HEADER = hostnode_node.HEADER


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "node_lvm: hostnode nodes run Linux")
    if not salt.utils.path.which("lvm"):
        return (False, "node_lvm: the lvm command (package lvm2) is not installed")
    return __virtualname__


def _run(argv, check=True):
    return hostnode_command.run(__salt__["cmd.run_all"], argv, check=check)


def _path(relative):
    return os.path.join(__salt__["config.get"]("hostnode:config_root", "/") or "/", relative)


def volume_group(name, devices, test=False):
    """
    The LVM volume group name for instance disks, holding devices: created, or extended with
    the devices it lacks. Each device is checked first by hostnode itself (wipefs signatures,
    mounts, holders, the VG LVM reports it in), as for Ceph OSDs: a device holding anything is
    refused unless its entry says ``force: true``; a physical volume of another VG is always
    refused. A device of the VG that is no longer listed is never removed.

    devices
        Device paths, or ``{device, force}`` entries.

    Returns ``{"commands": [...], "added": [devices]}`` with what changes.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' node_lvm.volume_group xenvg '[/dev/sdb, /dev/sdc]' test=True
        salt 'hv*' node_lvm.volume_group xenvg '[{device: /dev/sdb, force: true}]'
    """
    hostnode_lvm.vg_name(name, "name")
    verdicts = volume_group_check(name, devices)
    refused = [v["reason"] for v in verdicts if v["reason"]]
    if refused:
        raise SaltInvocationError("refused, nothing written: " + "; ".join(refused))
    new = [v for v in verdicts if v["writable"]]
    if not new:
        return {}
    exists = bool(_vgs(name))
    commands = [
        ["pvcreate", *(["--yes", "--force"] if v["force"] else []), v["device"]] for v in new
    ]
    commands.append(["vgextend" if exists else "vgcreate", name, *(v["device"] for v in new)])
    changes = {"commands": commands, "added": [v["device"] for v in new]}
    if test:
        return changes
    done = []
    for argv in commands:
        try:
            _run(argv)
        except CommandExecutionError as exc:
            raise CommandExecutionError(str(exc), info={"commands": done} if done else {}) from None
        done.append(argv)
    return changes


def volume_group_check(name, devices):
    """
    ``[{device, writable, reason, member, force}]``: whether each of devices may join volume
    group name, read without writing anything (see ``volume_group``).

    CLI Example:

    .. code-block:: bash

        salt 'hv*' node_lvm.volume_group_check xenvg '[/dev/sdb]'
    """
    listed = hostnode_validate.as_list(devices, "devices")
    entries = [_vg_entry(item, f"devices:{index}") for index, item in enumerate(listed)]
    if not entries:
        raise SaltInvocationError("devices: list at least one device")
    pvs = {os.path.realpath(pv): vg for pv, vg in _pvs().items()}
    mounted = hostnode_disks.mounted_devices(hostnode_files.read("/proc/self/mountinfo"))
    verdicts = []
    for entry in entries:
        device = entry["device"]
        real = os.path.realpath(device)
        facts = {
            **hostnode_disks.block_facts("/sys/class/block", os.path.basename(real)),
            "signatures": hostnode_disks.parse_wipefs(
                _run(["wipefs", "--no-act", "--json", device])
            ),
            "mounted": mounted,
        }
        verdict = hostnode_disks.vg_verdict(device, facts, pvs.get(real), name, entry["force"])
        verdicts.append({**verdict, "force": entry["force"]})
    return verdicts


def _vg_entry(item, field):
    item = {"device": item} if isinstance(item, str) else item
    if not isinstance(item, dict) or "device" not in item or set(item) - {"device", "force"}:
        raise SaltInvocationError(f"{field}: a device path or {{device, force}}")
    device = item["device"]
    if not isinstance(device, str) or not device.startswith("/dev/") or ".." in device:
        raise SaltInvocationError(f"{field}:device: {device!r} is not a device path under /dev")
    if not os.path.exists(device):
        raise SaltInvocationError(f"{field}:device: {device} does not exist")
    if not isinstance(item.get("force", False), bool):
        raise SaltInvocationError(f"{field}:force: must be true or false")
    return {"device": device, "force": item.get("force", False)}


def _pvs():
    text = _run(["pvs", "--reportformat", "json", "-o", "pv_name,vg_name"])
    try:
        return hostnode_disks.parse_pvs(text)
    except ValueError as exc:
        raise CommandExecutionError(f"pvs: {exc}") from None


def _vgs(name):
    result = _run(["vgs", "--reportformat", "json", "-o", "vg_name", name], check=False)
    return result["retcode"] == 0


# --- The LVM filter ---------------------------------------------------------------------------


def global_filter(vg=None, reject_drbd=True, reject_instance_disks=True, reject=None, test=False):
    """
    Keep the host's LVM off the devices of its guests: ``devices/global_filter`` in
    /etc/lvm/lvmlocal.conf (which LVM reads after lvm.conf) rejects every name of the DRBD
    devices (reject_drbd), of vg's logical volumes and the partitions mapped on them
    (reject_instance_disks: ``/dev/<vg>/*``, ``/dev/mapper/<vg>-*`` with the VG's dashes
    doubled) and of reject (LVM regexes, e.g. ``^/dev/nbd``); every other device is accepted.
    The file also sets ``use_devicesfile = 0``: LVM ignores global_filter while a devices file
    is in use. Nothing to reject removes the file.

    The new file is checked by LVM itself first (``lvmconfig --validate`` and a ``pvs`` that
    compiles the filter and opens no disk). A current file that LVM cannot parse, or that
    holds settings of someone else's, is an error and is left as it is.

    Returns ``{"files": {path: diff}}`` with what changes.

    CLI Example:

    .. code-block:: bash

        salt 'hv*' node_lvm.global_filter xenvg test=True
        salt 'hv*' node_lvm.global_filter xenvg reject='["^/dev/nbd"]'
    """
    if vg is not None:
        hostnode_lvm.vg_name(vg, "vg")
    patterns = hostnode_lvm.filter_patterns(
        vg, reject_drbd, reject_instance_disks, [] if reject is None else reject
    )
    new = hostnode_lvm.render_lvmlocal(patterns, HEADER) if patterns else None
    plan = hostnode_files.plan(_path(hostnode_lvm.LVMLOCAL_FILE), new)
    if not plan:
        return {}
    _check_current(plan["path"], plan["old"])
    if new is not None:
        _check_new(plan["path"], new)
    return {
        "files": hostnode_files.diffs([plan]) if test else hostnode_files.replace_planned([plan])
    }


def _check_current(path, old):
    if old is None or not hostnode_lvm.has_settings(old):
        return
    result = _run(["lvmconfig", "--config", old], check=False)
    try:
        settings = hostnode_lvm.parse_lvmconfig(result["stdout"]) if not result["retcode"] else None
    except ValueError:
        settings = None
    if settings is None:
        raise CommandExecutionError(
            f"{path}: LVM cannot read it ({_complaint(result)}); fix or remove it (nothing changed)"
        )
    if settings and not old.startswith(f"# {HEADER}\n"):
        raise CommandExecutionError(
            f"{path} holds settings that are not hostnode's: {', '.join(sorted(settings))}; "
            "hostnode writes the whole file: move them to lvm.conf or remove them (nothing changed)"
        )


def _check_new(path, new):
    for argv in (
        ["lvmconfig", "--config", new, "--validate"],
        ["pvs", "--config", new, "--devices", "/dev/null", "--noheadings", "-o", "pv_name"],
    ):
        result = _run(argv, check=False)
        if result["retcode"]:
            raise CommandExecutionError(
                f"{path} would be rejected by LVM ({_complaint(result)}); nothing changed"
            )


def _complaint(result):
    """An LVM tool's complaint about a configuration on its argv, on one line."""
    lines = (result["stderr"] or result["stdout"] or "").splitlines()
    return f"exit {result['retcode']}: " + "; ".join(line.strip() for line in lines if line.strip())
