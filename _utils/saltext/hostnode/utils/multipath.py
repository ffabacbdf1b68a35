"""
dm-multipath topology: parse ``multipath -ll`` of every multipath-tools release and say which
paths of which maps have failed.

Two layouts exist: the bracket layout of multipath-tools up to 0.4.8 and the tree layout of
0.4.9 and later. Both give the same model, one dict per map::

    {"name", "wwid", "dm", "vendor", "product", "size", "features", "hwhandler",
     "groups": [{"policy", "prio", "status",
                 "paths": [{"hctl", "device", "devnum", "dm_state", "checker", "online"}]}]}

``name`` is the alias, or the wwid when the map has none; ``online`` is None in the bracket
layout, which does not print it. A path that is missing is printed ``#:#:#:# - #:#``. What an
old release leaves out is what it did not know: ``dm``, ``vendor``, ``product``, ``features``
and ``hwhandler`` are None, a group's status and a path's dm and checker states ``undef``, and
a group's prio 0 (0.4.5 and 0.4.6 print ``[prio=N]`` only when N is not 0).
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
# The map header of every release: "[action: ]name[ (wwid)][ dm-N][ vendor,product]", in bold
# (ANSI escapes) on a terminal from 0.4.9 on. 0.4.5 to 0.4.7 print no dm-N, no vendor and no
# product; 0.4.8 pads vendor and product; RHEL 5 has been seen gluing the dm-N to the wwid.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HEADER = re.compile(
    r"^(?:(?:create|reload|switchpg|rename|reject|resize|unchanged): )?(?P<head>\S.*?)"
    r"(?: *(?P<dm>dm-\d+)|\s+(?:n/a|undef))?(?:\s+(?P<vendor>\S+) *,(?P<product>.*?))?\s*$"
)
_SIZE = re.compile(
    r"^size=(?P<size>\S+) features='(?P<features>[^']*)' hwhandler='(?P<hwhandler>[^']*)'"
)
_OLD_SIZE = re.compile(
    r'^\[size=(?P<size>[^\]]+)\](?:\[features="?(?P<features>[^\]"]*)"?\])?'
    r'(?:\[hwhandler="?(?P<hwhandler>[^\]"]*)"?\])?(?:\[(?:rw|ro|n/a)\])?\s*$'
)
_GROUP = re.compile(
    r"^[|` ]*[|`]-\+- policy='(?P<policy>[^']*)' prio=(?P<prio>-?\d+) status=(?P<status>\S+)"
)
_OLD_GROUP = re.compile(
    r"^\\_ (?P<policy>[^\[]*?) *(?:\[prio=(?P<prio>-?\d+)\])?(?:\[(?P<status>\w+)\])?\s*$"
)
# Columns are padded to the widest H:C:T:L, device and dev_t of the output.
_HCTL_DEV = r"(?P<hctl>\d+:\d+:\d+:\d+|#:#:#:#) +(?P<device>\S+) +(?P<devnum>\d+:\d+|#:#)"
_PATH = re.compile(r"^[|` ]*[|`]- " + _HCTL_DEV + r" +(?P<states>\S.*?)\s*$")
_OLD_PATH = re.compile(
    r"^ +\\_ " + _HCTL_DEV + r" *(?:\[(?P<dm_state>active|failed|undef)\])?"
    r"(?:\[(?P<checker>[^\]]+)\])?(?:\[claimed\])?(?: +(?P<online>running|offline))?\s*$"
)
# The shape of each kind of line: a line of that shape that its regex cannot read is an error,
# never a log line.
_SHAPES = (
    (re.compile(r"^[|` ]*[|`]-\+- "), "group", _GROUP),
    (re.compile(r"^[|` ]*[|`]- "), "path", _PATH),
    (re.compile(r"^\\_ "), "group", _OLD_GROUP),
    (re.compile(r"^ +\\_ "), "path", _OLD_PATH),
    (re.compile(r"^size="), "size", _SIZE),
    (re.compile(r"^\[size="), "size", _OLD_SIZE),
)
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

    or the bracket layout of 0.4.5 to 0.4.8::

        mpath1 (3600508b4000971ca0000f00010650000)
        [size=404 GB][features="1 queue_if_no_path"][hwhandler="0"]
        \\_ round-robin 0 [active]
         \\_ 0:0:0:2 sda 8:0   [active]

    (later ``[size=100G][features=1 queue_if_no_path][hwhandler=1 emc][rw]``,
    ``\\_ round-robin 0 [prio=1][active]``, `` \\_ 3:0:1:4 sdk 8:160 [active][ready]``). A map
    header is the line before a size line. Log, warning and debug lines between maps are
    skipped; "DM multipath kernel driver not loaded" means no maps. A line shaped like a size
    line, path group or path that does not read as one, a path or path group outside a map, a
    map header (a line naming a dm-N) without its size line, or a line with control characters
    (binary noise is no log line) is a ValueError naming the line.
    """
    lines = _ANSI.sub("", text).splitlines()
    for number, line in enumerate(lines, 1):
        if _CONTROL.search(line):
            raise ValueError(f"line {number}: control characters: not multipath -ll output")
    read = [_classify(line, number) for number, line in enumerate(lines, 1)]
    maps, current = [], None
    for index, (kind, match) in enumerate(read):
        number = index + 1
        if kind == "size":
            if index == 0 or read[index - 1][0] is not None:
                raise ValueError(f"line {number}: a size line without its map header")
            current = _map(lines[index - 1], index, match)
            maps.append(current)
        elif kind == "group":
            _need(current, number, "path group")
            current["groups"].append(_group(match))
        elif kind == "path":
            _need(current, number, "path")
            if not current["groups"]:
                raise ValueError(f"line {number}: a path before any path group")
            current["groups"][-1]["paths"].append(_path(match, number))
        else:
            if number == len(read) or read[index + 1][0] != "size":
                _refuse_headless(lines[index], number, number == len(read))
            current = None  # a log line ends the map before it; a header starts the next
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


def _classify(line, number):
    """What a line is, by its shape, with its match: ``(None, None)`` for any other line."""
    for shape, kind, regex in _SHAPES:
        if shape.match(line):
            match = regex.match(line)
            if match is None:
                raise ValueError(f"line {number}: a {kind} line that does not read as one")
            return kind, match
    return None, None


def _refuse_headless(line, number, last):
    """A line naming a dm-N as a map header does, without the size line that must follow."""
    match = None if line[:1].isspace() or " | " in line else _HEADER.match(line)
    if match and match["dm"]:
        name = _names(match["head"])[0]
        if last:
            raise ValueError(f"line {number}: map {name!r} ends without its size line")
        raise ValueError(f"line {number + 1}: map {name!r} has no size line")


def _need(current, number, what):
    if current is None:
        raise ValueError(f"line {number}: a {what} outside any map")


def _names(head):
    """(name, wwid) of a header's ``alias (wwid)`` or ``wwid``."""
    if head.endswith(")") and " (" in head:
        alias, wwid = head[:-1].split(" (", 1)
        return alias, wwid
    return head, head


def _map(line, number, size):
    header = None if line[:1].isspace() else _HEADER.match(line)
    if header is None:
        raise ValueError(f"line {number}: a map header that does not read as one")
    name, wwid = _names(header["head"])
    return {
        "name": name,
        "wwid": wwid,
        "dm": header["dm"],
        "vendor": (header["vendor"] or "").strip() or None,
        "product": (header["product"] or "").strip() or None,
        "size": size["size"],
        "features": _strip(size["features"]),
        "hwhandler": _strip(size["hwhandler"]),
        "groups": [],
    }


def _strip(value):
    return None if value is None else value.strip()


def _group(match):
    return {
        "policy": match["policy"],
        "prio": int(match["prio"] or 0),
        "status": match["status"] or "undef",
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
        fields.update(dm_state=fields["dm_state"] or "undef", checker=fields["checker"] or "undef")
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
