"""
OpenVZ beancounters as states: container limits, and a check that no container fails more.

.. code-block:: yaml

    hostnode-openvz-limits:
      beancounters.limits:
        - containers:
            101: {tcpsndbuf: "1720320:2703360", numproc: 400}

    hostnode-openvz-no-new-failures:
      beancounters.no_new_failures

``limits`` changes only what differs, with one ``vzctl set <ctid> --save`` per container;
test=True predicts exactly those changes.
"""

from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import beancounters as hostnode_beancounters
from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "beancounters"


def __virtual__():
    if "beancounters.read" not in __salt__:
        return (False, __salt__.value().missing_fun_string("beancounters.read"))
    return __virtualname__


def limits(name, containers):
    """
    Give each container its limits, ``{ctid: {resource: "barrier:limit"}}`` (``unlimited``
    allowed; a single value means barrier = limit).

    .. code-block:: yaml

        openvz-limits:
          beancounters.limits:
            - containers:
                101: {tcpsndbuf: "1720320:2703360"}
                102: {numproc: "unlimited"}
    """

    def converge(test):
        if not isinstance(containers, dict):
            raise SaltInvocationError(f"containers: expected {{ctid: {{...}}}}, got {containers!r}")
        changes = {}
        for ctid, wanted in sorted(containers.items(), key=lambda item: str(item[0])):
            changed = __salt__["beancounters.set_limits"](ctid, wanted, test=test)
            if changed:
                changes[str(ctid)] = changed
        return changes

    return hostnode_state.run(name, converge, bool(__opts__["test"]), "Container limits")


def no_new_failures(name, source=None):
    """
    A check: fails, naming the containers and resources, when a failcnt grew since the last
    run of this state (its baseline is kept per state name in the minion's cache). test=True
    gives the same answer without moving the baseline.

    .. code-block:: yaml

        openvz-no-new-failures:
          beancounters.no_new_failures
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    baseline = hostnode_beancounters.baseline_name(name)
    try:
        grown = __salt__["beancounters.delta"](
            source=source, name=baseline, keep=bool(__opts__["test"])
        )
    except (CommandExecutionError, SaltInvocationError) as exc:
        return {**ret, "result": False, "comment": str(exc)}
    if not grown:
        return {**ret, "comment": "No container's failcnt grew since the last run"}
    failing = ", ".join(
        f"{ctid}: {', '.join(f'{r} +{n}' for r, n in sorted(res.items()))}"
        for ctid, res in sorted(grown.items())
    )
    return {**ret, "result": False, "comment": f"failcnt grew: {failing}"}
