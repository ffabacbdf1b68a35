"""
Ceph OSDs: one model for what ``ceph-volume lvm list`` and ``raw list`` print, the OSD tree, the
cluster's ok-to-stop and safe-to-destroy answers, and the commands that create and remove OSDs.

An OSD, whichever method made it::

    {"id": 0, "osd_fsid": "838e6b24-...", "cluster_fsid": "44cd092a-...", "method": "raw",
     "objectstore": "bluestore", "devices": ["/dev/loop0"], "db_device": None,
     "wal_device": None, "encrypted": False, "device_class": None}
"""

import errno
import json
import os


def _json(text, what):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what}: line {exc.lineno}: not JSON: {exc.msg}") from None


def parse_raw_list(text):
    """
    ``ceph-volume raw list --format json``, keyed by OSD fsid, ``osd_id`` an integer::

        {"838e6b24-...": {"ceph_fsid": "44cd092a-...", "device": "/dev/loop0",
                          "osd_id": 0, "osd_uuid": "838e6b24-...", "type": "bluestore"}}

    An OSD with a DB or WAL device lists it as ``device_db`` / ``device_wal``; such a device
    also gets an entry of its own, without ``osd_id`` and ``device``, which is skipped.
    """
    found = _json(text, "ceph-volume raw list")
    if not isinstance(found, dict):
        raise ValueError("ceph-volume raw list: not a mapping of OSD fsid to OSD")
    osds = []
    for fsid, item in found.items():
        if isinstance(item, dict) and "osd_id" not in item and "device" not in item:
            continue  # a DB or WAL device listed alone: its OSD is listed by its main device
        try:
            osds.append(
                {
                    "id": int(item["osd_id"]),
                    "osd_fsid": item["osd_uuid"],
                    "cluster_fsid": item["ceph_fsid"],
                    "method": "raw",
                    "objectstore": item["type"],
                    "devices": [item["device"]],
                    "db_device": item.get("device_db"),
                    "wal_device": item.get("device_wal"),
                    "encrypted": False,
                    "device_class": None,
                }
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"ceph-volume raw list: OSD {fsid}: missing or wrong {exc}") from None
    return sorted(osds, key=lambda osd: osd["id"])


def parse_lvm_list(text):
    """
    ``ceph-volume lvm list --format json``: per OSD id a list of volumes whose LV tags carry
    the OSD's metadata (``osd_id`` a string there)::

        {"0": [{"devices": ["/dev/sda"], "path": "/dev/ceph-.../osd-block-...",
                "type": "block", "tags": {"ceph.osd_id": "0", "ceph.osd_fsid": "...",
                "ceph.cluster_fsid": "...", "ceph.type": "block",
                "ceph.db_device": "/dev/ceph-db/db-0", "ceph.encrypted": "0",
                "ceph.crush_device_class": "None"}}]}

    The ``block`` (bluestore) or ``data`` (filestore) volume names the OSD; ``db``/``wal``
    volumes add their devices.
    """
    found = _json(text, "ceph-volume lvm list")
    if not isinstance(found, dict):
        raise ValueError("ceph-volume lvm list: not a mapping of OSD id to volumes")
    osds = []
    for osd_id, volumes in found.items():
        try:
            osds.append(_lvm_osd(volumes))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"ceph-volume lvm list: osd {osd_id}: missing or wrong {exc}"
            ) from None
    return sorted(osds, key=lambda osd: osd["id"])


def _lvm_osd(volumes):
    mains = [v for v in volumes if v["type"] in ("block", "data")]
    if len(mains) != 1:
        raise ValueError(f"'type': {len(mains)} block or data volumes, expected 1")
    (main,) = mains
    tags = main["tags"]
    device_class = tags.get("ceph.crush_device_class")
    extra = {v["type"]: v for v in volumes if v["type"] in ("db", "wal")}
    return {
        "id": int(tags["ceph.osd_id"]),
        "osd_fsid": tags["ceph.osd_fsid"],
        "cluster_fsid": tags["ceph.cluster_fsid"],
        "method": "lvm",
        "objectstore": "bluestore" if main["type"] == "block" else "filestore",
        "devices": sorted(main.get("devices") or []),
        "db_device": tags.get("ceph.db_device") or extra.get("db", {}).get("path"),
        "wal_device": tags.get("ceph.wal_device") or extra.get("wal", {}).get("path"),
        "encrypted": tags.get("ceph.encrypted") == "1",
        "device_class": None if device_class in (None, "", "None") else device_class,
    }


def parse_osd_tree(text):
    """
    ``ceph osd tree -f json``: the OSDs with the host bucket holding them. Old releases print
    ``crush_weight`` and ``reweight`` as strings (``"0.909988"``), new ones as numbers::

        {"nodes": [{"id": -3, "name": "vm", "type": "host", "children": [2, 1, 0]},
                   {"id": 0, "name": "osd.0", "type": "osd", "status": "up",
                    "crush_weight": 0.0029, "reweight": 1, "device_class": "hdd"}],
         "stray": []}

    gives ``[{"id", "name", "host", "status", "crush_weight", "reweight", "device_class"}]``
    (numbers as floats; OSDs outside any host, the strays included, have host None). Old
    trees list an OSD once per bucket holding it: each OSD is returned once.
    """
    tree = _json(text, "ceph osd tree")
    try:
        nodes = tree["nodes"] + tree.get("stray", [])
        hosts = {child: node["name"] for node in nodes if node["type"] == "host"
                 for child in node.get("children", [])}  # fmt: skip
        return sorted(
            ({"id": node["id"], "name": node["name"], "host": hosts.get(node["id"]),
              "status": node.get("status"), "crush_weight": float(node["crush_weight"]),
              "reweight": float(node["reweight"]), "device_class": node.get("device_class")}
             for node in {n["id"]: n for n in nodes if n["type"] == "osd"}.values()),
            key=lambda osd: osd["id"],
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"ceph osd tree: missing or wrong {exc}") from None


def own_osds(osds, osd_ids, host):
    """
    The ids of osd_ids still in the cluster (osds: ``parse_osd_tree``), each once, after
    proving every one of them is under the CRUSH host bucket host: one under another host, or
    under none, is a ValueError naming where it is. Ids no longer in the cluster are left out.

    >>> own_osds([{"id": 0, "host": "stor1"}, {"id": 3, "host": "stor2"}], [0, 3], "stor1")
    Traceback (most recent call last):
    ...
    ValueError: not on this host (stor1): osd.3 is on host stor2
    """
    where = {osd["id"]: osd["host"] for osd in osds}
    wanted = [osd_id for osd_id in dict.fromkeys(osd_ids) if osd_id in where]
    foreign = [f"osd.{osd_id} is on host {where[osd_id]}" if where[osd_id]
               else f"osd.{osd_id} is under no CRUSH host"
               for osd_id in wanted if where[osd_id] != host]  # fmt: skip
    if foreign:
        raise ValueError(f"not on this host ({host}): {'; '.join(foreign)}")
    return wanted


def parse_ok_to_stop(text, retcode, stderr=""):
    """
    ``ceph osd ok-to-stop ID -f json``: JSON on stdout whatever the answer, exit 0 when it is
    safe, EBUSY (16) when not, EAGAIN (11) when PGs are in an unknown state::

        {"ok_to_stop": false, "osds": [1], "num_ok_pgs": 0, "num_not_ok_pgs": 9, ...}

    gives ``{"ok": bool, "osds": [...], "reason": stderr's message, or None, "again": bool}``;
    again: Ceph could not judge yet (EAGAIN: its mgr has no state for some PGs), ask again.
    """
    answer = _answer(text, "ceph osd ok-to-stop", ("osds",))
    ok = retcode == 0 and bool(answer.get("ok_to_stop"))
    return {"ok": ok, "osds": answer.get("osds", []), "reason": None if ok else _reason(stderr),
            "again": retcode == errno.EAGAIN}  # fmt: skip


def parse_safe_to_destroy(text, retcode, stderr=""):
    """
    ``ceph osd safe-to-destroy ID -f json``::

        {"safe_to_destroy": [1], "active": [], "missing_stats": [], "stored_pgs": []}

    gives ``{"ok": bool, "safe": [...], "active": [...], "reason": ...}``: ok when every OSD
    asked about is in ``safe_to_destroy``.
    """
    answer = _answer(
        text, "ceph osd safe-to-destroy", ("safe_to_destroy", "active", "missing_stats")
    )
    unsafe = answer.get("active", []) + answer.get("missing_stats", [])
    ok = retcode == 0 and bool(answer.get("safe_to_destroy")) and not unsafe
    reason = None if ok else _reason(stderr) or f"osd(s) {unsafe} still hold data"
    return {"ok": ok, "safe": answer.get("safe_to_destroy", []), "active": unsafe,
            "reason": reason}  # fmt: skip


def _answer(text, what, lists):
    """The JSON object of an ok-to-stop or safe-to-destroy answer ({} for none), lists checked."""
    answer = _json(text, what) if text.strip() else {}
    if not isinstance(answer, dict):
        raise ValueError(f"{what}: not a JSON object: {text.strip()[:60]!r}")
    for key in lists:
        if not isinstance(answer.get(key, []), list):
            raise ValueError(f"{what}: {key} is not a list of OSD ids")
    return answer


def _reason(stderr):
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else None


def list_format(text):
    """``lvm`` or ``raw``: which ``ceph-volume ... list --format json`` printed text."""
    found = _json(text, "ceph-volume list")
    if not isinstance(found, dict):
        raise ValueError("ceph-volume list: not a mapping")
    return "lvm" if any(isinstance(value, list) for value in found.values()) else "raw"


def parse_inventory(text):
    """
    ``ceph-volume inventory --format json``::

        [{"path": "/dev/loop0", "available": false, "rejected_reasons": ["Has BlueStore
          device label"], "sys_api": {"size": 3221225472.0, "rotational": "1", ...}, ...}]

    gives ``[{"path", "available", "rejected_reasons", "size" (bytes), "rotational"}]``.
    """
    found = _json(text, "ceph-volume inventory")
    try:
        return [
            {
                "path": item["path"],
                "available": bool(item["available"]),
                "rejected_reasons": list(item["rejected_reasons"]),
                "size": int(item["sys_api"]["size"]) if item["sys_api"] else None,
                "rotational": item["sys_api"].get("rotational") == "1",
            }
            for item in found
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"ceph-volume inventory: missing or wrong {exc}") from None


def parse_fsid(text):
    """``ceph fsid -f json``: ``{"fsid": "44cd092a-..."}`` gives the fsid."""
    found = _json(text, "ceph fsid")
    if not isinstance(found, dict) or not isinstance(found.get("fsid"), str):
        raise ValueError("ceph fsid: no fsid in the answer")
    return found["fsid"]


def parse_label(text, device):
    """
    ``ceph-bluestore-tool show-label --dev DEVICE``: ``{DEVICE: {"osd_uuid", "ceph_fsid",
    "whoami", "description", ...}}`` gives the label of device.
    """
    found = _json(text, "ceph-bluestore-tool show-label")
    labels = list(found.values()) if isinstance(found, dict) else []
    if len(labels) != 1 or not isinstance(labels[0], dict) or "ceph_fsid" not in labels[0]:
        raise ValueError(f"ceph-bluestore-tool show-label: no bluestore label for {device}")
    return labels[0]


def free_ids(osds, count):
    """The count lowest OSD ids not in osds (the tree), as the monitors hand them out."""
    taken = {osd["id"] for osd in osds}
    found, candidate = [], 0
    while len(found) < count:
        if candidate not in taken:
            found.append(candidate)
        candidate += 1
    return found


def create_commands(entry, method, osd_id, dmcrypt, systemd):
    """
    The commands that make and start one bluestore OSD with id osd_id on entry's device
    (``{device, db_device, wal_device, device_class}``): ceph-volume prepare, activate
    (``--no-systemd``: hostnode starts the daemon itself), then ``systemctl enable --now
    ceph-osd@ID``, or ``ceph-osd -i ID`` on a host without systemd.
    """
    classes = ["--crush-device-class", entry["device_class"]] if entry.get("device_class") else []
    crypt = ["--dmcrypt"] if dmcrypt else []
    prepare = ["ceph-volume", method, "prepare", "--bluestore", "--data", entry["device"],
               "--osd-id", str(osd_id), *_companions(entry), *classes, *crypt]  # fmt: skip
    return [prepare, *start_commands(entry, method, osd_id, systemd)]


def start_commands(entry, method, osd_id, systemd, primed=False):
    """
    The commands that start the prepared OSD osd_id on entry's device: activate (which fills
    its tmpfs directory; not again when that is primed) and start its daemon.
    """
    if method == "raw":
        activate = ["ceph-volume", "raw", "activate", "--device", entry["device"],
                    *_companions(entry), "--no-systemd"]  # fmt: skip
    else:
        activate = ["ceph-volume", "lvm", "activate", "--all", "--no-systemd"]
    return [*([] if primed else [activate]), _start(osd_id, systemd)]


def _companions(entry):
    options = []
    for flag, key in (("--block.db", "db_device"), ("--block.wal", "wal_device")):
        if entry.get(key):
            options += [flag, entry[key]]
    return options


def _start(osd_id, systemd):
    if systemd:
        return ["systemctl", "enable", "--now", f"ceph-osd@{osd_id}"]
    return ["ceph-osd", "-i", str(osd_id)]


def remove_commands(osd_id, devices, systemd, pid):
    """
    The commands that take osd_id out (``out``), and, once the cluster no longer needs its
    data, stop it, purge it from the cluster, unmount its tmpfs and wipe devices (``purge``).
    """
    ident = str(osd_id)
    if systemd:
        stop = [["systemctl", "disable", "--now", f"ceph-osd@{osd_id}"]]
    else:
        # kill, then wait (up to a minute) for the daemon to let go of its device
        stop = [["kill", "-TERM", pid], ["timeout", "60", "tail", f"--pid={pid}", "-f",
                                         "/dev/null"]] if pid else []  # fmt: skip
    purge = [*stop, ["ceph", "osd", "down", ident],
             ["ceph", "osd", "purge", ident, "--yes-i-really-mean-it"],
             ["umount", f"/var/lib/ceph/osd/ceph-{osd_id}"],
             *(["ceph-volume", "lvm", "zap", "--destroy", d] for d in devices)]  # fmt: skip
    return {"out": [["ceph", "osd", "out", ident]], "purge": purge}


def osd_pid(cmdlines, osd_id):
    """
    The pid (a string) of the ``ceph-osd`` serving osd_id among cmdlines (``{pid: argv}``, as
    /proc/<pid>/cmdline holds them: ``ceph-osd -i 2``, ``--id 2`` or ``--id=2``), or None.
    """
    for pid, argv in sorted(cmdlines.items()):
        if not argv or os.path.basename(argv[0]) != "ceph-osd":
            continue
        pairs = zip(argv, [*argv[1:], ""], strict=True)
        if any(a in ("-i", "--id") and b == str(osd_id) for a, b in pairs) or (
            f"--id={osd_id}" in argv
        ):
            return pid
    return None


RSTATS = {"rbytes": "bytes", "rfiles": "files", "rsubdirs": "subdirs", "rentries": "entries",
          "rctime": "ctime"}  # fmt: skip


def parse_rstats(values):
    """
    CephFS's recursive statistics of a directory from its virtual xattrs ``ceph.dir.<name>``
    (``{"rbytes": b"100003", "rfiles": b"2", "rsubdirs": b"2", "rentries": b"3",
    "rctime": b"1795374948.131613747"}``): ``{"bytes", "files", "subdirs", "entries"}`` as
    integers and ``ctime``, the newest change below it, as seconds since the epoch (float).
    """
    stats = {}
    for name, key in RSTATS.items():
        raw = values.get(name)
        text = raw.decode("ascii", "replace").strip("\0 ") if isinstance(raw, bytes) else raw
        try:
            stats[key] = float(text) if key == "ctime" else int(text)
        except (TypeError, ValueError):
            raise ValueError(f"ceph.dir.{name}: {raw!r} is not a number") from None
    return stats
