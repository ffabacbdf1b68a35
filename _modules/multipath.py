"""
dm-multipath: the maps of this node and the health of their paths.

``multipath.health`` answers what Nagios/Checkmk scripts parse ``multipath -ll`` for: per map,
how many paths there are, how many are active, which have failed (dm state ``failed`` or a
checker saying ``faulty``/``shaky``), and whether the map is healthy (no failed path and at
least ``min_paths`` active ones). Both functions also read a saved ``multipath -ll`` output
(``source=``) of any multipath-tools release, for support bundles.
"""

import os

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import hostnode_command
import hostnode_files
import hostnode_multipath

__virtualname__ = "multipath"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "multipath: dm-multipath exists on Linux only")
    return __virtualname__


def _run(argv):
    return hostnode_command.run(__salt__["cmd.run_all"], argv)


def maps(source=None):
    """
    The multipath maps: ``name`` (alias, or wwid), ``wwid``, ``dm``, ``vendor``, ``product``,
    ``size``, ``features``, ``hwhandler`` and ``groups`` of ``{policy, prio, status, paths}``,
    each path ``{hctl, device, devnum, dm_state, checker, online}``.

    source
        Parse this saved ``multipath -ll`` output instead (either layout).

    CLI Example:

    .. code-block:: bash

        salt '*' multipath.maps
        salt '*' multipath.maps source=/tmp/bundle/multipath-ll.txt
    """
    text = hostnode_files.read_source(source) if source else _topology()
    try:
        return hostnode_multipath.parse_ll(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{source or 'multipath -ll'}: {exc}") from None


def _topology():
    if not salt.utils.path.which("multipath"):
        raise CommandExecutionError("multipath is not installed (package multipath-tools)")
    try:
        return _run(["multipath", "-ll"])
    except CommandExecutionError as exc:
        if hostnode_multipath.NO_DRIVER in str(exc):
            return ""  # no dm-multipath in this kernel: no maps
        raise


def health(min_paths=1, source=None):
    """
    Per map ``{paths, active, failed, healthy}``; ``failed`` lists the failed paths by device
    name (or H:C:T:L when the kernel has no device for the path).

    min_paths
        The number of active paths below which a map is not healthy (default 1).

    CLI Example:

    .. code-block:: bash

        salt '*' multipath.health min_paths=2
        salt '*' multipath.health source=/tmp/bundle/multipath-ll.txt
    """
    return hostnode_multipath.health(maps(source), _min_paths(min_paths))


def _min_paths(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SaltInvocationError(f"min_paths: {value!r} is not a whole number of 1 or more")
    return value


def events(previous=None, min_paths=1, source=None):
    """
    What the ``multipath`` beacon reports since previous, the ``health`` of an earlier call:
    per map ``lost`` with the paths that failed since then, ``regained`` with those that came
    back. Returns ``{"health": ..., "events": [...]}``; without previous, no events.

    CLI Example:

    .. code-block:: bash

        salt '*' multipath.events min_paths=2
    """
    now = health(min_paths, source)
    found = [] if previous is None else hostnode_multipath.events(previous, now)
    return {"health": now, "events": found}


def write_metrics(path, min_paths=1, source=None):
    """
    Write the maps' and paths' state as a Prometheus textfile for node_exporter's textfile
    collector (atomically, mode 0644): per map its paths, active and failed paths and health,
    per path whether it failed and its dm, checker and device states, per path group its
    priority and status.

    CLI Example:

    .. code-block:: bash

        salt '*' multipath.write_metrics /var/lib/prometheus/node-exporter/hostnode_multipath.prom
    """
    if not isinstance(path, str) or not path.endswith(".prom") or not os.path.isabs(path):
        raise SaltInvocationError(f"path: {path!r} must be an absolute path ending in .prom")
    min_paths = _min_paths(min_paths)
    text = hostnode_multipath.render_metrics(maps(source), min_paths)
    hostnode_files.replace(path, text, mode=0o644)
    return {"path": path, "samples": sum(1 for line in text.splitlines() if line[:1] != "#")}
