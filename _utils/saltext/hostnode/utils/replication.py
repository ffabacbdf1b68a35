"""
The replication (secondary) network's NIC of a Ganeti node, the one DRBD runs on: up, with the
pillar's MTU (9000 for jumbo frames) and the node's secondary IP with the prefix of the
replication network, live and in the boot-time files of the node's network backend.

Pure: what a node wants from pillar ``hostnode:node:ganeti``, parse ``ip -json address show``,
plan the ``ip`` commands, render the boot-time files.
"""

import ipaddress
import json

import yaml

from saltext.hostnode.utils import ganeti as hostnode_ganeti
from saltext.hostnode.utils import node as hostnode_node

HEADER = "Managed by hostnode (node formula, replication NIC); local changes are overwritten."
FILE_PREFIX = "hostnode-replication-"
# networkd's own file sorts before the distribution's (it applies the first that matches); its
# drop-in, beside the node's own .network file of the NIC when there is one.
NETWORKD_PREFIX = f"10-{FILE_PREFIX}"
NETWORKD_DROP_IN = "hostnode-replication.conf"
FIELD = "hostnode:node:ganeti:replication"


def wanted(settings, node):
    """
    ``{nic, address, mtu}`` of node (its FQDN) from the Ganeti settings of pillar
    ``hostnode:node:ganeti``: nic None when ``replication:nic`` is not set (nothing to manage);
    address ``IP/prefix`` from ``secondary_ips[node]`` and the length of
    ``replication:network``, None when the node has no secondary IP. ValueError names the field.
    """
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"hostnode:node:ganeti: a mapping, got {settings!r}")
    replication = (settings or {}).get("replication") or {}
    if isinstance(replication, dict) and replication.get("nic") is None:
        return {"nic": None, "address": None, "mtu": None}
    opts = hostnode_ganeti.options(settings)
    nic, network = opts["replication"]["nic"], opts["replication"]["network"]
    ip = opts["secondary_ips"].get(hostnode_node.fqdn(node, "node"))
    if ip is not None and network is None:
        raise ValueError(f"{FIELD}:network: needed for the prefix of {node}'s secondary IP {ip} "
                         f"on {nic}")  # fmt: skip
    address = f"{ip}/{ipaddress.ip_network(network).prefixlen}" if ip is not None else None
    return {"nic": nic, "address": address, "mtu": opts["replication"]["mtu"]}


def parse_links(text):
    """
    ``ip -json address show`` as ``{name: {mtu, up, addresses}}``, addresses the global ones
    as ``IP/prefix`` strings::

        [{"ifindex": 3, "ifname": "stor-a", "flags": ["BROADCAST", "MULTICAST", "UP"],
          "mtu": 1500, "addr_info": [{"family": "inet", "local": "198.51.100.11",
          "prefixlen": 24, "scope": "global", ...}]}, ...]
    """
    try:
        return {
            link["ifname"]: {
                "mtu": link["mtu"],
                "up": "UP" in link.get("flags", []),
                "addresses": [f"{info['local']}/{info['prefixlen']}"
                              for info in link.get("addr_info", [])
                              if info.get("scope") == "global"],
            }
            for link in json.loads(text or "[]")
        }  # fmt: skip
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}: not ip -json output: {exc.msg}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not ip -json address output: missing or wrong {exc}") from None


def problems(links, want):
    """Why the NIC cannot be set up (it does not exist)."""
    if want["nic"] is None or want["nic"] in links:
        return []
    return [f"{FIELD}:nic: {want['nic']} does not exist on this node"]


def plan(links, want):
    """
    The ``ip`` argv lists that give the NIC its MTU, bring it up and add its address. Other
    addresses stay, in the replication network too: the node's primary address may be one.
    """
    nic = want["nic"]
    if nic is None:
        return []
    link = links[nic]
    commands = []
    if link["mtu"] != want["mtu"]:
        commands.append(["ip", "link", "set", "dev", nic, "mtu", str(want["mtu"])])
    if not link["up"]:
        commands.append(["ip", "link", "set", "dev", nic, "up"])
    if _missing(link, want):
        commands.append(["ip", "address", "add", want["address"], "dev", nic])
    return commands


def _missing(link, want):
    """Whether the NIC lacks the wanted address (compared as interfaces: 10.0.0.1/24)."""
    present = {ipaddress.ip_interface(item) for item in link["addresses"]}
    return want["address"] is not None and ipaddress.ip_interface(want["address"]) not in present


def predicted(links, want):
    """The links as they read after the plan has run."""
    after = {name: dict(link) for name, link in links.items()}
    if want["nic"] is None:
        return after
    link = after[want["nic"]]
    added = [want["address"]] if _missing(link, want) else []
    link.update(mtu=want["mtu"], up=True, addresses=link["addresses"] + added)
    return after


def changes(before, after, nic):
    """``{nic: {mtu: {old, new}, up: {old, new}, addresses: {added, removed}}}``, what differs."""
    if nic is None:
        return {}
    old, new = before[nic], after.get(nic) or {}
    entry = {key: {"old": old[key], "new": new.get(key)}
             for key in ("mtu", "up") if old[key] != new.get(key)}  # fmt: skip
    added = [a for a in new.get("addresses", []) if a not in old["addresses"]]
    removed = [a for a in old["addresses"] if a not in new.get("addresses", [])]
    if added or removed:
        entry["addresses"] = {"added": added, "removed": removed}
    return {nic: entry} if entry else {}


# --- Boot-time files -------------------------------------------------------------------------


def render(backend, want, nic_network=None):
    """
    ``{relative path: text}``: the file that brings the NIC up at boot with its MTU and
    address for backend. networkd: a drop-in beside nic_network, the .network file of the
    node's own that matches the NIC, when there is one (networkd applies only the first file
    that matches), else a .network file of hostnode's sorting before the distribution's.
    """
    if want["nic"] is None:
        return {}
    return {"ifupdown": _ifupdown, "netplan": _netplan, "networkd": _networkd}[backend](
        want, nic_network
    )


def _ifupdown(want, _):
    nic, address = want["nic"], want["address"]
    if address is None:
        stanza = f"iface {nic} inet manual\n"
    else:
        family = "inet6" if ipaddress.ip_interface(address).version == 6 else "inet"
        stanza = f"iface {nic} {family} static\n    address {address}\n"
    text = f"# {HEADER}\n\nauto {nic}\n{stanza}    mtu {want['mtu']}\n"
    return {f"etc/network/interfaces.d/{FILE_PREFIX}{nic}": text}


def _netplan(want, _):
    ethernet = {"mtu": want["mtu"]}
    if want["address"] is not None:
        ethernet["addresses"] = [want["address"]]
    document = {"network": {"version": 2, "ethernets": {want["nic"]: ethernet}}}
    text = f"# {HEADER}\n" + yaml.safe_dump(document, default_flow_style=False)
    return {f"etc/netplan/90-{FILE_PREFIX}{want['nic']}.yaml": text}


def _networkd(want, nic_network):
    sections = [f"[Link]\nMTUBytes={want['mtu']}\n"]
    if want["address"] is not None:
        sections.append(f"[Network]\nAddress={want['address']}\n")
    if nic_network:
        return {f"{nic_network}.d/{NETWORKD_DROP_IN}": f"# {HEADER}\n" + "\n".join(sections)}
    sections.insert(0, f"[Match]\nName={want['nic']}\n")
    path = f"etc/systemd/network/{NETWORKD_PREFIX}{want['nic']}.network"
    return {path: f"# {HEADER}\n" + "\n".join(sections)}
