"""
CephFS: the recursive statistics the MDS keeps for every directory (bytes, files, subdirectories,
entries and the newest change below it), read in one call from a mounted path, where ``du``
would walk the whole tree.
"""

import errno
import os

import salt.utils.platform
from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import ceph as hostnode_ceph

__virtualname__ = "cephfs"


def __virtual__():
    if not salt.utils.platform.is_linux():
        return (False, "cephfs: CephFS mounts exist on Linux only")
    return __virtualname__


def rstats(path):
    """
    ``{bytes, files, subdirs, entries, ctime}`` of directory path on a mounted CephFS (kernel
    client or ceph-fuse), from its ``ceph.dir.r*`` virtual xattrs. The MDS updates them lazily:
    a write shows after a few seconds.

    CLI Example:

    .. code-block:: bash

        salt 'fs*' cephfs.rstats /mnt/cephfs/projects
    """
    if not isinstance(path, str) or not os.path.isabs(path):
        raise SaltInvocationError(f"path: {path!r} must be an absolute path")
    if not os.path.isdir(path):
        raise SaltInvocationError(f"path: {path} is not a directory")
    values = {}
    for name in hostnode_ceph.RSTATS:
        try:
            values[name] = os.getxattr(path, f"ceph.dir.{name}")
        except OSError as exc:
            if exc.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise CommandExecutionError(
                    f"{path} is not on CephFS (no ceph.dir.{name})"
                ) from None
            raise CommandExecutionError(f"{path}: {exc.strerror}") from None
    try:
        return hostnode_ceph.parse_rstats(values)
    except ValueError as exc:
        raise CommandExecutionError(f"{path}: {exc}") from None
