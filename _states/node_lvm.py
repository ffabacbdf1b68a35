"""
The node's LVM volume group for instance disks, as the node formula applies it (see the
``node_lvm`` execution module). test=True predicts exactly what a real run changes.

.. code-block:: yaml

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
