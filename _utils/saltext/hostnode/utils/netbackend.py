"""
The node's network backend (ifupdown, netplan, systemd-networkd) and the boot-time files in which
hostnode persists what it sets live.

hostnode writes only files of its own, one per device and purpose, named so they sort after the
distribution's defaults where order matters, and reads them back to know what it persisted.
Every path is taken relative to a configurable root so that images and chroots can be prepared
and tests never write to the host's /etc.
"""

import glob
import ipaddress
import os
import re

import yaml
from salt.exceptions import SaltInvocationError

from saltext.hostnode.utils import validate as hostnode_validate

BACKENDS = ("ifupdown", "netplan", "networkd")

HEADER = "Managed by hostnode ({purpose}); local changes are overwritten."

_NETWORKD_ENABLED = "etc/systemd/system/multi-user.target.wants/systemd-networkd.service"


def detect(root="/"):
    """
    The backend that configures this node's network at boot, or None when none is found.

    netplan wins when it has configuration (it renders networkd or NetworkManager files itself);
    then systemd-networkd when enabled; then ifupdown when /etc/network/interfaces exists.
    """
    netplan_dirs = ("etc/netplan", "lib/netplan", "run/netplan")
    if any(glob.glob(os.path.join(root, d, "*.yaml")) for d in netplan_dirs):
        return "netplan"
    if os.path.lexists(os.path.join(root, _NETWORKD_ENABLED)):
        return "networkd"
    if os.path.exists(os.path.join(root, "etc/network/interfaces")):
        return "ifupdown"
    return None


def chosen(backend, root="/"):
    """
    The backend to persist for: the one given (validated), else the one detected under root.

    Raises SaltInvocationError naming ``backend`` when it is unknown or none is found.
    """
    if backend is not None:
        return hostnode_validate.choice(backend, BACKENDS, "backend")
    detected = detect(root)
    if detected is None:
        raise SaltInvocationError(
            f"backend: no network backend found under {root}; pass backend= "
            f"({', '.join(BACKENDS)}) or persist=False"
        )
    return detected


def local_routes_path(backend, device, root="/"):
    """Where hostnode persists the AnyIP routes of device for backend."""
    relative = {
        "ifupdown": f"etc/network/interfaces.d/hostnode-anyip-{device}",
        "netplan": f"etc/netplan/90-hostnode-anyip-{device}.yaml",
        "networkd": f"etc/systemd/network/10-hostnode-anyip-{device}.network",
    }[backend]
    return os.path.join(root, relative)


def render_local_routes(backend, device, prefixes):
    """
    The boot-time file that adds these local routes on device, or None for no prefixes.

    prefixes are ipaddress networks; the file lists them sorted, IPv4 first.
    """
    prefixes = hostnode_validate.sorted_networks(set(prefixes))
    if not prefixes:
        return None
    header = "# " + HEADER.format(purpose=f"anyip routes on {device}") + "\n"
    return header + _RENDERERS[backend](device, prefixes)


def parse_local_routes(backend, text, where="file"):
    """
    The prefixes that a file written by render_local_routes adds (a set of networks).

    Raises ValueError naming where when the file is not one hostnode wrote.
    """
    try:
        values = _PARSERS[backend](text)
        return {ipaddress.ip_network(value) for value in values}
    except (ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        raise ValueError(f"{where}: not a hostnode {backend} anyip file ({exc})") from None


def _render_ifupdown(device, prefixes):
    method = "loopback" if device == "lo" else "manual"
    blocks = []
    for version, family in ((4, "inet"), (6, "inet6")):
        members = [p for p in prefixes if p.version == version]
        if not members:
            continue
        lines = [f"iface {device} {family} {method}"]
        for prefix in members:
            route = f"local {prefix} dev {device} table local"
            lines.append(f"    up ip -{version} route replace {route}")
            lines.append(f"    down ip -{version} route del {route} || true")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _parse_ifupdown(text):
    return re.findall(r"^\s*up ip -[46] route replace local (\S+) dev ", text, re.MULTILINE)


def _render_netplan(device, prefixes):
    routes = [{"to": str(prefix), "type": "local", "table": 255} for prefix in prefixes]
    document = {"network": {"version": 2, "ethernets": {device: {"routes": routes}}}}
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=False)


def _parse_netplan(text):
    ethernets = yaml.safe_load(text)["network"]["ethernets"]
    return [route["to"] for interface in ethernets.values() for route in interface["routes"]]


def _render_networkd(device, prefixes):
    sections = [f"[Match]\nName={device}\n", "[Link]\nRequiredForOnline=no\n"]
    sections += [f"[Route]\nType=local\nDestination={prefix}\nTable=local\n" for prefix in prefixes]
    return "\n".join(sections)


def _parse_networkd(text):
    return re.findall(r"^Destination=(\S+)$", text, re.MULTILINE)


_RENDERERS = {
    "ifupdown": _render_ifupdown,
    "netplan": _render_netplan,
    "networkd": _render_networkd,
}
_PARSERS = {"ifupdown": _parse_ifupdown, "netplan": _parse_netplan, "networkd": _parse_networkd}
