"""
dm-multipath: ``/etc/multipath.conf`` from pillar (``configured``), and a check state that every
map has all its paths (``healthy``), failing with the failed ones named.

.. code-block:: yaml

    hostnode-storage-net-multipath-conf:
      multipath.configured:
        - config:
            defaults: {user_friendly_names: true, find_multipaths: "off"}
            multipaths: [{wwid: 36001405584..., alias: san-lun0}]

    hostnode-storage-net-multipath-healthy:
      multipath.healthy:
        - min_paths: 2
"""

from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state
from saltext.hostnode.utils import validate as hostnode_validate

__virtualname__ = "multipath"


def __virtual__():
    if "multipath.health" not in __salt__:
        return (False, __salt__.value().missing_fun_string("multipath.health"))
    return __virtualname__


def configured(name, config):
    """
    The file name (``/etc/multipath.conf``, or a drop-in ``/etc/multipath/conf.d/<x>.conf``)
    holds config (multipath.conf(5) sections as a mapping), checked by ``multipath -t`` before
    it is written; a running multipathd rereads it, only on a change.

    .. code-block:: yaml

        /etc/multipath.conf:
          multipath.configured:
            - config:
                defaults: {user_friendly_names: true, polling_interval: 5}
                blacklist: {devnode: ["^vd[a-z]"]}
                devices:
                  - {vendor: EQLOGIC, product: "100E-00", path_grouping_policy: multibus}
    """

    def converge(test):
        return __salt__["multipath.configure"](config, name, test=test)

    return hostnode_state.run(name, converge, bool(__opts__["test"]), "multipath.conf")


def healthy(name, min_paths=1, maps=None, min_maps=0, source=None):
    """
    A check: True when every map (or every map of ``maps``) has no failed path and at least
    min_paths active ones; False with the failed paths in the comment. It changes nothing, so
    test=True gives the same answer. min_maps: fewer maps than that is False too (a node whose
    sessions are up but whose maps never formed is not healthy); in test mode that alone is
    None, as the run's logins may yet bring them.

    .. code-block:: yaml

        san-paths:
          multipath.healthy:
            - min_paths: 2
            - maps: [mpatha]
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        maps = hostnode_validate.as_list(maps, "maps")
        hostnode_validate.whole_number(min_maps, "min_maps")
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
    if len(report) < min_maps:
        comment = f"{len(report)} map(s), {min_maps} expected"
        if __opts__["test"]:  # the run's logins may yet bring the maps
            return {**ret, "result": None, "comment": f"{comment}; checked again by a real run"}
        return {**ret, "result": False, "comment": comment}
    return {
        **ret,
        "comment": f"{len(wanted)} map(s) healthy with at least {min_paths} active paths",
    }
