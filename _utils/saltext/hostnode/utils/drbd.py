"""
DRBD replication health, read from ``/proc/drbd`` (DRBD 8.0 to 8.4) or from ``drbdsetup status``
(DRBD 9, plain or ``--verbose --statistics``): one dict per configured minor

``{minor, resource, volume, connection, role, peer_role, disk, peer_disk, out_of_sync_kib,
sync_percent, degraded}``

``degraded`` is true unless the minor is Connected with UpToDate data on both sides. Minors
``/proc/drbd`` lists as ``Unconfigured`` are left out. A DRBD 9 volume with several peers
reports its first peer that is not Connected/UpToDate (else its first peer), the most data
out of sync with any peer and the least resync progress.
"""

import re

# drbd_proc.c (8.x): " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----"
# (8.0 prints st: where 8.3 and later print ro:).
_MINOR = re.compile(r"^\s*(\d+):\s")
_CONFIGURED = re.compile(r"^\s*(\d+): cs:(\w+) (?:ro|st):(\w+)/(\w+) ds:(\w+)/(\w+)(?:\s|$)")
_UNCONFIGURED = re.compile(r"^\s*\d+: cs:Unconfigured\s*$")
# "[=====>..............] sync'ed: 34.9% (346112/524288)M", online verify: "verified:"
_PROGRESS = re.compile(r"^\s*\[[=>.]*\] (?:sync'ed|verified):\s*(\d+(?:\.\d+)?)%")
_HEADER = ("version:", "GIT-hash:", "srcversion:")
_HEALTHY = ("Connected", "UpToDate", "UpToDate")


def parse(text):
    """
    Either layout, told apart by its text: ``/proc/drbd`` starts with ``version:`` or lists
    ``N: cs:`` lines; anything else is ``drbdsetup status`` output.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    proc = any(line.startswith(_HEADER) or _MINOR.match(line) for line in lines)
    return parse_proc(text) if proc else parse_status(text)


def parse_proc(text):
    """
    ``/proc/drbd`` of DRBD 8.x:

    .. code-block:: text

        version: 8.4.2 (api:1/proto:86-101)
        GIT-hash: 7ad5f850d711223713d6dcadc3dd48860321070c build by root@example.com, ...
         0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
            ns:1048576 nr:0 dw:0 dr:1048776 al:0 bm:64 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
         2: cs:Unconfigured
         5: cs:SyncSource ro:Secondary/Secondary ds:UpToDate/Inconsistent C r---n-
            ns:716992 nr:0 dw:0 dr:719432 al:0 bm:43 lo:0 pe:33 ua:18 ap:0 ep:1 wo:f oos:335744
                [============>.......] sync'ed: 68.5% (335744/1048576)K
                finish: 0:00:05 speed: 64,800 (64,800) K/sec

    ``oos:`` (KiB out of sync) exists from 8.3 on; 8.0 gives None.
    """
    minors, current = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if _MINOR.match(line):
            current = None
            if _UNCONFIGURED.match(line):
                continue
            found = _CONFIGURED.match(line)
            if not found:
                raise ValueError(f"line {number}: not a DRBD minor line: {line.strip()!r}")
            minor, conn, role, peer_role, disk, peer_disk = found.groups()
            current = _minor(int(minor), None, None, conn, role, peer_role, disk, peer_disk)
            minors.append(current)
        elif current is not None and line.strip().startswith("ns:"):
            counters = _pairs(line.split(), number, line)
            if "oos" in counters:
                current["out_of_sync_kib"] = _number(counters["oos"], number, "oos", int)
        elif current is not None and (progress := _PROGRESS.match(line)):
            current["sync_percent"] = float(progress[1])
    return minors


def parse_status(text):
    """
    ``drbdsetup status`` of DRBD 9 (``drbdadm status`` prints the same), plain or with
    ``--verbose --statistics``:

    .. code-block:: text

        postgresql role:Primary suspended:no
            write-ordering:flush
          volume:0 minor:1 disk:UpToDate
              size:20969820 read:453661 written:6472288 al-writes:215 bm-writes:0 ...
          peer connection:Connected role:Secondary congested:no
            volume:0 replication:Established peer-disk:UpToDate resync-suspended:no
                received:0 sent:5161968 out-of-sync:0 pending:4 unacked:0

    A resource line (a name and its ``role:``) starts at the left margin; a line led by a name
    under it is a connection (``connection:`` is printed only when not Connected, or with
    ``--verbose``), a line with ``disk:`` a volume, with ``peer-disk:``/``replication:`` a
    peer's volume; other lines of ``key:value`` add to what precedes them.
    """
    resources, margin = [], None
    resource = target = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        margin = indent if margin is None else margin
        words = line.split()
        if indent == margin:
            fields = {} if ":" in words[0] else _pairs(words[1:], number, line)
            if "role" not in fields:
                raise ValueError(f"line {number}: not a DRBD resource line: {line.strip()!r}")
            resource = {"name": words[0], **fields, "volumes": [], "peers": []}
            resources.append(resource)
            target = resource
            continue
        if ":" not in words[0]:
            target = {"name": words[0], **_pairs(words[1:], number, line), "volumes": []}
            resource["peers"].append(target)
            continue
        fields = _pairs(words, number, line)
        if "peer-disk" in fields or "replication" in fields:
            if not resource["peers"]:
                raise ValueError(f"line {number}: a peer volume without a peer: {line.strip()!r}")
            target = fields
            resource["peers"][-1]["volumes"].append(target)
        elif "disk" in fields:
            target = fields
            resource["volumes"].append(target)
        else:
            target.update(fields)
    return [m for r in resources for m in _status_minors(r)]


def _status_minors(resource):
    for volume in resource["volumes"]:
        number = volume.get("volume", "0")
        peers = [_peer(peer, number) for peer in resource["peers"]]
        bad = [peer for peer in peers if peer[0] != "Connected" or peer[2] != "UpToDate"]
        conn, peer_role, peer_disk = (bad or peers or [_peer({}, number)])[0][:3]
        minor = int(volume["minor"]) if "minor" in volume else None
        found = _minor(minor, resource["name"], int(number), conn, resource.get("role"),
                       peer_role, volume["disk"], peer_disk)  # fmt: skip
        oos = [peer[3] for peer in peers if peer[3] is not None]
        done = [peer[4] for peer in peers if peer[4] is not None]
        found["out_of_sync_kib"] = max(oos) if oos else None
        found["sync_percent"] = min(done) if done else None
        if not peers:
            found["degraded"] = True
        yield found


def _peer(peer, volume):
    """(connection, role, peer_disk, out_of_sync_kib, done) of one peer for volume."""
    conn = peer.get("connection", "Connected" if "role" in peer else "StandAlone")
    mine = [v for v in peer.get("volumes", []) if v.get("volume", "0") == volume]
    fields = mine[0] if mine else {}
    oos = fields.get("out-of-sync")
    done = fields.get("done")
    return (
        conn,
        peer.get("role", "Unknown"),
        fields.get("peer-disk", "DUnknown"),
        None if oos is None else _number(oos, None, "out-of-sync", int),
        None if done is None else _number(done, None, "done", float),
    )


def _minor(minor, resource, volume, conn, role, peer_role, disk, peer_disk):
    return {
        "minor": minor,
        "resource": resource,
        "volume": volume,
        "connection": conn,
        "role": role,
        "peer_role": peer_role,
        "disk": disk,
        "peer_disk": peer_disk,
        "out_of_sync_kib": None,
        "sync_percent": None,
        "degraded": (conn, disk, peer_disk) != _HEALTHY,
    }


def _pairs(words, number, line):
    fields = {}
    for word in words:
        key, sep, value = word.partition(":")
        if not sep or not key:
            raise ValueError(f"line {number}: {word!r} is not key:value in {line.strip()!r}")
        fields[key] = value
    return fields


def _number(value, number, key, kind):
    try:
        return kind(value)
    except ValueError:
        where = f"line {number}: " if number else ""
        raise ValueError(f"{where}{key}:{value} is not a number") from None


def health(minors):
    """``{healthy, problems}``: one problem per degraded minor, naming it and its states."""
    problems = [f"{_name(m)}: {_states(m)}" for m in minors if m["degraded"]]
    return {"healthy": not problems, "problems": problems}


def _name(minor):
    if minor["minor"] is not None:
        return f"drbd minor {minor['minor']}"
    return f"drbd resource {minor['resource']} volume {minor['volume']}"


def _states(minor):
    text = (
        f"{minor['connection']} {minor['role']}/{minor['peer_role']} "
        f"{minor['disk']}/{minor['peer_disk']}"
    )
    if minor["sync_percent"] is not None:
        text += f", synced {minor['sync_percent']}%"
    return text


def events(previous, current):
    """
    What changed between two ``health`` results: ``{"tag": "degraded"|"recovered",
    "problem"}`` per problem that appeared or went away (a changed state of a degraded minor
    is both: the old problem recovers, the new one degrades).
    """
    before, now = set(previous["problems"]), set(current["problems"])
    return [{"tag": "degraded", "problem": p} for p in current["problems"] if p not in before] + [
        {"tag": "recovered", "problem": p} for p in previous["problems"] if p not in now
    ]


_METRICS = {
    "drbd_info": "DRBD minor states as labels (value always 1)",
    "drbd_degraded": "1 when the minor is not Connected with UpToDate data on both sides",
    "drbd_out_of_sync_bytes": "Data the peer lacks, in bytes",
    "drbd_sync_ratio": "Resync progress of a minor that is syncing, 0 to 1",
}


def render_metrics(minors):
    """
    The ``hostnode_ganeti_drbd_*`` families of minors for the prometheus writer: per minor an
    info gauge with its states as labels, degraded, out-of-sync bytes (when known) and resync
    ratio (while syncing).
    """
    families = {name: [] for name in _METRICS}
    for minor in minors:
        ident = {
            "minor": "" if minor["minor"] is None else str(minor["minor"]),
            "resource": minor["resource"] or "",
            "volume": "" if minor["volume"] is None else str(minor["volume"]),
        }
        states = {key: minor[key] or "" for key in
                  ("connection", "role", "peer_role", "disk", "peer_disk")}  # fmt: skip
        families["drbd_info"].append(({**ident, **states}, 1))
        families["drbd_degraded"].append((ident, int(minor["degraded"])))
        if minor["out_of_sync_kib"] is not None:
            families["drbd_out_of_sync_bytes"].append((ident, minor["out_of_sync_kib"] * 1024))
        if minor["sync_percent"] is not None:
            families["drbd_sync_ratio"].append((ident, minor["sync_percent"] / 100))
    return [(f"hostnode_ganeti_{f}", "gauge", _METRICS[f], s) for f, s in families.items()]
