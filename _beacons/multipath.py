"""
Beacon ``multipath``: one event per map whose paths change, ``lost`` with the paths that failed
since the previous look and ``regained`` with those that came back.

.. code-block:: yaml

    beacons:
      multipath:
        - min_paths: 2
        - timeout: 5         # seconds a command may take (default 10)
        - interval: 10

Events are tagged ``salt/beacon/<minion>/multipath/<map>/lost`` or ``.../regained`` with
``map``, ``paths`` and ``active``. The first look only records; nothing is sent while nothing
changes. The comparison is ``multipath.events``. The beacon runs in the minion's main loop: a
command that does not answer within ``timeout`` seconds (a hung multipathd, ``multipath -ll``
waiting on path checkers) is killed and sent as ``.../multipath/timeout`` with ``command`` and
``timeout``, instead of freezing the minion.
"""

import salt.utils.beacons
import salt.utils.platform

__virtualname__ = "multipath"
# The last look, kept per configured beacon (Salt adds _beacon_name to each one's config).
_SEEN = "hostnode_multipath_beacon"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "multipath: dm-multipath exists on Linux only")
    return __virtualname__


def validate(config):
    """Check the beacon's configuration: a list, with an optional min_paths of 1 or more."""
    if not isinstance(config, list):
        return False, "multipath beacon: the configuration must be a list"
    options = salt.utils.beacons.list_to_dict(config)
    min_paths = options.get("min_paths", 1)
    if isinstance(min_paths, bool) or not isinstance(min_paths, int) or min_paths < 1:
        return False, "multipath beacon: min_paths must be a whole number of 1 or more"
    timeout = options.get("timeout", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        return False, "multipath beacon: timeout must be a number of seconds above 0"
    if not isinstance(options.get("source", ""), str):
        return False, "multipath beacon: source must be a path"
    return True, "Valid beacon configuration"


def beacon(config):
    """Compare the maps' failed paths with the previous call; return events for the changes."""
    options = salt.utils.beacons.list_to_dict(config)
    seen = (_SEEN, options.get("_beacon_name"))
    result = __salt__["multipath.events"](
        __context__.get(seen),
        options.get("min_paths", 1),
        options.get("source"),
        options.get("timeout", 10),
    )
    __context__[seen] = result["health"]
    return result["events"]
