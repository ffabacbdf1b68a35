"""
Whether a block device may be written: hostnode reads the signatures on the disk itself (wipefs,
which probes with libblkid) and the kernel's view of who uses it, rather than trusting the tool
that is about to write.

A device is refused when it holds a partition table, a filesystem, an LVM or RAID member, a
Ceph OSD of another cluster, or anything else wipefs recognises; when it or one of its
partitions is mounted; or when the kernel has holders on it (device-mapper, md). ``force``
overrides the signatures of one device, never a mount or a holder.
"""

import json
import os
import re

OSD_SIGNATURE = "ceph_bluestore"
LVM_SIGNATURE = "LVM2_member"
# How a refusal for content ends: force may override it, or (a device force does not apply
# to) only its owner can.
FORCE_HINT = " (force: true to overwrite)"
WIPE_HINT = " (wipe it yourself)"


def parse_wipefs(text):
    """
    The signatures of ``wipefs --no-act --json DEVICE`` (nothing printed, or an empty list, for
    a blank device)::

        {"signatures": [{"device": "loop1", "offset": "0x200", "type": "gpt",
                         "uuid": null, "label": null}]}

    give ``[{"offset": 512, "type": "gpt", "uuid": None, "label": None}]``.
    """
    if not text.strip():
        return []
    try:
        found = json.loads(text)["signatures"]
        return [
            {
                "offset": _offset(item["offset"]),
                "type": item["type"],
                "uuid": item["uuid"],
                "label": item["label"],
            }
            for item in found
        ]
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}: not wipefs JSON: {exc.msg}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not wipefs JSON signatures: missing or wrong {exc}") from None


def _offset(value):
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]+", value):
        raise ValueError(f"'offset': {value!r} is not a hex offset")
    return int(value, 16)


def mounted_devices(mountinfo):
    """The ``major:minor`` of every mounted block device, from /proc/self/mountinfo's text."""
    mounted = set()
    for number, line in enumerate(mountinfo.splitlines(), 1):
        fields = line.split()
        if len(fields) < 3 or ":" not in fields[2]:
            raise ValueError(f"line {number}: not a mountinfo line: {line!r}")
        mounted.add(fields[2])
    return mounted


def verdict(device, facts, cluster_fsid, force=False, forcible=True):
    """
    Whether device may be written, from what was read about it::

        facts: {"signatures": parse_wipefs(...), "devnums": [its and its partitions'
                major:minor], "mounted": mounted_devices(...), "holders": [names],
                "osd_cluster_fsid", "osd_id": from the bluestore label, or from the LV tags
                of the OSD whose physical volume it is (``lvm_osd: True``; None without one),
                "live_ids": the OSD ids the cluster has}

    gives ``{"device", "writable": bool, "reason": None or why not, "osd": "ours" when it
    already is a live OSD of cluster_fsid, else None}``. The LVs of a live LVM OSD of ours are
    its device's holders: they do not make it busy (it is left alone either way). An OSD of this
    cluster that was purged is refused like any other content: zapping it is a decision, not a
    side effect. forcible False: the refusal's hint does not offer force (a device that force
    does not apply to).
    """
    live = _live_osd_of(facts, cluster_fsid)
    own_holders = bool(live and facts.get("lvm_osd"))
    reason = _in_use(device, facts, own_holders) or (
        None if force else _content(device, facts, cluster_fsid, forcible)
    )
    ours = reason is None and live
    return {"device": device, "writable": reason is None and not ours, "reason": reason,
            "osd": "ours" if ours else None}  # fmt: skip


def _in_use(device, facts, own_holders=False):
    busy = sorted(set(facts["devnums"]) & facts["mounted"])
    if busy:
        return f"{device} is mounted (device {', '.join(busy)})"
    if facts["holders"] and not own_holders:
        return f"{device} is in use by {', '.join(sorted(facts['holders']))}"
    return None


def _kinds(facts):
    return sorted({signature["type"] for signature in facts["signatures"]})


def _osd_kinds(facts):
    return [LVM_SIGNATURE] if facts.get("lvm_osd") else [OSD_SIGNATURE]


def _live_osd_of(facts, cluster_fsid):
    whoami = facts.get("osd_id")
    return (_kinds(facts) == _osd_kinds(facts) and facts.get("osd_cluster_fsid") == cluster_fsid
            and whoami in facts.get("live_ids", {whoami}))  # fmt: skip


def _content(device, facts, cluster_fsid, forcible=True):
    kinds = _kinds(facts)
    if not kinds or _live_osd_of(facts, cluster_fsid):
        return None
    if kinds == _osd_kinds(facts):
        owner = facts.get("osd_cluster_fsid")
        if owner == cluster_fsid:
            return (f"{device} holds osd.{facts.get('osd_id')} of this cluster, which was "
                    f"purged ({'zap it, or force: true' if forcible else 'zap it'})")  # fmt: skip
        return f"{device} holds an OSD of another cluster (fsid {owner})"
    return f"{device} holds {', '.join(kinds)}{FORCE_HINT if forcible else WIPE_HINT}"


def block_facts(sysfs_block, name):
    """
    ``{"devnums", "holders"}`` of block device name from sysfs (``/sys/class/block``): the
    major:minor of the device and of its partitions, and the kernel's holders of the device.
    """
    block = os.path.join(sysfs_block, name)
    devnums = [_read_line(os.path.join(block, "dev"))]
    for entry in sorted(os.listdir(block)):
        if os.path.exists(os.path.join(block, entry, "partition")):
            devnums.append(_read_line(os.path.join(block, entry, "dev")))
    return {"devnums": devnums, "holders": sorted(os.listdir(os.path.join(block, "holders")))}


def _read_line(path):
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


# --- LVM physical volumes --------------------------------------------------------------------


def parse_pvs(text):
    """
    ``pvs --reportformat json -o pv_name,vg_name`` as ``{pv_name: vg_name or None}``::

        {"report": [{"pv": [{"pv_name": "/dev/loop0", "vg_name": "xenvg"}]}]}
    """
    try:
        reports = json.loads(text)["report"]
        if not isinstance(reports, list) or len(reports) != 1:
            raise ValueError(f"'report': {len(reports)} reports, expected 1")
        return {pv["pv_name"]: pv["vg_name"] or None for pv in reports[0]["pv"]}
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}: not pvs JSON: {exc.msg}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a pvs JSON report: missing or wrong {exc}") from None


def vg_verdict(device, facts, vg_of_device, vg, force=False):
    """
    Whether device may become a physical volume of vg: ``{"device", "writable", "reason",
    "member": True when it already is one}``. vg_of_device is the VG that LVM reports for it
    (None for none); a PV of another VG is refused even with force, since its VG would lose a
    disk. Other content follows ``verdict``'s rules.
    """
    if vg_of_device == vg:
        return {"device": device, "writable": False, "reason": None, "member": True}
    reason = _in_use(device, facts)
    if reason is None and vg_of_device:
        reason = f"{device} is a physical volume of volume group {vg_of_device}"
    if reason is None and not force and _kinds(facts):
        reason = f"{device} holds {', '.join(_kinds(facts))}{FORCE_HINT}"
    return {"device": device, "writable": reason is None, "reason": reason, "member": False}
