"""
Grains of a node: what ``kvm-ok`` would tell, read from /dev and /proc without a subprocess,
and the node's hostnode roles::

    hostnode_kvm: {device: true, cpu_flags: [], vendor: intel, nested: null, usable: false}
    hostnode_roles: [hypervisor]

``usable`` is honest: a ``/dev/kvm`` without vmx/svm in the CPU flags (a paravirtualised
backend, as on some CI machines) cannot run a stock guest kernel with hardware acceleration.
"""

import os

import yaml

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


def hostnode_roles():
    """
    The node's roles: the static ``roles`` grain (the minion config's ``grains`` option, then
    the grains file beside it), then the pillar list ``hostnode:roles`` where the minion has
    compiled its pillar already (a new minion sees it from its first grains refresh).
    """
    roles = []
    pillar = (__opts__.get("pillar") or {}).get("hostnode") or {}
    for value in ((__opts__.get("grains") or {}).get("roles"), _grains_file().get("roles"),
                  pillar.get("roles")):  # fmt: skip
        for role in value if isinstance(value, list) else [value] if value else []:
            if isinstance(role, str) and role not in roles:
                roles.append(role)
    return {"hostnode_roles": roles}


def _grains_file():
    conf_file = __opts__.get("conf_file")
    if not conf_file:
        return {}
    folder = conf_file if os.path.isdir(conf_file) else os.path.dirname(conf_file)
    try:
        data = yaml.safe_load(_read(os.path.join(folder, "grains")) or "")
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}
