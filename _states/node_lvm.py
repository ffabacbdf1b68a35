"""
The node's LVM volume group for instance disks and the host's LVM filter, as the node formula
applies them (see the ``node_lvm`` execution module). test=True predicts exactly what a real
run changes.

.. code-block:: yaml

    hostnode-node-lvm-filter:
      node_lvm.global_filter:
        - vg: xenvg

    xenvg:
      node_lvm.volume_group:
        - devices: [/dev/sdb]
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "node_lvm"


def __virtual__():
    if "node_lvm.volume_group" not in __salt__:
        return (False, __salt__.value().missing_fun_string("node_lvm.volume_group"))
    return __virtualname__


def _test():
    return bool(__opts__["test"])


def volume_group(name, devices):
    """
    The volume group name holding devices (created or extended; never reduced).

    .. code-block:: yaml

        xenvg:
          node_lvm.volume_group:
            - devices:
                - /dev/disk/by-id/ata-EXAMPLE-1
                - {device: /dev/sdc, force: true}
    """
    return hostnode_state.run(
        name, lambda test: __salt__["node_lvm.volume_group"](name, devices, test=test), _test(),
        f"Volume group {name}",
    )  # fmt: skip


def global_filter(name, vg=None, reject_drbd=True, reject_instance_disks=True, reject=None):
    """
    The host's LVM filter in /etc/lvm/lvmlocal.conf: DRBD devices, vg's logical volumes and
    the reject regexes are never scanned nor activated by the host's LVM.

    .. code-block:: yaml

        hostnode-node-lvm-filter:
          node_lvm.global_filter:
            - vg: xenvg
            - reject: ['^/dev/nbd']
    """

    def converge(test):
        return __salt__["node_lvm.global_filter"](
            vg, reject_drbd, reject_instance_disks, reject, test=test
        )

    return hostnode_state.run(name, converge, _test(), "The LVM filter")
