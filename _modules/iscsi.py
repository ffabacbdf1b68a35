"""
open-iscsi initiator: discovery, node records and sessions, read the same way live and from
saved ``iscsiadm`` output (``source=``, for support bundles).

Portals are returned in one normal form, ``10.1.2.3:3260`` or ``[2001:db8::1]:3260``.
Discovery here never writes node records (``-o nonpersistent``), so looking at a target does not
reset the ``node.startup`` of records a state manages.
"""

import os

import salt.utils.path
import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import hostnode_command
import hostnode_files
import hostnode_iscsi

__virtualname__ = "iscsi"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "iscsi: open-iscsi exists on Linux only")
    return __virtualname__


def _run(argv):
    if not salt.utils.path.which(argv[0]):
        raise CommandExecutionError(f"{argv[0]} is not installed (package open-iscsi)")
    return hostnode_command.run(__salt__["cmd.run_all"], argv)


def _parsed(parser, argv, source, empty_when=None):
    if source:
        text = hostnode_files.read_source(source)
    else:
        try:
            text = _run(argv)
        except CommandExecutionError as exc:
            if empty_when and empty_when in str(exc):
                return []
            raise
    try:
        return parser(text)
    except ValueError as exc:
        raise CommandExecutionError(f"{source or ' '.join(argv)}: {exc}") from None


def discover(portal=None, source=None):
    """
    SendTargets discovery on portal: ``[{portal, tpgt, target}]``, without writing node records.

    source
        Parse this saved ``iscsiadm -m discovery -t sendtargets`` output instead.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.discover 192.0.2.10
        salt '*' iscsi.discover '[2001:db8::10]:3260'
        salt '*' iscsi.discover source=/tmp/bundle/discovery.txt
    """
    if source is None:
        portal = _portal(portal, "portal")
    argv = ["iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", portal or "",
            "-o", "nonpersistent"]  # fmt: skip
    return _parsed(hostnode_iscsi.parse_records, argv, source)


def _portal(value, field):
    try:
        return hostnode_iscsi.normal_portal(value)
    except ValueError as exc:
        raise SaltInvocationError(f"{field}: {exc}") from None


def nodes(source=None):
    """
    The node records (``iscsiadm -m node``): ``[{portal, tpgt, target}]``.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.nodes
    """
    argv = ["iscsiadm", "-m", "node"]
    return _parsed(hostnode_iscsi.parse_records, argv, source, "No records found")


def sessions(source=None):
    """
    The open sessions (``iscsiadm -m session``): ``[{sid, target, portal, tpgt, transport,
    flash}]``; ``[]`` when there are none.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.sessions
        salt '*' iscsi.sessions source=/tmp/bundle/iscsiadm-session.txt
    """
    argv = ["iscsiadm", "-m", "session"]
    return _parsed(hostnode_iscsi.parse_sessions, argv, source, "No active sessions")


def initiator_name():
    """
    The node's initiator IQN from ``/etc/iscsi/initiatorname.iscsi`` under
    ``hostnode:config_root``, or None when it has none.

    CLI Example:

    .. code-block:: bash

        salt '*' iscsi.initiator_name
    """
    root = __salt__["config.get"]("hostnode:config_root", "/") or "/"
    text = hostnode_files.read(os.path.join(root, "etc/iscsi/initiatorname.iscsi")) or ""
    return hostnode_iscsi.parse_initiator_name(text)
