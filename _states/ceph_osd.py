"""
Ceph OSDs on this host's devices: created where missing (``present``), removed only when the
cluster says their data is safe elsewhere (``absent``), all of this host's at once only when
named (``host_purged``). Only OSDs under this node's CRUSH host are ever removed.

.. code-block:: yaml

    hostnode-ceph-osd-devices:
      ceph_osd.present:
        - devices:
            - /dev/sdc
            - {device: /dev/sdd, db_device: /dev/nvme0n1p1, device_class: hdd}
        - expected_fsid: 4c0e1e0a-6d5e-4a39-9a49-0d2c3e1b7f10

test=True lists, per device, the exact commands a real run executes. A device holding a
partition table, a filesystem, LVM or an OSD of another cluster fails the state before anything
is written, unless that device says ``force: true``.
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "ceph_osd"


def __virtual__():
    if "ceph_osd.provision" not in __salt__:
        return (False, __salt__.value().missing_fun_string("ceph_osd.provision"))
    return __virtualname__


def present(name, devices, method="raw", dmcrypt=False, expected_fsid=None):
    """
    Every one of devices carries an OSD of this cluster.

    .. code-block:: yaml

        osds:
          ceph_osd.present:
            - devices: [/dev/sdc, /dev/sdd]
            - method: lvm
    """

    def converge(test):
        return __salt__["ceph_osd.provision"](devices, method, dmcrypt, expected_fsid, test=test)

    return hostnode_state.run(name, converge, bool(__opts__["test"]), "OSDs of this host")


def absent(name, osd_ids, zap=False, force=False, timeout=600):
    """
    osd_ids are gone from the cluster: each taken out, waited for until safe-to-destroy,
    stopped and purged (and its devices wiped with zap). Every one must be under this node's
    CRUSH host (``ceph_osd.crush_host``): one under another host fails the state, naming that
    host, before anything changes. An OSD the cluster cannot spare fails the state and is left
    in, unless force.

    .. code-block:: yaml

        retire-osd-3:
          ceph_osd.absent:
            - osd_ids: [3]
            - zap: true
    """

    def converge(test):
        return __salt__["ceph_osd.retire"](osd_ids, zap, force, timeout, test=test)

    return hostnode_state.run(name, converge, bool(__opts__["test"]), "OSDs of this host")


def host_purged(name, confirm, zap=False, force=False, timeout=600):
    """
    Every OSD of this node is gone from the cluster, each drained and purged as ``absent``
    does. confirm must be this node's CRUSH host name (``ceph_osd.crush_host``); anything else
    fails the state and nothing changes.

    .. code-block:: yaml

        purge-every-osd-of-stor1:
          ceph_osd.host_purged:
            - confirm: stor1
    """

    def converge(test):
        return __salt__["ceph_osd.purge_host"](confirm, zap, force, timeout, test=test)

    return hostnode_state.run(name, converge, bool(__opts__["test"]), "OSDs of this host")
