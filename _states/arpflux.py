"""
ARP flux and reverse-path filtering as a state, for hosts with several NICs in one subnet.

.. code-block:: yaml

    hostnode-storage-net-arpflux:
      arpflux.tuned:
        - auto: true                 # every interface that shares a subnet with another
        - interfaces: [eth1, eth2]   # and/or these
        - values: {rp_filter: 2, arp_ignore: 1, arp_announce: 2}

The kernel uses max(conf/all, conf/<interface>), so when conf/all would override a wanted
value the state lowers conf/all too, raises the other interfaces (and conf/default) to keep
their effective values, and says so in its changes. Everything it sets live is persisted in
hostnode's sysctl.d file. test=True reports exactly the changes a real run makes.
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "arpflux"


def __virtual__():
    if "arpflux.tune" not in __salt__:
        return (False, __salt__.value().missing_fun_string("arpflux.tune"))
    return __virtualname__


def tuned(name, interfaces=None, auto=False, values=None, persist=True, absent_ok=False):
    """
    The effective ARP and reverse-path settings of the interfaces are right for multipath.

    .. code-block:: yaml

        storage-nics:
          arpflux.tuned:
            - interfaces: [eth1, eth2]
            - values: {rp_filter: 0, arp_ignore: 1, arp_announce: 2}

        bond-to-be:
          arpflux.tuned:
            - interfaces: [bond1]
            - absent_ok: true        # persisted now, applied when bond1 appears
    """

    def tune(test):
        return __salt__["arpflux.tune"](interfaces, auto, values, persist, absent_ok, test=test)

    ret = hostnode_state.run(name, tune, bool(__opts__["test"]), "ARP and reverse-path settings")
    lowered = ret["changes"].get("sysctl", {}).get("all")
    if lowered and ret["result"] is not False:
        ret["comment"] += (
            f"; conf/all lowered ({', '.join(sorted(lowered))}) so the values take effect"
        )
    return ret
