"""
A Ganeti cluster formed from pillar (see the ``ganeti`` execution module): initialised on the
master node, its hypervisor and disk parameters kept as pillar has them, the other nodes added
as members. Each state computes its commands once: test=True
lists exactly the commands a real run runs.

.. code-block:: yaml

    hostnode-ganeti-cluster:
      ganeti.cluster_initialized:
        - name: ganeti.ams1.example.net

    hostnode-ganeti-parameters:
      ganeti.cluster_parameters:
        - name: ganeti.ams1.example.net

    hostnode-ganeti-groups:
      ganeti.node_groups:
        - name: groups

    hostnode-ganeti-members:
      ganeti.node_member:
        - nodes: [hv2.ams1.example.net]

    hostnode-ganeti-joinable:
      ganeti.node_joinable:
        - name: hv2.ams1.example.net

No parameter of these states is one of Salt's own state arguments (``names`` would make the
state compiler run the state once per item, each for every node).
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "ganeti"


def __virtual__():
    if "ganeti.init_cluster" not in __salt__:
        return (False, __salt__.value().missing_fun_string("ganeti.init_cluster"))
    return __virtualname__


def _test():
    return bool(__opts__["test"])


def cluster_initialized(name, settings=None):
    """
    The cluster named name exists on this node (run it on the master node only); settings
    default to pillar ``hostnode:node:ganeti``. name must be their ``cluster_name``, and a node
    that holds another cluster is refused (see ``ganeti.init_cluster``).

    .. code-block:: yaml

        hostnode-ganeti-cluster:
          ganeti.cluster_initialized:
            - name: ganeti.ams1.example.net
    """
    return hostnode_state.run(
        name, lambda test: __salt__["ganeti.init_cluster"](settings, name, test=test), _test(),
        "The Ganeti cluster",
    )  # fmt: skip


def cluster_parameters(name, settings=None):
    """
    On the master of a running cluster named name: its hypervisor and disk parameters and its
    KVM CPU model as pillar has them (see ``ganeti.modify_cluster``), changed by one
    ``gnt-cluster modify`` of what differs; a CPU model change says why in the comment
    (``cpu_model``). Before the init it has nothing to do (the init sets them).

    .. code-block:: yaml

        hostnode-ganeti-parameters:
          ganeti.cluster_parameters:
            - name: ganeti.ams1.example.net
    """
    changes = {}

    def converge(test):
        changes.update(__salt__["ganeti.modify_cluster"](settings, test=test))
        return changes

    def notes():
        return changes.get("cpu_model", [])

    return hostnode_state.run(name, converge, _test(), "The Ganeti cluster parameters", notes)


def node_groups(name, settings=None):
    """
    On the master: pillar's node groups exist and each member node that ``node_groups`` names
    is in its group (see ``ganeti.assign_groups``). Run it before ``node_member``, which adds
    new nodes into their groups.

    .. code-block:: yaml

        hostnode-ganeti-groups:
          ganeti.node_groups:
            - name: groups
    """
    return hostnode_state.run(
        name, lambda test: __salt__["ganeti.assign_groups"](settings, test=test), _test(),
        "The Ganeti node groups",
    )  # fmt: skip


def node_member(name, nodes=None, settings=None):
    """
    On the master: each of nodes (default: pillar ``hostnode:node:ganeti:nodes``) is a member,
    added with host key checking on, its host keys taken from the Salt mine into Ganeti's
    known_hosts first (see ``ganeti.add_node``): a node without them is refused. A node that
    cannot run the cluster's KVM CPU model is added, and the comment says so (``cpu_model``).

    .. code-block:: yaml

        hostnode-ganeti-members:
          ganeti.node_member:
            - nodes: [hv2.ams1.example.net, hv3.ams1.example.net]
    """
    changes = {}

    def converge(test):
        changes.update(__salt__["ganeti.add_node"](nodes, settings, test=test))
        return changes

    def notes():
        return changes.get("cpu_model", [])

    return hostnode_state.run(name, converge, _test(), "The Ganeti members", notes)


def node_joinable(name, settings=None):
    """
    On a node that is to join (name: its FQDN, for the record): the replication path to the
    master carries the pillar's MTU unfragmented (``ganeti.replication_check``, which runs under
    test=True as well: it changes nothing), then root's authorized_keys holds the master's root
    key from the Salt mine (``ganeti.authorize_master``). A failed check authorizes nothing.

    .. code-block:: yaml

        hostnode-ganeti-joinable:
          ganeti.node_joinable:
            - name: hv2.ams1.example.net
    """

    def converge(test):
        __salt__["ganeti.replication_check"](settings)
        return __salt__["ganeti.authorize_master"](settings, test=test)

    return hostnode_state.run(name, converge, _test(), "The node's join prerequisites")
