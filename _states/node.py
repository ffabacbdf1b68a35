"""
The node's identity and kernel settings, as the node formula applies them (see the ``node``
execution module; the bridges per VLAN have their own ``bridges`` states, the volume group
``node_lvm``'s). Each state computes its changes once: test=True predicts exactly what a real
run changes.

.. code-block:: yaml

    hostnode-node-hostname:
      node.hostname:
        - name: hv1.ams1.example.net
"""

from salt.exceptions import CommandExecutionError, SaltInvocationError

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "node"


def __virtual__():
    if "node.hostname" not in __salt__:
        return (False, __salt__.value().missing_fun_string("node.hostname"))
    return __virtualname__


def _test():
    return bool(__opts__["test"])


def hostname(name):
    """
    The node's FQDN, live and in /etc/hostname.

    .. code-block:: yaml

        hostnode-node-hostname:
          node.hostname:
            - name: hv1.ams1.example.net
    """
    return hostnode_state.run(
        name, lambda test: __salt__["node.hostname"](name, test=test), _test(), "The hostname"
    )


def hosts(name, entries):
    """
    hostnode's block of /etc/hosts: ``ip fqdn short`` per entry, the rest of the file kept.

    .. code-block:: yaml

        hostnode-node-hosts:
          node.hosts:
            - entries:
                hv1.ams1.example.net: 10.1.0.11
                ganeti.ams1.example.net: 10.1.0.10
    """

    def notes():
        shadowed = __salt__["node.hosts_shadowed"](entries)
        return [f"lines outside the block name our hosts otherwise: {shadowed}"] if shadowed else []

    return hostnode_state.run(
        name, lambda test: __salt__["node.hosts"](entries, test=test), _test(),
        "The hosts entries", notes,
    )  # fmt: skip


def kernel_modules(name, modules):
    """
    Kernel modules loaded at boot with their options, and now where the kernel has them.

    .. code-block:: yaml

        hostnode-node-kernel-modules:
          node.kernel_modules:
            - modules:
                drbd: {options: {minor_count: 255, usermode_helper: /bin/true}}
    """

    def notes():
        status = __salt__["node.kernel_modules_status"](modules)
        found = []
        if status["unavailable"]:
            found.append(f"not in the running kernel, loaded at boot once it has them: "
                         f"{', '.join(status['unavailable'])}")  # fmt: skip
        for module, options in sorted(status["option_mismatches"].items()):
            found.append(f"{module} is loaded with other options until it is reloaded: {options}")
        return found

    return hostnode_state.run(
        name, lambda test: __salt__["node.kernel_modules"](modules, test=test), _test(),
        "The kernel modules", notes,
    )  # fmt: skip


def sysctl(name, values):
    """
    The node's sysctl profile, live and in hostnode's sysctl.d file.

    .. code-block:: yaml

        hostnode-node-sysctl:
          node.sysctl:
            - values:
                vm.swappiness: 10
    """

    def notes():
        absent = __salt__["node.sysctl_absent_keys"](values)
        return [f"not in the running kernel, set at boot: {', '.join(absent)}"] if absent else []

    return hostnode_state.run(
        name, lambda test: __salt__["node.sysctl"](values, test=test), _test(),
        "The sysctl profile", notes,
    )  # fmt: skip


def preflight(name, settings, formulas=()):
    """
    The node's pillar passes ``node.preflight`` (its checks, the volume group's devices
    included); a refusal is this state failing with the message naming every offending key,
    and nothing changed. The node formula runs it first (``order: 1``) with ``failhard``, so
    a real highstate stops there; ``test=True`` ignores failhard (Salt's rule) and predicts the
    rest.

    .. code-block:: yaml

        hostnode-node-preflight:
          node.preflight:
            - settings: {fqdn: hv1.ams1.example.net, lvm: {vg: xenvg, devices: [/dev/sdb]}}
            - formulas: [node.bridges, storage_net]
            - order: 1
            - failhard: true
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": "The pillar passed the checks"}
    try:
        __salt__["node.preflight"](settings, formulas)
    except (CommandExecutionError, SaltInvocationError) as exc:
        ret.update(result=False, comment=getattr(exc, "error", None) or str(exc))
    return ret
