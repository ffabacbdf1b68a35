"""
Grains about the node's network configuration.

``hostnode_net_backend``: ``netplan``, ``networkd``, ``ifupdown`` or ``none`` — what configures
the network at boot, and so where hostnode persists what it sets live. Target with it::

    salt -G 'hostnode_net_backend:netplan' state.apply anyip
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import netbackend as hostnode_netbackend


def hostnode_net_backend():
    """The boot-time network backend, detected under the minion's ``hostnode:config_root``."""
    root = (__opts__.get("hostnode") or {}).get("config_root") or "/"
    return {"hostnode_net_backend": hostnode_netbackend.detect(root) or "none"}
