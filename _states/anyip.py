"""
AnyIP routes as states: whole prefixes local to the node, live and across reboots.

.. code-block:: yaml

    hostnode-anyip-routes:
      anyip.managed:
        - device: lo
        - prefixes:
          - 192.0.2.0/24
          - 2001:db8:100::/64

``present`` adds, ``absent`` removes, ``managed`` makes the AnyIP routes of the device exactly
the listed set (the kernel's own local routes are never touched). With ``persist: True`` (the
default) the routes are also written for the network backend (``backend``: ``ifupdown``,
``netplan``, ``networkd``, detected when not given). test=True predicts exactly the changes a
real run makes.
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "anyip"


def __virtual__():
    if "anyip.converge" not in __salt__:
        return (False, __salt__.value().missing_fun_string("anyip.converge"))
    return __virtualname__


def present(name, prefixes=None, device="lo", persist=True, backend=None):
    """
    Make the prefixes local on device (name is the prefix when prefixes is not given).

    .. code-block:: yaml

        192.0.2.0/24:
          anyip.present

        anycast-dns:
          anyip.present:
            - prefixes: [198.51.100.53/32, 2001:db8:53::/64]
            - backend: netplan
    """
    return _converge(name, prefixes, device, "present", persist, backend)


def absent(name, prefixes=None, device="lo", persist=True, backend=None):
    """
    Remove the AnyIP prefixes from device and from the persisted configuration.

    .. code-block:: yaml

        old-pool:
          anyip.absent:
            - prefixes: [192.0.2.0/24]
    """
    return _converge(name, prefixes, device, "absent", persist, backend)


def managed(name, prefixes, device="lo", persist=True, backend=None):
    """
    Make exactly these prefixes the AnyIP routes of device: add the missing ones, remove the
    others (an empty list removes them all, and the persisted file).

    .. code-block:: yaml

        hostnode-anyip-routes:
          anyip.managed:
            - prefixes: [192.0.2.0/24, 2001:db8:100::/64]
    """
    return _converge(name, prefixes, device, "managed", persist, backend)


def _converge(name, prefixes, device, mode, persist, backend):
    wanted = [name] if prefixes is None else prefixes

    def converge(test):
        return __salt__["anyip.converge"](wanted, device, mode, persist, backend, test=test)

    return hostnode_state.run(name, converge, bool(__opts__["test"]), f"AnyIP routes on {device}")
