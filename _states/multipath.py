"""
dm-multipath as a check state: every map has all its paths, or the state fails naming the
failed ones.

.. code-block:: yaml

    hostnode-storage-multipath-healthy:
      multipath.healthy:
        - min_paths: 2
"""

from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "multipath"


def __virtual__():
    if "multipath.health" not in __salt__:
        return (False, "multipath: the multipath execution module is not available")
    return __virtualname__


def healthy(name, min_paths=1, maps=None, source=None):
    """
    A check: True when every map (or every map of ``maps``) has no failed path and at least
    min_paths active ones; False with the failed paths in the comment. It changes nothing, so
    test=True gives the same answer.

    .. code-block:: yaml

        san-paths:
          multipath.healthy:
            - min_paths: 2
            - maps: [mpatha]
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        report = __salt__["multipath.health"](min_paths, source)
    except (CommandExecutionError, SaltInvocationError) as exc:
        return {**ret, "result": False, "comment": str(exc)}
    wanted = maps or sorted(report)
    missing = [m for m in wanted if m not in report]
    sick = {m: report[m] for m in wanted if m in report and not report[m]["healthy"]}
    problems = [f"{m}: no such map" for m in missing] + [
        f"{m}: {h['active']}/{h['paths']} active, failed: {', '.join(h['failed']) or 'none'}"
        for m, h in sorted(sick.items())
    ]
    if problems:
        return {**ret, "result": False, "comment": "; ".join(problems)}
    return {
        **ret,
        "comment": f"{len(wanted)} map(s) healthy with at least {min_paths} active paths",
    }
