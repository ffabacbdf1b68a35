"""
dm-multipath: the maps of this node and the health of their paths.

``multipath.health`` answers what Nagios/Checkmk scripts parse ``multipath -ll`` for: per map,
how many paths there are, how many are active, which have failed (dm state ``failed`` or a
checker saying ``faulty``/``shaky``), and whether the map is healthy (no failed path and at
least ``min_paths`` active ones). Both functions also read a saved ``multipath -ll`` output
(``source=``) of any multipath-tools release, or of ``multipathd show maps json``, for support
bundles.
"""

import os
import re
import tempfile

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import command as hostnode_command
from saltext.hostnode.utils import files as hostnode_files
from saltext.hostnode.utils import multipath as hostnode_multipath
from saltext.hostnode.utils import multipath_conf as hostnode_multipath_conf

__virtualname__ = "multipath"
# Seconds a read (multipathd show ..., multipath -ll) may take: the beacon runs in the minion's
# main loop, and multipath -ll waits on path checkers exactly when paths fail.
READ_TIMEOUT = 10


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "multipath: dm-multipath exists on Linux only")
    return __virtualname__


def _run(argv, with_stderr=False, timeout=None):
    return hostnode_command.run(
        __salt__["cmd.run_all"], argv, timeout=timeout, with_stderr=with_stderr
    )


def maps(source=None, timeout=READ_TIMEOUT):
    """
    The multipath maps: ``name`` (alias, or wwid), ``wwid``, ``dm``, ``vendor``, ``product``,
    ``size``, ``features``, ``hwhandler`` and ``groups`` of ``{policy, prio, status, paths}``,
    each path ``{hctl, device, devnum, dm_state, checker, online}``. A running multipathd is
    asked (``multipathd show maps json``, its own view); without it, ``multipath -ll``.

    source
        Parse this saved ``multipath -ll`` output (either layout) or ``multipathd show maps
        json`` output instead.

    timeout
        Seconds each command may take (default 10); a command that takes longer is killed
        and the call fails (``multipath.events`` turns that into a ``timeout`` event).

    CLI Example:

    .. code-block:: bash

        salt '*' multipath.maps
        salt '*' multipath.maps source=/tmp/bundle/multipath-ll.txt
    """
    if source:
        what = "multipath -ll or multipathd show maps json output"
        return hostnode_files.parse_source(source, _parse_saved, what)
    timeout = _timeout(timeout)
    json_form = _multipathd_running(timeout)
    try:
        if json_form:
            text = _run(["multipathd", "show", "maps", "json"], timeout=timeout)
            return hostnode_multipath.parse_maps_json(text, *_sysfs_facts())
        return hostnode_multipath.parse_ll(_topology(timeout))
    except ValueError as exc:
        what = "multipathd show maps json" if json_form else "multipath -ll"
        raise CommandExecutionError(f"{what}: {exc}") from None


def _parse_saved(text):
    """Saved output of either command: the JSON is an object, multipath -ll never starts so."""
    if text.lstrip().startswith("{"):
        return hostnode_multipath.parse_maps_json(text)
    return hostnode_multipath.parse_ll(text)


def _topology(timeout):
    if not salt.utils.path.which("multipath"):
        raise CommandExecutionError("multipath is not installed (package multipath-tools)")
    try:
        return _run(["multipath", "-ll"], timeout=timeout)
    except CommandExecutionError as exc:
        if any(words in str(exc) for words in hostnode_multipath.NO_DRIVER):
            return ""  # no dm-multipath (or no device-mapper) in this kernel: no maps
        raise


def _sysfs_facts():
    """What the JSON lacks, from sysfs on a live node: {dm: sectors}, {device: H:C:T:L}."""
    sizes, hctls = {}, {}
    for name in os.listdir("/sys/block"):
        device = os.path.join("/sys/block", name)
        if name.startswith("dm-"):
            text = hostnode_files.read(os.path.join(device, "size")) or ""
            if text.strip().isdecimal():
                sizes[name] = int(text)
        elif os.path.exists(os.path.join(device, "device")):
            hctls[name] = os.path.basename(os.path.realpath(os.path.join(device, "device")))
    return sizes, hctls


def health(min_paths=1, source=None, timeout=READ_TIMEOUT):
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
    min_paths = _min_paths(min_paths)
    return hostnode_multipath.health(maps(source, timeout), min_paths)


def _min_paths(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SaltInvocationError(f"min_paths: {value!r} is not a whole number of 1 or more")
    return value


def _timeout(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise SaltInvocationError(f"timeout: {value!r} is not a number of seconds above 0")
    return value


def events(previous=None, min_paths=1, source=None, timeout=READ_TIMEOUT):
    """
    What the ``multipath`` beacon reports since previous, the ``health`` of an earlier call:
    per map ``lost`` with the paths that failed since then, ``regained`` with those that came
    back. Returns ``{"health": ..., "events": [...]}``; without previous, no events. A command
    that does not answer within timeout seconds is killed and reported as the one event
    ``{"tag": "timeout", "command", "timeout"}``, with previous kept as the health.

    CLI Example:

    .. code-block:: bash

        salt '*' multipath.events min_paths=2
    """
    return hostnode_command.events_since(
        previous, lambda: health(min_paths, source, timeout), hostnode_multipath.events
    )


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


# multipath -t reads /etc/multipath.conf and /etc/multipath/conf.d/*.conf (the paths are
# compiled in): show it the candidate at its path through an overlay on /etc in a private mount
# namespace, so the live /etc is never written.
_VALIDATE = (
    'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc'
    ' && mkdir -p "${2%/*}" && cp "$1/multipath.conf" "$2" && exec multipath -t'
)
# The files multipath-tools reads: the one it manages is one of these.
CONF = "/etc/multipath.conf"
_CONF_D = re.compile(r"^/etc/multipath/conf\.d/[A-Za-z0-9_.-]+\.conf$")


def configure(config, path=CONF, test=False):
    """
    Make path (under ``hostnode:config_root``) hold config rendered as multipath.conf(5),
    validated by ``multipath -t`` before it is written, and have a running multipathd reread
    it. Returns the changes: ``file`` (path and diff) and ``multipathd`` (``reconfigured``, or
    ``not running``); ``{}`` when the file already holds it.

    config
        Sections ``defaults``, ``blacklist``, ``blacklist_exceptions``, ``devices``,
        ``overrides``, ``multipaths``, as in multipath.conf(5) (see docs/iscsi-multipath.md).

    path
        ``/etc/multipath.conf`` (the default) or a drop-in ``/etc/multipath/conf.d/<name>.conf``:
        the files multipath-tools reads.

    CLI Example:

    .. code-block:: bash

        salt '*' multipath.configure '{defaults: {user_friendly_names: true}}' test=True
        salt '*' multipath.configure '{defaults: {polling_interval: 5}}' \
            path=/etc/multipath/conf.d/hostnode.conf test=True
    """
    try:
        text = hostnode_multipath_conf.render(config)
    except ValueError as exc:
        raise SaltInvocationError(str(exc)) from None
    if not isinstance(path, str) or not (path == CONF or _CONF_D.match(path)):
        raise SaltInvocationError(
            f"path: {path!r} is not {CONF} or /etc/multipath/conf.d/<name>.conf"
        )
    live, path = path, os.path.join(_config_root(), path.lstrip("/"))
    old = hostnode_files.read(path)
    if old == text:
        return {}
    _validate(text, live)
    running = _multipathd_running(READ_TIMEOUT)
    changes = {
        "file": {"path": path, "diff": hostnode_files.diff(path, old, text)},
        "multipathd": "reconfigured" if running else "not running",
    }
    if not test:
        hostnode_files.replace(path, text, mode=0o644)
        if running:
            _run(["multipathd", "reconfigure"])
    return changes


def _config_root():
    return __salt__["config.get"]("hostnode:config_root", "/") or "/"


def _validate(text, live):
    """Have ``multipath -t`` read text as the file live; its complaints refuse it."""
    if not salt.utils.path.which("multipath"):
        raise CommandExecutionError("multipath is not installed (package multipath-tools)")
    with tempfile.TemporaryDirectory(prefix="hostnode-multipath-") as scratch:
        for folder in ("upper", "work"):
            os.mkdir(os.path.join(scratch, folder))
        hostnode_files.replace(os.path.join(scratch, "multipath.conf"), text, mode=0o644)
        argv = ["unshare", "--mount", "--propagation", "private",
                "sh", "-c", _VALIDATE, "sh", scratch, live]  # fmt: skip
        _, stderr = _run(argv, with_stderr=True)
    found = hostnode_multipath_conf.problems(stderr)
    if found:
        raise SaltInvocationError("multipath -t rejects the configuration: " + "; ".join(found))


def _multipathd_running(timeout):
    """Whether multipathd answers; one that hangs raises CommandTimeout (it is not absent)."""
    if not salt.utils.path.which("multipathd"):
        return False
    try:
        _run(["multipathd", "show", "daemon"], timeout=timeout)
    except hostnode_command.CommandTimeout:
        raise
    except CommandExecutionError:
        return False
    return True
