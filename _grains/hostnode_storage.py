"""
Grains of a storage client, static and read from files and /sys only (no subprocess):

``hostnode_iscsi_initiator``
    The initiator IQN from /etc/iscsi/initiatorname.iscsi (under ``hostnode:config_root``).

``hostnode_multipath_maps``
    ``{alias: wwid}`` of the dm-multipath maps, from ``/sys/block/dm-*/dm/{name,uuid}``.
"""

import glob
import os

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import iscsi as hostnode_iscsi

SYS_BLOCK = "/sys/block"


def hostnode_storage():
    """The initiator name and the multipath maps; keys are left out where there are none."""
    grains = {}
    initiator = _initiator((__opts__.get("hostnode") or {}).get("config_root") or "/")
    if initiator:
        grains["hostnode_iscsi_initiator"] = initiator
    maps = _multipath_maps()
    if maps:
        grains["hostnode_multipath_maps"] = maps
    return grains


def _initiator(root):
    try:
        with open(os.path.join(root, "etc/iscsi/initiatorname.iscsi"), encoding="utf-8") as handle:
            return hostnode_iscsi.parse_initiator_name(handle.read())
    except (OSError, UnicodeDecodeError):
        return None


def _multipath_maps():
    maps = {}
    for device in sorted(glob.glob(os.path.join(SYS_BLOCK, "dm-*", "dm"))):
        uuid, name = _read(device, "uuid"), _read(device, "name")
        if uuid and name and uuid.startswith("mpath-"):
            maps[name] = uuid[len("mpath-") :]
    return maps


def _read(directory, name):
    try:
        with open(os.path.join(directory, name), encoding="ascii") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
