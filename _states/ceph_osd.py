"""
Ceph OSDs on this host's devices: created where missing (``present``), removed only when the
cluster says their data is safe elsewhere (``absent``).

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

import hostnode_state
import hostnode_validate

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
    stopped and purged (and its devices wiped with zap). An OSD the cluster cannot spare fails
    the state and is left in, unless force.

    .. code-block:: yaml

        retire-osd-3:
          ceph_osd.absent:
            - osd_ids: [3]
            - zap: true
    """

    def converge(test):
        changes = {}
        for osd_id in hostnode_validate.as_list(osd_ids, "osd_ids"):
            done = __salt__["ceph_osd.remove"](osd_id, zap, force, timeout, test=test)
            if done:
                changes[f"osd.{done['osd_id']}"] = {"commands": done["commands"]}
        return changes

    return hostnode_state.run(name, converge, bool(__opts__["test"]), "OSDs of this host")
