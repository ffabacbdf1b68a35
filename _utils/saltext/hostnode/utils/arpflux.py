"""
ARP flux and reverse-path filtering on hosts with several NICs in one IPv4 subnet.

Two NICs in one subnet (iSCSI multipath to a SAN) make Linux answer ARP for either address on
either NIC ("ARP flux"), and strict reverse-path filtering drops what arrives on the NIC that is
not the route back. The fix is per interface: rp_filter 2 (loose) or 0, arp_ignore 1,
arp_announce 2. The kernel does not simply use the interface's value, though:

- rp_filter: "The max value from conf/{all,interface}/rp_filter is used when doing source
  validation on the {interface}." (Documentation/networking/ip-sysctl.rst; the code is
  IN_DEV_RPFILTER = IN_DEV_MAXCONF in include/linux/inetdevice.h)
- arp_ignore: "The max value from conf/{all,interface}/arp_ignore is used when ARP request is
  received on the {interface}" (ip-sysctl.rst; IN_DEV_ARP_IGNORE = IN_DEV_MAXCONF)
- arp_announce: "The max value from conf/{all,interface}/arp_announce is used."
  (ip-sysctl.rst; IN_DEV_ARP_ANNOUNCE = IN_DEV_MAXCONF)
- arp_filter: "arp_filter for the interface will be enabled if at least one of
  conf/{all,interface}/arp_filter is set to TRUE" (ip-sysctl.rst; IN_DEV_ARPFILTER =
  IN_DEV_ORCONF), which for the values 0 and 1 is the max as well.

So a value below conf/all's never takes effect: this module computes the effective values and
plans the writes that make them right, lowering conf/all only when it must and then raising the
other interfaces (and conf/default) so that their effective values stay as they were.
"""

import ipaddress
import json

# The keys this module manages and the values the kernel accepts for each.
VALID = {
    "rp_filter": (0, 1, 2),
    "arp_ignore": (0, 1, 2, 3, 8),
    "arp_announce": (0, 1, 2),
    "arp_filter": (0, 1),
}
# What a host with several NICs in one subnet needs (arp_filter is left as it is).
MULTIPATH = {"rp_filter": 2, "arp_ignore": 1, "arp_announce": 2}
TEMPLATES = ("all", "default")
_PREFIX = "net.ipv4.conf."
_TUNED = "# tuned: "


def sysctl_key(interface, key):
    """
    The sysctl name of an interface's key: a dot in the interface name becomes a slash.

    >>> sysctl_key("eth0.100", "rp_filter")
    'net.ipv4.conf.eth0/100.rp_filter'
    """
    return f"{_PREFIX}{interface.replace('.', '/')}.{key}"


def parse_sysctl(text):
    """
    Parse ``sysctl net.ipv4.conf`` output into ``{interface: {key: value}}`` (managed keys only).

    ::

        net.ipv4.conf.all.arp_ignore = 0
        net.ipv4.conf.eth0/100.rp_filter = 1

    gives ``{"all": {"arp_ignore": 0}, "eth0.100": {"rp_filter": 1}}``. Lines of other keys,
    blank lines and comments (a sysctl.d file) are skipped; a malformed line is a ValueError
    naming its number.
    """
    conf = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        name, separator, value = line.partition("=")
        name = name.strip()
        if not separator or not name.startswith(_PREFIX) or name.count(".") < 4:
            raise ValueError(f"sysctl line {number}: expected 'net.ipv4.conf.IF.KEY = N': {line!r}")
        interface, _, key = name[len(_PREFIX) :].rpartition(".")
        if key not in VALID:
            continue
        try:
            conf.setdefault(interface.replace("/", "."), {})[key] = int(value.strip())
        except ValueError:
            raise ValueError(f"sysctl line {number}: {key} is not a number: {line!r}") from None
    return conf


def parse_sysctl_output(text):
    """
    ``parse_sysctl`` of what ``sysctl net.ipv4.conf`` printed: that always holds conf/all, so
    text without it (empty, cut short, another command's output) is a ValueError.
    """
    conf = parse_sysctl(text)
    if "all" not in conf:
        raise ValueError("no net.ipv4.conf.all keys: not the output of sysctl net.ipv4.conf")
    return conf


def effective(conf, interface, key):
    """The value the kernel uses on interface: max(conf/all, conf/interface) for every key."""
    return max(conf.get("all", {}).get(key, 0), conf[interface].get(key, 0))


def status(conf, interfaces=None):
    """
    Configured and effective values per interface, with a warning where conf/all overrides.

    Returns ``{interface: {key: {"configured": n, "effective": n}, "warnings": [...]}}``.
    """
    report = {}
    for interface in interfaces or sorted(set(conf) - set(TEMPLATES)):
        entry = {"warnings": []}
        for key in VALID:
            configured = conf[interface].get(key, 0)
            used = effective(conf, interface, key)
            entry[key] = {"configured": configured, "effective": used}
            if used != configured:
                entry["warnings"].append(
                    f"{key}: conf/all ({used}) overrides the interface's {configured}"
                )
        report[interface] = entry
    return report


def lowers_all(conf_all, values):
    """Whether making values take effect lowers conf/all: then every interface's values count."""
    return any(conf_all.get(key, 0) > wanted for key, wanted in values.items())


def plan(conf, interfaces, values):
    """
    The writes that make the effective values of interfaces equal values. conf holds conf/all
    and interfaces, and every other interface too when lowers_all.

    Returns ``[(interface, key, old, new), ...]`` in the order to apply them: other interfaces
    and conf/default are raised before conf/all is lowered, so no interface ever passes through
    a weaker setting. ``[]`` when everything is already right.
    """
    writes = []
    for key, wanted in values.items():
        current_all = conf["all"].get(key, 0)
        for interface in interfaces:
            if conf[interface].get(key, 0) != wanted:
                writes.append((interface, key, conf[interface].get(key, 0), wanted))
        if current_all > wanted:
            writes.extend(_keep_others(conf, interfaces, key, current_all))
            writes.append(("all", key, current_all, wanted))
    return writes


def _keep_others(conf, interfaces, key, current_all):
    """Raise every other interface, and the template for new ones, to what conf/all gave them."""
    others = sorted(set(conf) - set(interfaces) - {"all"})
    return [
        (other, key, conf[other].get(key, 0), current_all)
        for other in others
        if conf[other].get(key, 0) < current_all
    ]


def subnet_groups(addresses_json):
    """
    Interfaces that share an IPv4 subnet (the ARP flux condition), from ``ip -json addr``.

    Returns ``[{"subnet": "198.51.100.0/24", "interfaces": ["eth1", "eth2"]}, ...]`` for every
    subnet with two or more interfaces, sorted by subnet; lo and secondary addresses of one
    interface in its own subnet do not count.
    """
    try:
        links = json.loads(addresses_json)
    except json.JSONDecodeError as exc:
        raise ValueError(f"ip addr JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(links, list):
        raise ValueError("ip addr JSON: expected a list of links")
    members = {}
    for index, link in enumerate(links):
        if not isinstance(link, dict) or not isinstance(link.get("ifname"), str):
            raise ValueError(f"ip addr JSON, link {index}: expected an object with 'ifname'")
        if link["ifname"] == "lo":
            continue
        for subnet in _subnets(link.get("addr_info", []), f"ip addr JSON, link {index}"):
            members.setdefault(subnet, set()).add(link["ifname"])
    return [
        {"subnet": str(subnet), "interfaces": sorted(names)}
        for subnet, names in sorted(members.items(), key=lambda item: int(item[0].network_address))
        if len(names) > 1
    ]


def _subnets(addresses, where):
    """The IPv4 subnets of one link's addr_info; ValueError naming the link for a bad entry."""
    if not isinstance(addresses, list):
        raise ValueError(f"{where}: addr_info is not a list")
    subnets = []
    for address in addresses:
        if not isinstance(address, dict):
            raise ValueError(f"{where}: addr_info entry {address!r} is not an object")
        if address.get("family") != "inet":
            continue
        try:
            interface = f"{address['local']}/{address['prefixlen']}"
            subnets.append(ipaddress.IPv4Interface(interface).network)
        except (KeyError, ValueError):
            raise ValueError(f"{where}: {address!r} is not an address with a prefixlen") from None
    return subnets


def tuned_in(text):
    """
    The interfaces a sysctl.d file of ours names as tuned (its ``# tuned:`` comment line)::

        # tuned: stor-a stor-b

    gives ``["stor-a", "stor-b"]``; ``[]`` for no file or no such line.
    """
    for line in (text or "").splitlines():
        if line.startswith(_TUNED):
            return line[len(_TUNED) :].split()
    return []


def persist(old, tuned_before, writes, interfaces, values):
    """
    ``{interface: {key: value}}`` for hostnode's sysctl.d file after tuning interfaces to
    values: the old file's (parsed) without the interfaces it named as tuned, so one that is
    no longer tuned leaves the file, then the writes (conf/all lowered, other interfaces and
    conf/default raised to keep their effective values), then interfaces with values.
    """
    conf = {name: dict(keys) for name, keys in old.items() if name not in tuned_before}
    for interface, key, _, new in writes:
        conf.setdefault(interface, {})[key] = new
    for interface in interfaces:
        conf.setdefault(interface, {}).update(values)
    return conf


def render_sysctl_d(conf, header, tuned=()):
    """
    A sysctl.d file that sets every managed key of conf (as {interface: {key: value}}), naming
    the tuned interfaces in a comment line (``tuned_in`` reads it back).
    """
    lines = [f"# {header}"]
    if tuned:
        lines.append(f"{_TUNED}{' '.join(tuned)}")
    for interface in sorted(conf, key=lambda name: (name not in TEMPLATES, name)):
        lines += [
            f"{sysctl_key(interface, key)} = {conf[interface][key]}"
            for key in VALID
            if key in conf[interface]
        ]
    return "\n".join(lines) + "\n"
