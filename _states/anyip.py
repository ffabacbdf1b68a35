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

from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "anyip"


def __virtual__():
    if "anyip.converge" not in __salt__:
        return (False, "anyip: the anyip execution module is not available")
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
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    wanted = [name] if prefixes is None else prefixes
    test = bool(__opts__["test"])
    try:
        changes = __salt__["anyip.converge"](wanted, device, mode, persist, backend, test=test)
    except (CommandExecutionError, SaltInvocationError) as exc:
        ret.update(result=False, comment=str(exc), changes=getattr(exc, "info", None) or {})
        return ret
    ret["changes"] = changes
    if not changes:
        ret["comment"] = f"AnyIP routes on {device} are already in the wanted state"
    elif test:
        ret.update(result=None, comment=f"AnyIP routes on {device} would be changed")
    else:
        ret["comment"] = f"AnyIP routes on {device} changed"
    return ret
