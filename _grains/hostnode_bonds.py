"""
Grain ``hostnode_bonds``: the node's bonds, read from /proc and /sys only.

Per bond: ``mode``, ``slaves`` (kernel order), ``mac`` and ``pinned`` (whether hostnode
persisted a MAC for it under ``hostnode:config_root``)::

    salt -G 'hostnode_bonds:bond0:pinned:False' state.apply bonding
"""

import os

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import bond as hostnode_bond

PROC_BONDING = "/proc/net/bonding"
SYSFS_NET = "/sys/class/net"


def hostnode_bonds():
    """The bonds of this node; an empty dict where there are none."""
    root = (__opts__.get("hostnode") or {}).get("config_root") or "/"
    bonds = {}
    for bond in hostnode_bond.bond_names(SYSFS_NET):
        try:
            with open(os.path.join(PROC_BONDING, bond), encoding="utf-8") as handle:
                model = hostnode_bond.parse_bonding(handle.read())
            mac = hostnode_bond.read_sysfs(SYSFS_NET, bond)["mac"]
        except (OSError, ValueError):
            continue  # a bond deleted while it was read
        bonds[bond] = {
            "mode": model["mode"],
            "slaves": [slave["name"] for slave in model["slaves"]],
            "mac": mac,
            "pinned": any(os.path.exists(p) for p in hostnode_bond.pin_paths(root, bond)),
        }
    return {"hostnode_bonds": bonds}
