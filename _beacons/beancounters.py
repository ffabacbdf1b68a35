"""
Beacon ``beancounters``: one event per container and resource whose failcnt grew since the
previous call, and one when a resource crosses into the near-limit zone (held or maxheld at or
above ``threshold`` of its barrier, or of its limit when the barrier is unlimited).

.. code-block:: yaml

    beacons:
      beancounters:
        - threshold: 0.9
        - interval: 60

Events are tagged ``salt/beacon/<minion>/beancounters/<ctid>/<resource>/failcnt`` (with
``growth`` and ``failcnt``) or ``.../near_limit`` (with ``value``, ``of``, ``bound``,
``fraction``). The first call only records; nothing is sent while nothing changes. The
comparison is ``beancounters.events``.
"""

import salt.utils.beacons
import salt.utils.platform

__virtualname__ = "beancounters"
# The last look, kept per configured beacon (Salt adds _beacon_name to each one's config).
_SEEN = "hostnode_beancounters_beacon"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "beancounters: OpenVZ exists on Linux only")
    return __virtualname__


def validate(config):
    """Check the beacon's configuration: a list, with an optional threshold in (0, 1]."""
    if not isinstance(config, list):
        return False, "beancounters beacon: the configuration must be a list"
    options = salt.utils.beacons.list_to_dict(config)
    threshold = options.get("threshold", 0.9)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        return False, "beancounters beacon: threshold must be a number"
    if not 0 < threshold <= 1:
        return False, "beancounters beacon: threshold must be in (0, 1]"
    if not isinstance(options.get("source", ""), str):
        return False, "beancounters beacon: source must be a path"
    return True, "Valid beacon configuration"


def beacon(config):
    """Compare the beancounters with the previous call; return events for what changed."""
    options = salt.utils.beacons.list_to_dict(config)
    seen = (_SEEN, options.get("_beacon_name"))
    result = __salt__["beancounters.events"](
        __context__.get(seen),
        options.get("threshold", 0.9),
        options.get("source"),
    )
    __context__[seen] = result["snapshot"]
    return result["events"]
