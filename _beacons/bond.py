"""
Beacon ``bond``: an event when a bond's slave changes MII status, when a bond loses its last
active slave (or gets one back), when an 802.3ad bond gets an LACP problem (or it clears; see
``bond.health``), and when a bond's MAC differs from the one hostnode pinned (the pin was lost,
e.g. after all slaves were released) or matches it again.

.. code-block:: yaml

    beacons:
      bond:
        - bonds: [bond0]     # default: every bond of the node
        - interval: 10

Events are tagged ``salt/beacon/<minion>/bond/<bond>/<what>`` with ``what`` one of ``slave``
(with ``slave``, ``old``, ``new``), ``no_active_slave``, ``active``, ``lacp_problem`` and
``lacp_cleared`` (with the problem's ``kind``, ``slave`` or ``aggregator`` and ``message``),
``mac_lost`` and ``mac_restored``. Nothing is sent while nothing changes (a bond's LACP problems
are sent once when first seen). The comparison is ``bond.events``.
"""

import salt.utils.beacons
import salt.utils.platform

__virtualname__ = "bond"
# The last look, kept per configured beacon (Salt adds _beacon_name to each one's config).
_SEEN = "hostnode_bond_beacon"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "bond: Linux bonding exists on Linux only")
    return __virtualname__


def validate(config):
    """Check the beacon's configuration: a list, with an optional list of bond names."""
    if not isinstance(config, list):
        return False, "bond beacon: the configuration must be a list"
    bonds = salt.utils.beacons.list_to_dict(config).get("bonds", [])
    if not isinstance(bonds, list) or not all(isinstance(b, str) and b for b in bonds):
        return False, "bond beacon: bonds must be a list of bond names"
    return True, "Valid beacon configuration"


def beacon(config):
    """Compare each bond with the previous call; return the events for what changed."""
    options = salt.utils.beacons.list_to_dict(config)
    seen = (_SEEN, options.get("_beacon_name"))
    result = __salt__["bond.events"](options.get("bonds"), __context__.get(seen))
    __context__[seen] = result["snapshots"]
    return result["events"]
