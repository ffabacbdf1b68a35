"""
Grain ``hostnode_openvz``: whether this node is an OpenVZ hardware node or a container, from
/proc only (no subprocess). Absent on other nodes::

    hostnode_openvz: {role: hardware_node, containers: ['101', '102']}

    salt -G 'hostnode_openvz:role:hardware_node' state.apply openvz
"""

import os

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import beancounters as hostnode_beancounters

PROC = "/proc"


def hostnode_openvz():
    """``hardware_node`` (with the running container ids) or ``container``; {} elsewhere."""
    try:
        with open(os.path.join(PROC, "user_beancounters"), encoding="ascii") as handle:
            containers = hostnode_beancounters.parse(handle.read())
    except (OSError, ValueError):
        return {}
    if os.path.isdir(os.path.join(PROC, "vz")) and "0" in containers:
        ids = sorted((ctid for ctid in containers if ctid != "0"), key=int)
        return {"hostnode_openvz": {"role": "hardware_node", "containers": ids}}
    return {"hostnode_openvz": {"role": "container"}}
