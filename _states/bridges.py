"""
A bridge per VLAN on the node's bond, with a pinned MAC, and the Ganeti replication network's
NIC, live and for the network backend (see the ``bridges`` execution module). Each state
computes its changes once: test=True predicts exactly what a real run changes.

.. code-block:: yaml

    hostnode-node-bridges:
      bridges.managed:
        - bond: bond0
        - vlans: [100, 200]

    hostnode-node-replication:
      bridges.replication:
        - name: hv2.fra1.example.net
        - settings: {replication: {network: 10.2.1.0/24, nic: repl0, mtu: 9000}, ...}
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "bridges"


def __virtual__():
    if "bridges.converge" not in __salt__:
        return (False, __salt__.value().missing_fun_string("bridges.converge"))
    return __virtualname__


def managed(name, bond, vlans, mac="stable", seed=None, offloads=None, persist=True, backend=None):
    """
    A bridge per VLAN on bond, with a pinned MAC and its port's offloads (``{gro: false, ...}``;
    none leaves them alone), live and for the network backend; ``vlans: []`` removes hostnode's
    boot-time files of the bridges (what is live stays until reboot).

    .. code-block:: yaml

        hostnode-node-bridges:
          bridges.managed:
            - bond: bond0
            - vlans: [100, 200]
            - mac: stable
            - offloads: {gro: false, gso: false, tso: false}
    """

    def converge(test):
        return __salt__["bridges.converge"](
            bond, vlans, mac, seed, offloads=offloads, persist=persist, backend=backend, test=test
        )

    return hostnode_state.run(name, converge, bool(__opts__["test"]), f"The bridges on {bond}")


def replication(name, settings=None, persist=True, backend=None):
    """
    The Ganeti replication network's NIC of node name (its FQDN, the key of ``secondary_ips``)
    up, with the MTU and the node's secondary IP that settings (the node formula's
    ``hostnode:node:ganeti``) give it (``bridges.replication_wanted``), live and for the network
    backend. Settings without ``replication:nic`` (``{}``) remove hostnode's boot-time files of
    a replication NIC (what is live stays until reboot).

    .. code-block:: yaml

        hostnode-node-replication:
          bridges.replication:
            - name: hv2.fra1.example.net
            - settings:
                master: hv1.fra1.example.net
                cluster_name: ganeti.fra1.example.net
                vg_name: xenvg
                replication: {network: 10.2.1.0/24, nic: repl0, mtu: 9000}
                secondary_ips: {hv1.fra1.example.net: 10.2.1.11, hv2.fra1.example.net: 10.2.1.12}
    """

    def converge(test):
        wanted = __salt__["bridges.replication_wanted"](name, settings or {})
        return __salt__["bridges.replication"](
            **wanted, persist=persist, backend=backend, test=test
        )

    return hostnode_state.run(name, converge, bool(__opts__["test"]), "The replication NIC")
