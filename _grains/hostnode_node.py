"""
Grains of a node: what ``kvm-ok`` would tell, read from /dev and /proc without a subprocess,
and the node's hostnode roles::

    hostnode_kvm: {device: true, cpu_flags: [], vendor: intel, nested: null, usable: false}
    hostnode_roles: [hypervisor]

``usable`` is honest: a ``/dev/kvm`` without vmx/svm in the CPU flags (a paravirtualised
backend, as on some CI machines) cannot run a stock guest kernel with hardware acceleration.
"""

import os

CPUINFO = "/proc/cpuinfo"
VENDORS = {"GenuineIntel": "intel", "AuthenticAMD": "amd"}
NESTED = {"intel": "/sys/module/kvm_intel/parameters/nested",
          "amd": "/sys/module/kvm_amd/parameters/nested"}  # fmt: skip


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _cpu_facts(cpuinfo):
    """``(vendor, virtualisation flags)`` of the first processor of /proc/cpuinfo's text."""
    vendor, flags = None, set()
    for line in (cpuinfo or "").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "vendor_id" and vendor is None:
            vendor = VENDORS.get(value.strip(), value.strip() or None)
        elif key == "flags" and not flags:
            flags = set(value.split()) & {"vmx", "svm"}
    return vendor, sorted(flags)


def hostnode_kvm():
    """Whether this node can run KVM guests with hardware virtualisation."""
    vendor, flags = _cpu_facts(_read(CPUINFO))
    nested_text = _read(NESTED.get(vendor, "")) if vendor in NESTED else None
    nested = None if nested_text is None else nested_text.strip() in ("Y", "1")
    device = os.path.exists("/dev/kvm")
    return {"hostnode_kvm": {"device": device, "cpu_flags": flags, "vendor": vendor,
                             "nested": nested, "usable": device and bool(flags)}}  # fmt: skip


def hostnode_roles(grains):
    """
    The node's roles: the ``roles`` grain, then the pillar list ``hostnode:roles`` where the
    minion has compiled its pillar already (a new minion sees it from its first refresh).
    """
    roles = []
    pillar = (__opts__.get("pillar") or {}).get("hostnode") or {}
    for value in (grains.get("roles"), pillar.get("roles")):
        for role in value if isinstance(value, list) else [value] if value else []:
            if isinstance(role, str) and role not in roles:
                roles.append(role)
    return {"hostnode_roles": roles}
