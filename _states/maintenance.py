"""
One step of a node's maintenance, as formulas/node/maintenance.sls runs it through
formulas/node/maintenance_step.sls on the node that runs the step (the Ganeti master for the
Ganeti steps, the node itself for the Ceph steps, each node of its Ganeti cluster for DRBD).
test=True lists the commands (or checks) of the step and runs nothing.

.. code-block:: yaml

    hostnode-maintenance-step:
      maintenance.step:
        - name: hv2.ams1.example.net
        - step: ganeti_drain
        - settings: {targets: [hv2.ams1.example.net], failover: true}
"""

from salt.exceptions import SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import maintenance as hostnode_maintenance
from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "maintenance"


def __virtual__():
    if "maintenance.ganeti_drain" not in __salt__:
        return (False, __salt__.value().missing_fun_string("maintenance.ganeti_drain"))
    return __virtualname__


def step(name, step, settings, osds=None):
    """
    The step of the maintenance of node name (ganeti_gate, drbd_gate, ganeti_drain,
    ganeti_return, drbd_synced, rebalance, ceph_gate, ceph_drain, ceph_return, ceph_healthy),
    with the maintenance settings (pillar ``hostnode_maintenance``, checked again here) and,
    for the Ceph steps, the ids of name's OSDs.

    .. code-block:: yaml

        hostnode-maintenance-step:
          maintenance.step:
            - name: stor1.ams1.example.net
            - step: ceph_drain
            - settings: {targets: [stor1.ams1.example.net]}
            - osds: [0, 1]
    """

    def converge(test):
        try:
            checked = hostnode_maintenance.settings(settings)
        except ValueError as exc:
            raise SaltInvocationError(str(exc)) from None
        allowed, settle = checked["ceph_allowed_warnings"], checked["settle_timeout"]
        run = {
            "ganeti_gate": lambda: __salt__["maintenance.ganeti_gate"](name, test=test),
            "drbd_gate": lambda: __salt__["maintenance.drbd_synced"](0, test=test),
            "ganeti_drain": lambda: __salt__["maintenance.ganeti_drain"](
                name, checked["failover"], test=test
            ),
            "ganeti_return": lambda: __salt__["maintenance.ganeti_return"](name, settle, test),
            "drbd_synced": lambda: __salt__["maintenance.drbd_synced"](settle, test=test),
            "rebalance": lambda: __salt__["maintenance.rebalance"](test=test),
            "ceph_gate": lambda: __salt__["maintenance.ceph_gate"](osds, allowed, test=test),
            "ceph_drain": lambda: __salt__["maintenance.ceph_drain"](osds, test=test),
            "ceph_return": lambda: __salt__["maintenance.ceph_return"](osds, settle, test=test),
            "ceph_healthy": lambda: __salt__["maintenance.ceph_healthy"](allowed, settle, test),
        }
        if step not in run:
            raise SaltInvocationError(f"step: {step!r} is not one of {', '.join(run)}")
        return run[step]()

    return hostnode_state.run(name, converge, bool(__opts__["test"]), f"{name}: {step}")
