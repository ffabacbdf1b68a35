"""
dm-multipath topology: parse ``multipath -ll`` of every multipath-tools release and say which
paths of which maps have failed.

Two layouts exist: the bracket layout of multipath-tools up to 0.4.8 and the tree layout of
0.4.9 and later. Both give the same model, one dict per map::

    {"name", "wwid", "dm", "vendor", "product", "size", "features", "hwhandler",
     "groups": [{"policy", "prio", "status",
                 "paths": [{"hctl", "device", "devnum", "dm_state", "checker", "online"}]}]}

``name`` is the alias, or the wwid when the map has none; ``online`` is None in the bracket
layout, which does not print it. A path that is missing is printed ``#:#:#:# - #:#``.
"""

import json
import re

from saltext.hostnode.utils import prometheus as hostnode_prometheus

# What multipath -ll says on a kernel without dm-multipath, or without device-mapper at all:
# no maps, not an error.
NO_DRIVER = (
    "DM multipath kernel driver not loaded",
    "Failure to communicate with kernel device-mapper",
)
_HEADER = re.compile(
    r"^(?:(?:create|reload|switchpg): )?(?P<head>.*?)\s*(?P<dm>dm-\d+)(?:\s+(?P<vp>\S.*?))?\s*$"
)
_SIZE = re.compile(
    r"^size=(?P<size>\S+) features='(?P<features>[^']*)' hwhandler='(?P<hwhandler>[^']*)'"
)
_OLD_SIZE = re.compile(
    r"^\[size=(?P<size>[^\]]*)\]\[features=(?P<features>[^\]]*)\]"
    r"\[hwhandler=(?P<hwhandler>[^\]]*)\]"
)
_GROUP = re.compile(
    r"^[|` ]*[|`]-\+- policy='(?P<policy>[^']*)' prio=(?P<prio>-?\d+) status=(?P<status>\S+)"
)
_OLD_GROUP = re.compile(
    r"^\\_ (?P<policy>\S+(?: \d+)?) \[prio=(?P<prio>-?\d+)\]\[(?P<status>\w+)\]"
)
_HCTL_DEV = r"(?P<hctl>\d+:\d+:\d+:\d+|#:#:#:#) (?P<device>\S+) +(?P<devnum>\d+:\d+|#:#) +"
_PATH = re.compile(r"^[|` ]*[|`]- " + _HCTL_DEV + r"(?P<states>\S.*?)\s*$")
_OLD_PATH = re.compile(r"^ +\\_ " + _HCTL_DEV + r"\[(?P<dm_state>\w+)\]\[(?P<checker>[^\]]+)\]")
FAILED_CHECKER = ("faulty", "shaky")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def parse_ll(text):
    """
    The maps of ``multipath -ll`` output, in the tree layout::

        mpatha (360014059b6fc20151e64750ad190c5c3) dm-0 LIO-ORG,lun0
        size=64M features='1 queue_if_no_path' hwhandler='1 alua' wp=rw
        `-+- policy='service-time 0' prio=50 status=active
          |- 7:0:0:0 sda 8:0  active ready running
          `- 6:0:0:0 sdb 8:16 active ready running

    or the bracket layout (``[size=..][features=..]``, ``\\_ round-robin 0 [prio=1][active]``,
    `` \\_ 3:0:1:4 sdk 8:160 [active][ready]``). Log, warning and debug lines between maps are
    skipped; "DM multipath kernel driver not loaded" means no maps. A path or path group
    outside a map, a map without its size line, or a line with control characters (binary
    noise is no log line) is a ValueError naming the line.
    """
    maps, current, pending = [], None, None
    for number, line in enumerate(text.splitlines(), 1):
        if _CONTROL.search(line):
            raise ValueError(f"line {number}: control characters: not multipath -ll output")
        kind, match = _classify(line)
        if pending is not None:
            if kind != "size":
                raise ValueError(f"line {number}: map {pending['name']!r} has no size line")
            pending.update(size=match["size"], features=match["features"].strip(),
                           hwhandler=match["hwhandler"].strip())  # fmt: skip
            maps.append(pending)
            current, pending = pending, None
        elif kind == "group":
            _need(current, number, "path group")
            current["groups"].append(_group(match))
        elif kind == "path":
            _need(current, number, "path")
            if not current["groups"]:
                raise ValueError(f"line {number}: a path before any path group")
            current["groups"][-1]["paths"].append(_path(match, number))
        elif kind == "header":
            pending, current = _map(match), None
        else:
            current = None  # noise between maps ends the map before it
    if pending is not None:
        raise ValueError(f"map {pending['name']!r} ends without its size line")
    return maps


def parse_maps_json(text, sizes=None, hctls=None):
    """
    The maps of ``multipathd show maps json`` (a running multipathd's own view)::

        {"major_version": 0, "minor_version": 1, "maps": [{"name": "mpatha",
         "uuid": "3600140558...", "sysfs": "dm-0", "vend": "LIO-ORG", "prod": "FILEIO",
         "features": "1 queue_if_no_path", "hwhandler": "1 alua",
         "path_groups": [{"selector": "service-time 0", "pri": 50, "dm_st": "active",
                          "paths": [{"dev": "sda", "dev_t": "8:0", "dm_st": "active",
                                     "chk_st": "ready", "dev_st": "running"}]}]}]}

    in the model of ``parse_ll``. The JSON has no map size and no path H:C:T:L: sizes
    (``{dm: 512-byte sectors}``) and hctls (``{device: "6:0:0:0"}``), read from sysfs by the
    caller, fill them in; what they lack stays None (size) or ``#:#:#:#`` (hctl).
    """
    try:
        document = json.loads(text)
        return [_json_map(item, sizes or {}, hctls or {}) for item in document["maps"]]
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}: not JSON: {exc.msg}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not multipathd's maps JSON: missing or wrong {exc}") from None


def _json_map(item, sizes, hctls):
    sectors = sizes.get(item["sysfs"])
    return {
        "name": item["name"],
        "wwid": item["uuid"],
        "dm": item["sysfs"],
        "vendor": item["vend"].strip() or None,
        "product": item["prod"].strip() or None,
        "size": None if sectors is None else format_size(sectors),
        "features": item["features"],
        "hwhandler": item["hwhandler"],
        "groups": [
            {
                "policy": group["selector"],
                "prio": int(group["pri"]),
                "status": group["dm_st"],
                "paths": [_json_path(path, hctls) for path in group["paths"]],
            }
            for group in item["path_groups"]
        ],
    }


def _json_path(path, hctls):
    return {
        "hctl": hctls.get(path["dev"], "#:#:#:#"),
        "device": path["dev"],
        "devnum": path["dev_t"],
        "dm_state": path["dm_st"],
        "checker": path["chk_st"],
        "online": path["dev_st"],
    }


def format_size(sectors):
    """512-byte sectors as ``multipath -ll`` prints them: ``64M``, ``1.5G`` (a decimal below 10)."""
    size, units = sectors / 2, "KMGTP"
    unit = 0
    while size >= 1024 and unit < len(units) - 1:
        size, unit = size / 1024, unit + 1
    return f"{size:.{1 if size < 10 else 0}f}{units[unit]}"


def _classify(line):
    """What a line of either layout is, with its match: one regex per line, chosen by shape."""
    tree = line.lstrip(" |`")
    if tree.startswith("-+- "):
        kind, regex = "group", _GROUP
    elif tree.startswith("- "):
        kind, regex = "path", _PATH
    elif line.startswith("\\_ "):
        kind, regex = "group", _OLD_GROUP
    elif line.startswith(" ") and line.lstrip().startswith("\\_ "):
        kind, regex = "path", _OLD_PATH
    elif line.startswith("size="):
        kind, regex = "size", _SIZE
    elif line.startswith("[size="):
        kind, regex = "size", _OLD_SIZE
    elif not line[:1].isspace() and " | " not in line:
        kind, regex = "header", _HEADER
    else:
        return None, None
    match = regex.match(line)
    return (kind, match) if match else (None, None)


def _need(current, number, what):
    if current is None:
        raise ValueError(f"line {number}: a {what} outside any map")


def _map(match):
    head = match["head"]
    alias, wwid = None, head
    if head.endswith(")") and " (" in head:
        alias, wwid = head[:-1].split(" (", 1)
    vendor, _, product = (match["vp"] or "").partition(",")
    return {
        "name": alias or wwid,
        "wwid": wwid,
        "dm": match["dm"],
        "vendor": vendor.strip() or None,
        "product": product.strip() or None,
        "size": None,
        "features": None,
        "hwhandler": None,
        "groups": [],
    }


def _group(match):
    return {
        "policy": match["policy"],
        "prio": int(match["prio"]),
        "status": match["status"],
        "paths": [],
    }


def _path(match, number):
    fields = match.groupdict()
    if "states" in fields:
        words = fields.pop("states").split()
        if len(words) < 3:
            raise ValueError(f"line {number}: a path needs dm, checker and device states")
        fields.update(dm_state=words[0], checker=" ".join(words[1:-1]), online=words[-1])
    else:
        fields["online"] = None
    return fields


def health(maps, min_paths=1):
    """
    ``{map name: {"paths", "active", "failed", "healthy"}}``: ``failed`` lists the failed paths
    (device, or H:C:T:L when the kernel has no device for it), a path being failed when its dm
    state is ``failed`` or its checker says ``faulty`` or ``shaky``; ``healthy`` is no failed
    path and at least min_paths active ones.
    """
    report = {}
    for mpath in maps:
        paths = [path for group in mpath["groups"] for path in group["paths"]]
        failed = [_path_name(path) for path in paths if _failed(path)]
        active = sum(1 for path in paths if path["dm_state"] == "active" and not _failed(path))
        report[mpath["name"]] = {
            "paths": len(paths),
            "active": active,
            "failed": failed,
            "healthy": not failed and active >= min_paths,
        }
    return report


def _failed(path):
    return path["dm_state"] == "failed" or path["checker"] in FAILED_CHECKER


def _path_name(path):
    return path["device"] if path["device"] != "-" else path["hctl"]


def events(previous, current):
    """
    Beacon events between two ``health`` reports: per map, ``lost`` with the paths that failed
    since previous, ``regained`` with the paths that came back, and ``lost`` with every path of a
    map that vanished. Nothing when nothing changed.
    """
    found = []
    for name in sorted(set(previous) | set(current)):
        before = set(previous.get(name, {}).get("failed", []))
        now = current.get(name)
        after = set(now["failed"]) if now else {"*"}
        for tag, paths in (("lost", after - before), ("regained", before - after)):
            if paths:
                found.append(
                    {"tag": f"{name}/{tag}", "map": name, "paths": sorted(paths),
                     "active": now["active"] if now else 0}
                )  # fmt: skip
    return found


def render_metrics(maps, min_paths=1):
    """
    A Prometheus textfile: per map its paths, active and failed paths and health; per path
    whether it failed and its dm, checker and device states (as labels of an info metric); per
    path group its priority and status.
    """
    report = health(maps, min_paths)
    families = {name: [] for name in _METRICS}
    for mpath in maps:
        name = mpath["name"]
        counts = report[name]
        families["map_paths"].append(({"map": name}, counts["paths"]))
        families["map_active_paths"].append(({"map": name}, counts["active"]))
        families["map_failed_paths"].append(({"map": name}, len(counts["failed"])))
        families["map_healthy"].append(({"map": name}, int(report[name]["healthy"])))
        for index, group in enumerate(mpath["groups"]):
            labels = {"map": name, "group": str(index), "status": group["status"]}
            families["group_priority"].append((labels, group["prio"]))
            for path in group["paths"]:
                ident = {"map": name, "group": str(index), "path": _path_name(path)}
                families["path_failed"].append((ident, int(_failed(path))))
                states = {"dm_state": path["dm_state"], "checker": path["checker"],
                          "device_state": path["online"] or "unknown"}  # fmt: skip
                families["path_info"].append(({**ident, **states}, 1))
    return hostnode_prometheus.exposition(
        [
            (f"hostnode_multipath_{f}", "gauge", _METRICS[f], samples)
            for f, samples in families.items()
        ]
    )


_METRICS = {
    "map_paths": "Paths of the multipath map.",
    "map_active_paths": "Active paths of the multipath map (dm state active, checker not failed).",
    "map_failed_paths": "Failed paths of the multipath map (dm state failed, or faulty/shaky).",
    "map_healthy": "1 when the map has no failed path and at least min_paths active ones.",
    "group_priority": "Priority of the path group, with its status (active, enabled, ...).",
    "path_failed": "1 when the path has failed (dm state failed, or checker faulty or shaky).",
    "path_info": "The path's dm, checker and device states, as labels; always 1.",
}
