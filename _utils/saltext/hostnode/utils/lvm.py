"""
The host's LVM filter: which block devices LVM on the node never scans nor activates.

A hypervisor's instance disks are logical volumes of its volume group, and its DRBD devices
carry those disks: a guest that makes a volume group inside its disk must never have that VG
seen, activated or changed by the host. LVM's ``devices/global_filter`` (lvm.conf(5)) hides
devices from every LVM command and from udev's event activation (``pvscan --cache``).

A device has several names (``/dev/dm-3``, ``/dev/mapper/xenvg-disk0``, ``/dev/xenvg/disk0``):
LVM accepts it when any name meets an ``a`` pattern first, rejects it when every name that
meets a pattern meets an ``r`` pattern first, and accepts a device none of whose names meets
any pattern. So the filter holds ``r`` patterns only: a final ``a|.*|`` would accept every LV
again by its ``/dev/dm-N`` name.
"""

import re

from salt.exceptions import SaltInvocationError

LVMLOCAL_FILE = "etc/lvm/lvmlocal.conf"
_VG_NAME = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9_+.-]{0,126}$")
# The characters of a pattern that hostnode writes between "r|" and "|" in a quoted string.
_PATTERN_FORBIDDEN = re.compile(r'[|"\\\x00-\x1f\x7f]')
DRBD_PATTERN = "^/dev/drbd"


def vg_name(value, field):
    """value when it is an LVM volume group name (letters, digits and ``+_.-``, starting with
    none of ``.-``), else SaltInvocationError naming field."""
    if not isinstance(value, str) or not _VG_NAME.match(value):
        raise SaltInvocationError(f"{field}: {value!r} is not a volume group name")
    return value


def _literal(text):
    """text as a regex of LVM's matcher: the only metacharacters a VG name holds are . and +."""
    return re.sub(r"([.+])", r"[\1]", text)


def instance_disk_patterns(vg):
    """
    The names of vg's logical volumes (and of the partitions kpartx maps on them): the
    ``/dev/<vg>/`` links and the device-mapper names, where each ``-`` of the VG (and LV) name is
    doubled and one ``-`` separates them (an LV name never starts with ``-``)::

        instance_disk_patterns("xen-vg") == ["^/dev/xen-vg/", "^/dev/mapper/xen--vg-[^-]"]
    """
    return [f"^/dev/{_literal(vg)}/", f"^/dev/mapper/{_literal(vg.replace('-', '--'))}-[^-]"]


def filter_patterns(vg, reject_drbd, reject_instance_disks, reject, prefix=""):
    """
    The reject patterns of the filter, in order: DRBD devices (reject_drbd), vg's logical
    volumes (reject_instance_disks) and reject (regexes of LVM's own syntax); none means no
    filter. prefix names the mapping in errors (``hostnode:node:lvm:filter:`` for the pillar).
    """
    for key, value in (
        ("reject_drbd", reject_drbd),
        ("reject_instance_disks", reject_instance_disks),
    ):
        if not isinstance(value, bool):
            raise SaltInvocationError(f"{prefix}{key}: must be true or false")
    patterns = [DRBD_PATTERN] if reject_drbd else []
    if reject_instance_disks:
        if vg is None:
            raise SaltInvocationError(
                f"{prefix}reject_instance_disks: needs the volume group of the instance disks"
            )
        patterns += instance_disk_patterns(vg)
    if not isinstance(reject, list):
        raise SaltInvocationError(f"{prefix}reject: a list of regular expressions")
    for index, pattern in enumerate(reject):
        if not isinstance(pattern, str) or not pattern or _PATTERN_FORBIDDEN.search(pattern):
            raise SaltInvocationError(
                f"{prefix}reject:{index}: {pattern!r} is not a regular expression hostnode "
                'writes: no |, ", backslash or control characters (a literal dot is [.])'
            )
        if pattern not in patterns:
            patterns.append(pattern)
    return patterns


def render_lvmlocal(patterns, header):
    """
    lvmlocal.conf holding the filter. LVM reads it after lvm.conf and honours every section
    in it, so its settings win. The filter holds while no devices file is used:
    ``use_devicesfile = 1`` makes LVM ignore global_filter, so the file pins it to 0 (Debian
    12's lvm2 2.03.16 defaults to 0 already).
    """
    quoted = ", ".join(f'"r|{pattern}|"' for pattern in patterns)
    return (
        f"# {header}\n"
        "# The node's LVM never scans nor activates the volume groups inside instance disks and\n"
        "# DRBD devices: every name of such a device is rejected (docs/node-bootstrap.md).\n"
        "devices {\n"
        "\tuse_devicesfile = 0\n"
        f"\tglobal_filter = [ {quoted} ]\n"
        "}\n"
    )


def has_settings(text):
    """Whether a config file's text holds anything but comments and blank lines."""
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def parse_lvmconfig(text):
    """
    The settings ``lvmconfig`` prints for a configuration, as ``{"section/key": value text}``::

        devices {
        \tglobal_filter=["r|^/dev/drbd|"]
        }

    gives ``{"devices/global_filter": '["r|^/dev/drbd|"]'}``; an empty section gives nothing.
    """
    settings, section = {}, []
    for number, line in enumerate((raw.strip() for raw in text.splitlines()), start=1):
        if line.endswith("{"):
            section.append(line[:-1].strip())
        elif line == "}" and section:
            section.pop()
        elif "=" in line and section:
            key, value = line.split("=", 1)
            settings["/".join([*section, key.strip()])] = value.strip()
        elif line:
            raise ValueError(f"line {number}: not lvmconfig output: {line[:40]!r}")
    if section:
        raise ValueError(f"line {len(text.splitlines())}: not lvmconfig output: unclosed section")
    return settings
