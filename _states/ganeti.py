"""
A Ganeti cluster formed from pillar (see the ``ganeti`` execution module): initialised on the
master node, the other nodes added as members. Each state computes its commands once: test=True
lists exactly the commands a real run runs.

.. code-block:: yaml

    hostnode-ganeti-cluster:
      ganeti.cluster_initialized:
        - name: ganeti.ams1.example.net

    hostnode-ganeti-members:
      ganeti.node_member:
        - names: [hv2.ams1.example.net]
"""

import hostnode_state

__virtualname__ = "ganeti"


def __virtual__():
    if "ganeti.init_cluster" not in __salt__:
        return (False, __salt__.value().missing_fun_string("ganeti.init_cluster"))
    return __virtualname__


def _test():
    return bool(__opts__["test"])


def cluster_initialized(name, settings=None):
    """
    The cluster exists on this node (run it on the master node only); settings default to
    pillar ``hostnode:node:ganeti``.

    .. code-block:: yaml

        hostnode-ganeti-cluster:
          ganeti.cluster_initialized:
            - name: ganeti.ams1.example.net
    """
    return hostnode_state.run(
        name, lambda test: __salt__["ganeti.init_cluster"](settings, test=test), _test(),
        "The Ganeti cluster",
    )  # fmt: skip


def node_member(name, names=None, settings=None):
    """
    On the master: each of names (default: pillar ``hostnode:node:ganeti:nodes``) is a member.

    .. code-block:: yaml

        hostnode-ganeti-members:
          ganeti.node_member:
            - names: [hv2.ams1.example.net, hv3.ams1.example.net]
    """
    return hostnode_state.run(
        name, lambda test: __salt__["ganeti.add_node"](names, settings, test=test), _test(),
        "The Ganeti members",
    )  # fmt: skip
