"""
``/etc/multipath.conf`` rendered from pillar, and what ``multipath -t`` says about a candidate.

The pillar shape mirrors multipath.conf(5)::

    defaults: {user_friendly_names: true, find_multipaths: "off", polling_interval: 5}
    blacklist: {devnode: ["^vd[a-z]"], wwid: [...], device: [{vendor: ..., product: ...}]}
    blacklist_exceptions: {...}     # same shape as blacklist
    devices: [{vendor: LIO-ORG, product: ".*", path_grouping_policy: multibus}]
    overrides: {no_path_retry: 12}
    multipaths: [{wwid: 36001405..., alias: san-lun0}]

Booleans become ``yes``/``no``, whole numbers stay bare, strings are quoted. Anything else, a
keyword that is not a lowercase word or a value holding a quote or a newline, is a ValueError
naming the field, so nothing malformed reaches the file.
"""

import re

HEADER = "# Managed by hostnode (multipath.configured); local changes are overwritten.\n"
_KEYWORD = re.compile(r"^[a-z][a-z0-9_]*$")
# section -> (shape, name of the subsection of each list item)
_SECTIONS = {
    "defaults": ("flat", None),
    "overrides": ("flat", None),
    "blacklist": ("filter", "device"),
    "blacklist_exceptions": ("filter", "device"),
    "devices": ("list", "device"),
    "multipaths": ("list", "multipath"),
}
_REQUIRED = {"device": ("vendor", "product"), "multipath": ("wwid",)}
# Time stamps multipath-tools puts before its messages: "15040.819320 | ".
_STAMP = re.compile(r"^\s*\d+\.\d+ \| ")


def render(config, field="config"):
    """The multipath.conf text of config (a dict of the sections above)."""
    if not isinstance(config, dict):
        raise ValueError(f"{field}: must be a mapping of multipath.conf sections")
    unknown = sorted(set(config) - set(_SECTIONS))
    if unknown:
        raise ValueError(f"{field}: unknown section(s) {', '.join(unknown)}")
    blocks = []
    for section, (shape, item) in _SECTIONS.items():
        if section in config and config[section] is not None:
            where = f"{field}:{section}"
            body = _SHAPES[shape](config[section], item, where)
            blocks.append(_block(section, body))
    return HEADER + "".join(blocks)


def _flat(values, _item, where):
    if not isinstance(values, dict):
        raise ValueError(f"{where}: must be a mapping of keyword: value")
    return [_line(key, value, f"{where}:{key}") for key, value in values.items()]


def _filter(values, item, where):
    """blacklist: keyword -> list of patterns, and ``device`` -> list of {vendor, product}."""
    if not isinstance(values, dict):
        raise ValueError(f"{where}: must be a mapping of keyword: [patterns]")
    lines = []
    for key, patterns in values.items():
        if key == item:
            lines += _list(patterns, item, f"{where}:{key}")
            continue
        listed = patterns if isinstance(patterns, list) else [patterns]
        lines += [_line(key, pattern, f"{where}:{key}") for pattern in listed]
    return lines


def _list(items, item, where):
    if not isinstance(items, list):
        raise ValueError(f"{where}: must be a list of {item} entries")
    lines = []
    for index, entry in enumerate(items):
        at = f"{where}:{index}"
        if not isinstance(entry, dict):
            raise ValueError(f"{at}: must be a mapping")
        missing = [key for key in _REQUIRED[item] if key not in entry]
        if missing:
            raise ValueError(f"{at}: a {item} entry needs {' and '.join(missing)}")
        lines += _block(item, _flat(entry, None, at)).splitlines()
    return lines


_SHAPES = {"flat": _flat, "filter": _filter, "list": _list}


def _block(name, lines):
    inner = "".join(f"\t{line}\n" for line in lines)
    return f"{name} {{\n{inner}}}\n"


def _line(key, value, where):
    if not isinstance(key, str) or not _KEYWORD.match(key):
        raise ValueError(f"{where}: {key!r} is not a multipath.conf keyword")
    return f"{key} {_value(value, where)}"


def _value(value, where):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value and not set(value) & {'"', "\n", "\r"}:
        return f'"{value}"'
    raise ValueError(f"{where}: {value!r} is not a multipath.conf value (yes/no, number, text)")


_FILES = re.compile(r"/etc/multipath(?:\.conf|/conf\.d/)")


def problems(stderr):
    """
    The complaints ``multipath -t`` printed about a configuration (it exits 0 even for an
    invalid keyword), without their time stamps::

        15040.819320 | /etc/multipath.conf line 3, invalid keyword in the defaults section: foo

    or about a drop-in (``/etc/multipath/conf.d/<x>.conf line 2, ...``). Lines about this
    machine rather than the files (open fds limit, device-mapper) are not complaints about the
    configuration and are left out.
    """
    found = []
    for line in stderr.splitlines():
        text = _STAMP.sub("", line).strip()
        if _FILES.search(text) or "missing vendor or product" in text:
            found.append(text)
    return found
