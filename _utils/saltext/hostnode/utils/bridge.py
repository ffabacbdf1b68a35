"""
A bridge per VLAN for instance traffic (``br0100`` for VLAN 100, the ganeti-salt naming), whose
port is the VLAN device on the node's bond (``bond0.100``), with a pinned MAC: a bridge otherwise
takes the lowest MAC among its ports and changes address when ports come and go.

Pure: parse ``ip -json -d link show``, plan the ``ip`` commands, render the boot-time files.
"""

import json

import yaml

from saltext.hostnode.utils import bond as hostnode_bond
from saltext.hostnode.utils import ethtool as hostnode_ethtool

HEADER = "Managed by hostnode (node formula, bridges); local changes are overwritten."
# The keys exist once br_netfilter is loaded: 1 sends bridged frames through the iptables,
# ip6tables and arptables chains, 0 lets them bypass the host's firewall.
NETFILTER_MODULE = "br_netfilter"
NETFILTER_KEYS = (
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.bridge.bridge-nf-call-arptables",
)
FILE_PREFIX = "hostnode-bridge-"


def name(vlan, bond):
    """
    The bridge of a VLAN: ``br`` and the id on four digits (``br0100``); the untagged bridge
    (vlan None) on the bond is ``br-<bond>``.
    """
    return f"br{vlan:04d}" if vlan is not None else f"br-{bond}"[:15]


def wanted(bond, vlans, macs):
    """
    ``[{bridge, port, vlan, link, mac}]`` for vlans (ids) on bond; ``vlan`` None is the
    untagged bridge whose port is the bond itself. macs: ``{bridge: mac}`` already resolved.
    """
    result = []
    for vlan in vlans:
        bridge = name(vlan, bond)
        port = f"{bond}.{vlan}" if vlan is not None else bond
        result.append({"bridge": bridge, "port": port, "vlan": vlan, "link": bond,
                       "mac": macs[bridge]})  # fmt: skip
    return result


def parse_links(text):
    """
    ``ip -json -d link show`` as ``{name: {kind, mac, master, up, vlan_id}}``::

        [{"ifname": "br0100", "flags": ["BROADCAST", "MULTICAST", "UP"], "operstate": "UP",
          "address": "02:00:00:00:01:00", "linkinfo": {"info_kind": "bridge", ...}}, ...]
    """
    try:
        links = json.loads(text or "[]")
        return {
            link["ifname"]: {
                "kind": (link.get("linkinfo") or {}).get("info_kind"),
                "mac": hostnode_bond.normal_mac(link.get("address")),
                "master": link.get("master"),
                "up": "UP" in link.get("flags", []),
                "vlan_id": ((link.get("linkinfo") or {}).get("info_data") or {}).get("id"),
            }
            for link in links
        }
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}: not ip -json output: {exc.msg}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not ip -json link output: missing or wrong {exc}") from None


def kernel_profile(netfilter, modules, values):
    """
    The node's kernel modules and sysctl profile (``{"kernel_modules": ..., "sysctl": ...}``)
    with br_netfilter loaded and the bridge-nf keys at 1 (netfilter true) or 0: the node
    formula's one modules-load.d and sysctl.d files carry them, and at boot
    systemd-modules-load runs before systemd-sysctl, so the keys exist when they are set.
    """
    return {
        "kernel_modules": {**modules, NETFILTER_MODULE: modules.get(NETFILTER_MODULE)},
        "sysctl": {**values, **dict.fromkeys(NETFILTER_KEYS, 1 if netfilter is True else 0)},
    }


def problems(links, bridges):
    """Why the plan cannot be made on these links (a name taken by another kind of device)."""
    found = []
    for item in bridges:
        if item["link"] not in links:
            found.append(f"{item['link']} does not exist, so {item['bridge']} has no port")
        existing = links.get(item["bridge"])
        if existing and existing["kind"] != "bridge":
            found.append(f"{item['bridge']} exists and is a {existing['kind']}, not a bridge")
        port = links.get(item["port"])
        if port and item["vlan"] is not None and port["kind"] == "vlan" \
                and port["vlan_id"] != item["vlan"]:  # fmt: skip
            found.append(f"{item['port']} is VLAN {port['vlan_id']}, not {item['vlan']}")
    return found


def plan(links, bridges):
    """The ``ip`` argv lists that make each bridge exist with its MAC, its port enslaved, up."""
    commands = []
    for item in bridges:
        bridge, port = item["bridge"], item["port"]
        if port not in links and item["vlan"] is not None:
            commands.append(["ip", "link", "add", "link", item["link"], "name", port,
                             "type", "vlan", "id", str(item["vlan"])])  # fmt: skip
        current = links.get(bridge)
        if current is None:
            commands.append(["ip", "link", "add", bridge, "address", item["mac"], "type",
                             "bridge", "stp_state", "0", "forward_delay", "0"])  # fmt: skip
        elif current["mac"] != item["mac"]:
            commands.append(["ip", "link", "set", "dev", bridge, "address", item["mac"]])
        if (links.get(port) or {}).get("master") != bridge:
            commands.append(["ip", "link", "set", "dev", port, "master", bridge])
        for device in (port, bridge):
            if not (links.get(device) or {}).get("up"):
                commands.append(["ip", "link", "set", "dev", device, "up"])
    return commands


def changes(before, after, bridges):
    """``{bridge: {created, mac: {old, new}, port: {old, new}}}`` for what differs."""
    result = {}
    for item in bridges:
        bridge, port = item["bridge"], item["port"]
        old, new = before.get(bridge), after.get(bridge) or {}
        entry = {}
        if old is None and after.get(bridge):
            entry["created"] = True
        if (old or {}).get("mac") != new.get("mac"):
            entry["mac"] = {"old": (old or {}).get("mac"), "new": new.get("mac")}
        old_master = (before.get(port) or {}).get("master")
        new_master = (after.get(port) or {}).get("master")
        if old_master != new_master:
            entry["port"] = {"old": old_master and port, "new": new_master and port}
        if entry:
            result[bridge] = entry
    return result


# --- Boot-time files -------------------------------------------------------------------------


def render(backend, bridges, bond_network=None, offloads=None):
    """
    ``{relative path: text}``: the files that create the bridges at boot for backend, and set
    the ports' offloads (``{offload: bool}``, see ethtool.py). networkd also needs bond_network,
    the path of the .network file that matches the bond (we add a drop-in beside it declaring
    the VLANs).
    """
    if not bridges:
        return {}
    files = {"ifupdown": _ifupdown, "netplan": _netplan, "networkd": _networkd}[backend](
        bridges, bond_network, offloads or {}
    )
    if offloads and backend != "ifupdown":
        for item in bridges:
            path = f"etc/systemd/network/90-{FILE_PREFIX}{item['port']}.link"
            files[path] = hostnode_ethtool.render_link(item["port"], offloads, HEADER)
    return files


def _ifupdown(bridges, _, offloads):
    # bridge-utils' ifupdown hook reads bridge_ports; vlan's hook creates bond0.100; the ethtool
    # package's hook sets the offload-* options. The untagged bridge's port, the bond, gets a
    # stanza of its own for them: ifupdown runs every stanza of an interface.
    options = hostnode_ethtool.ifupdown_options(offloads)
    stanzas = [f"# {HEADER}\n"]
    for item in bridges:
        if item["vlan"] is not None:
            stanzas.append(f"\nauto {item['port']}\niface {item['port']} inet manual\n"
                           f"    vlan-raw-device {item['link']}\n{options}")  # fmt: skip
        elif options:
            stanzas.append(f"\niface {item['port']} inet manual\n{options}")
        stanzas.append(
            f"\nauto {item['bridge']}\niface {item['bridge']} inet manual\n"
            f"    bridge_ports {item['port']}\n    bridge_stp off\n    bridge_fd 0\n"
            f"    hwaddress ether {item['mac']}\n"
        )
    return {f"etc/network/interfaces.d/{FILE_PREFIX}{bridges[0]['link']}": "".join(stanzas)}


def _netplan(bridges, _, __):
    vlans = {
        i["port"]: {"id": i["vlan"], "link": i["link"]} for i in bridges if i["vlan"] is not None
    }
    network = {"version": 2}
    if vlans:
        network["vlans"] = vlans
    network["bridges"] = {
        i["bridge"]: {"interfaces": [i["port"]], "macaddress": i["mac"],
                      "parameters": {"stp": False, "forward-delay": 0}}
        for i in bridges
    }  # fmt: skip
    text = f"# {HEADER}\n" + yaml.safe_dump({"network": network}, default_flow_style=False)
    return {f"etc/netplan/90-{FILE_PREFIX}{bridges[0]['link']}.yaml": text}


def _networkd(bridges, bond_network, _):
    files, vlan_lines = {}, []
    base = "etc/systemd/network/90-" + FILE_PREFIX
    for item in bridges:
        files[f"{base}{item['bridge']}.netdev"] = (
            f"# {HEADER}\n[NetDev]\nName={item['bridge']}\nKind=bridge\n"
            f"MACAddress={item['mac']}\n\n[Bridge]\nSTP=no\nForwardDelaySec=0\n"
        )
        files[f"{base}{item['port']}.network"] = (
            f"# {HEADER}\n[Match]\nName={item['port']}\n\n[Network]\nBridge={item['bridge']}\n"
        )
        if item["vlan"] is not None:
            files[f"{base}{item['port']}.netdev"] = (
                f"# {HEADER}\n[NetDev]\nName={item['port']}\nKind=vlan\n\n"
                f"[VLAN]\nId={item['vlan']}\n"
            )
            vlan_lines.append(f"VLAN={item['port']}\n")
    if vlan_lines:
        files[f"{bond_network}.d/{FILE_PREFIX}vlans.conf"] = f"# {HEADER}\n[Network]\n" + "".join(
            vlan_lines
        )
    return files
