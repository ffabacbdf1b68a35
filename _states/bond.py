"""
A bond's MAC pinned, live and across reboots, whatever order its slaves are enslaved in.

.. code-block:: yaml

    hostnode-bonding-bond0-mac:
      bond.mac_pinned:
        - name: bond0
        - mac: first-slave
        - slaves: [eth0, eth1]

``mac`` is an explicit unicast MAC, ``first-slave`` (the permanent MAC of the first of
``slaves``) or ``stable`` (derived from the node's machine-id, or ``seed``, and the bond name).
The MAC is set on the bond and persisted for the network backend (``backend``: ``ifupdown``,
``netplan``, ``networkd``; detected when not given). test=True predicts exactly the changes a
real run makes. ``bond.lacp_healthy`` is a check of an 802.3ad bond's LACP health.
"""

from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "bond"


def __virtual__():
    if "bond.pin_mac" not in __salt__:
        return (False, __salt__.value().missing_fun_string("bond.pin_mac"))
    return __virtualname__


def mac_pinned(name, mac="stable", slaves=None, seed=None, persist=True, backend=None):
    """
    Pin the MAC of bond name.

    .. code-block:: yaml

        bond0:
          bond.mac_pinned:
            - mac: stable

        bond1:
          bond.mac_pinned:
            - mac: 02:00:5e:10:00:01
            - backend: netplan
    """

    def converge(test):
        return __salt__["bond.pin_mac"](name, mac, slaves, seed, persist, backend, test=test)

    return hostnode_state.run(name, converge, bool(__opts__["test"]), f"MAC settings of {name}")


def mac_unpinned(name):
    """
    Remove hostnode's boot-time MAC files of bond name (the live MAC stays).

    .. code-block:: yaml

        bond0:
          bond.mac_unpinned
    """

    def converge(test):
        return __salt__["bond.unpin"](name, test=test)

    return hostnode_state.run(
        name, converge, bool(__opts__["test"]), f"Boot-time MAC files of {name}"
    )


def lacp_healthy(name, source=None):
    """
    A check: fails, naming each problem, when the 802.3ad bond name has LACP problems (see
    ``bond.health``: no partner, a slave in another aggregator, missing ports, no active
    aggregator). Changes nothing; test=True gives the same answer.

    .. code-block:: yaml

        bond0:
          bond.lacp_healthy
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        report = __salt__["bond.health"](name, source=source)
    except (CommandExecutionError, SaltInvocationError) as exc:
        return {**ret, "result": False, "comment": str(exc)}
    if report["healthy"]:
        return {**ret, "comment": f"{name} has no LACP problem"}
    problems = "; ".join(problem["message"] for problem in report["problems"])
    return {**ret, "result": False, "comment": f"{name}: {problems}"}
