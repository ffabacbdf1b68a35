"""
Beacon ``ganeti_health``: an event when a DRBD minor of this node becomes degraded (not
Connected with UpToDate data on both sides) or recovers; given ``verify_disks``, when a finding
of ``gnt-cluster verify-disks`` appears or goes away; and, given a saved ``hcheck`` output,
when one of the cluster checker's problems does.

.. code-block:: yaml

    beacons:
      ganeti_health:
        - interval: 60
        - hcheck: /var/lib/hostnode/hcheck.txt   # optional, refreshed by a cron job of yours
        # optional: judge this saved verify-disks output, or (true) run it on the master
        - verify_disks: /var/lib/hostnode/verify-disks.txt

Events are tagged ``salt/beacon/<minion>/ganeti_health/degraded`` or ``.../recovered`` with
``problem`` (``drbd minor 4: WFConnection Primary/Unknown UpToDate/DUnknown``). The first look
only records; nothing is sent while nothing changes. The comparison is ``ganeti.events``.
``drbdsetup status`` (DRBD 9) is given 10 seconds, ``gnt-cluster verify-disks`` 60; one that
hangs is killed and sent as ``.../ganeti_health/timeout`` with ``command`` and ``timeout``.
``verify_disks: true`` runs it on the cluster's master node at each interval; it submits a Ganeti
job per node group and activates the disks it finds inactive, so it is off unless asked for.
"""

import salt.utils.beacons
import salt.utils.platform

__virtualname__ = "ganeti_health"
# The last look, kept per configured beacon (Salt adds _beacon_name to each one's config).
_SEEN = "hostnode_ganeti_health_beacon"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "ganeti_health: DRBD exists on Linux only")
    return __virtualname__


def validate(config):
    """Check the beacon's configuration: a list, with optional paths drbd and hcheck, and
    verify_disks a path or true."""
    if not isinstance(config, list):
        return False, "ganeti_health beacon: the configuration must be a list"
    options = salt.utils.beacons.list_to_dict(config)
    for key in ("drbd", "hcheck"):
        if not isinstance(options.get(key, ""), str):
            return False, f"ganeti_health beacon: {key} must be a path"
    if options.get("verify_disks", "") is not True and not isinstance(
        options.get("verify_disks", ""), str
    ):
        return False, "ganeti_health beacon: verify_disks must be a path or true"
    return True, "Valid beacon configuration"


def beacon(config):
    """Compare this node's health with the previous call; return events for what changed."""
    options = salt.utils.beacons.list_to_dict(config)
    seen = (_SEEN, options.get("_beacon_name"))
    result = __salt__["ganeti.events"](
        __context__.get(seen),
        options.get("drbd"),
        options.get("hcheck"),
        _verify_disks(options.get("verify_disks", False)),
    )
    __context__[seen] = result["health"]
    return result["events"]


def _verify_disks(option):
    """ganeti.events' verify_disks: a path as given, None (run it) for true, False (skip)."""
    return None if option is True else option
