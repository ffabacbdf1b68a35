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

OSD_SIGNATURE = "ceph_bluestore"


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
                "offset": int(item["offset"], 16),
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


def mounted_devices(mountinfo):
    """The ``major:minor`` of every mounted block device, from /proc/self/mountinfo's text."""
    mounted = set()
    for number, line in enumerate(mountinfo.splitlines(), 1):
        fields = line.split()
        if len(fields) < 3 or ":" not in fields[2]:
            raise ValueError(f"line {number}: not a mountinfo line: {line!r}")
        mounted.add(fields[2])
    return mounted


def verdict(device, facts, cluster_fsid, force=False):
    """
    Whether device may be written, from what was read about it::

        facts: {"signatures": parse_wipefs(...), "devnums": [its and its partitions'
                major:minor], "mounted": mounted_devices(...), "holders": [names],
                "osd_fsid"/"osd_cluster_fsid": from the bluestore label, or None}

    gives ``{"device", "writable": bool, "reason": None or why not, "osd": "ours" when it
    already is an OSD of cluster_fsid, else None}``.
    """
    busy = sorted(set(facts["devnums"]) & facts["mounted"])
    if busy:
        return _no(device, f"{device} is mounted (device {', '.join(busy)})")
    if facts["holders"]:
        return _no(device, f"{device} is in use by {', '.join(sorted(facts['holders']))}")
    kinds = sorted({signature["type"] for signature in facts["signatures"]})
    if kinds == [OSD_SIGNATURE]:
        owner = facts.get("osd_cluster_fsid")
        if owner == cluster_fsid:
            return {"device": device, "writable": False, "reason": None, "osd": "ours"}
        if not force:
            return _no(device, f"{device} holds an OSD of another cluster (fsid {owner})")
    elif kinds and not force:
        return _no(device, f"{device} holds {', '.join(kinds)} (force: true to overwrite)")
    return {"device": device, "writable": True, "reason": None, "osd": None}


def _no(device, reason):
    return {"device": device, "writable": False, "reason": reason, "osd": None}
