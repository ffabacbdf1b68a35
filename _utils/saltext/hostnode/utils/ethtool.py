"""
NIC offloads of the bridge ports, as ``ethtool -k`` shows them and ``ethtool -K`` changes them.

A bridge forwards frames it did not originate: with GRO/LRO the port hands it merged super-frames
that it must split again (or cannot forward at all), and TSO/GSO on the host side hide from
tcpdump what really goes on the wire; hence "disable host nic hardware offloads" on Ganeti nodes.
The pillar names an offload as ``ethtool -K`` does (``gro``) and says on (true) or off (false).

Pure: parse ``ethtool -k``, plan the one ``ethtool -K`` call, render the boot-time settings
(ifupdown's ``offload-*`` options, read by the ethtool package's if-up.d hook, or a systemd
``.link`` file, which udev applies when the device appears).
"""

import re

# The pillar's (and ethtool -K's) name: the feature ethtool -k reports it by, netplan and networkd
# having no key for the others. tso is read on tx-tcp-segmentation: ethtool -k's
# tcp-segmentation-offload line can say on while each of its features is off [requested on].
OFFLOADS = {
    "rx": "rx-checksumming",
    "tx": "tx-checksumming",
    "tso": "tx-tcp-segmentation",
    "gso": "generic-segmentation-offload",
    "gro": "generic-receive-offload",
    "lro": "large-receive-offload",
}
# systemd.link(5) [Link] keys of each (tso also covers tx-tcp6-segmentation, as ethtool -K does).
LINK_KEYS = {
    "rx": ("ReceiveChecksumOffload",),
    "tx": ("TransmitChecksumOffload",),
    "tso": ("TCPSegmentationOffload", "TCP6SegmentationOffload"),
    "gso": ("GenericSegmentationOffload",),
    "gro": ("GenericReceiveOffload",),
    "lro": ("LargeReceiveOffload",),
}
_HEADER = re.compile(r"^(Features|Offload parameters) for \S+:$")
_FEATURE = re.compile(
    r"^\t?([a-z0-9_ -]+): (on|off)(?: \[(fixed|requested on|requested off|not requested)\])?$"
)
# What ethtool prints for a setting the driver does not report ("Cannot get device
# udp-fragmentation-offload settings: Operation not supported"), or for none at all.
_UNREPORTED = re.compile(r"^Cannot get .+: .+$|^no (offload|feature) info available$")


def parse_features(text):
    """
    ``ethtool -k <nic>`` as ``{feature: {"on": bool, "requested": bool, "fixed": bool}}``
    (sub-features too): ``on`` what the NIC does, ``requested`` what was asked for (ethtool's
    ``[requested on]`` note when the two differ, a feature held off by another), ``fixed`` its
    driver's ``[fixed]``. Lines starting with ``#`` (a fixture's note) and the settings ethtool
    could not get are skipped::

        Features for v0:
        rx-checksumming: on
        tx-checksumming: on
                tx-checksum-ipv4: off [fixed]
        ...
        generic-receive-offload: off
        large-receive-offload: off [fixed]

    ethtool before 3.4 (2012) printed ``Offload parameters for <nic>:`` and one line per
    offload (the oldest with spaces: ``tcp segmentation offload``), with no sub-feature: its
    TCP segmentation line is the kernel's TSO flag, also read as ``tx-tcp-segmentation``.
    """
    lines = [(n, line) for n, line in enumerate((text or "").splitlines(), start=1)
             if line.strip() and not line.startswith("#")]  # fmt: skip
    header = _HEADER.match(lines[0][1]) if lines else None
    if not header:
        raise ValueError(f"line {lines[0][0] if lines else 1}: not ethtool -k output")
    features = {}
    for number, line in lines[1:]:
        if _UNREPORTED.match(line):
            continue
        match = _FEATURE.match(line)
        if not match:
            raise ValueError(f"line {number}: not ethtool -k output")
        on = match[2] == "on"
        requested = {"requested on": True, "requested off": False, "not requested": False}
        features[match[1].replace(" ", "-")] = {"on": on, "requested": requested.get(match[3], on),
                                                "fixed": match[3] == "fixed"}  # fmt: skip
    legacy_tso = features.get("tcp-segmentation-offload")
    if header[1] == "Offload parameters" and legacy_tso:
        features.setdefault("tx-tcp-segmentation", dict(legacy_tso))
    return features


def offloads(value, field):
    """The pillar's ``{offload: true|false}``, checked: known names (OFFLOADS) and booleans."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{field}: a mapping of offload to true or false, got {value!r}")
    for name, on in value.items():
        if name not in OFFLOADS:
            raise ValueError(
                f"{field}:{name}: not an offload hostnode sets ({', '.join(OFFLOADS)})"
            )
        if not isinstance(on, bool):
            raise ValueError(f"{field}:{name}: true or false, got {on!r}")
    return dict(value)


def problems(port, features, wanted):
    """Why port cannot take wanted: a feature its driver lacks or holds fixed at the other value."""
    found = []
    for name, on in sorted(wanted.items()):
        feature = features.get(OFFLOADS[name])
        if feature is None:
            found.append(f"{port} has no {OFFLOADS[name]} ({name})")
        elif feature["fixed"] and feature["on"] != on:
            found.append(f"{port}: {name} is fixed {_word(feature['on'])} by its driver")
    return found


def plan(port, features, wanted):
    """
    The ``ethtool -K`` argv requesting what differs (``[]`` when nothing does): a feature held
    off by another but still requested on is asked off too, as the boot's settings do, so it
    stays off when the other comes back.
    """
    settings = [word for name, on in sorted(wanted.items())
                if features[OFFLOADS[name]]["requested"] != on
                for word in (name, _word(on))]  # fmt: skip
    return ["ethtool", "-K", port, *settings] if settings else []


def changes(before, after, wanted):
    """``{offload: {"old": bool, "new": bool}}``: the wanted offloads whose request changed."""
    found = {}
    for name in sorted(wanted):
        old, new = (features[OFFLOADS[name]]["requested"] for features in (before, after))
        if old != new:
            found[name] = {"old": old, "new": new}
    return found


def predicted(features, wanted):
    """features as they read once plan's command ran (requested as wanted)."""
    after = {name: dict(feature) for name, feature in features.items()}
    for name, on in wanted.items():
        after[OFFLOADS[name]]["requested"] = on
    return after


def ifupdown_options(wanted):
    """The ``offload-<name> on|off`` lines of the port's stanza (Debian's ethtool if-up.d hook
    runs ``ethtool --offload <iface>`` with them)."""
    return "".join(f"    offload-{name} {_word(on)}\n" for name, on in sorted(wanted.items()))


def render_link(port, wanted, header):
    """
    A systemd ``.link`` file for port: udev applies it when the device appears, on netplan
    (whose keys 0.106 takes on ethernets only) and networkd nodes alike. It is the one ``.link``
    file that applies to port (udev takes the first match), so it keeps the MAC as the kernel or
    the bond sets it (``MACAddressPolicy=none``).
    """
    keys = "".join(f"{key}={str(on).lower()}\n" for name, on in sorted(wanted.items())
                   for key in LINK_KEYS[name])  # fmt: skip
    return f"# {header}\n[Match]\nOriginalName={port}\n\n[Link]\nMACAddressPolicy=none\n{keys}"


def _word(on):
    return "on" if on else "off"
