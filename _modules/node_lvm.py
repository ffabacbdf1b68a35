"""
The node's LVM: the volume group for instance disks, created only on devices hostnode has
checked to be free (wipefs signatures, mounts, holders, the VG LVM reports them in).

The node formula applies it (``node.lvm``); ``node.preflight`` runs ``volume_group_check``
before the highstate changes anything. Every function that changes something takes
``test=True`` and then returns the same changes without making them.
"""

import os
import re

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import disks as hostnode_disks
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "node_lvm"

_VG_NAME = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9_+.-]{0,126}$")


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "node_lvm: hostnode nodes run Linux")
    if not salt.utils.path.which("lvm"):
        return (False, "node_lvm: the lvm command (package lvm2) is not installed")
    return __virtualname__


def _run(argv, check=True):
    return hostnode_command.run(__salt__["cmd.run_all"], argv, check=check)


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
    if not isinstance(name, str) or not _VG_NAME.match(name):
        raise SaltInvocationError(f"name: {name!r} is not a volume group name")
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
