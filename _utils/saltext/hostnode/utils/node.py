"""
A node's identity and kernel settings as files hostnode owns: the hostname, one block of
/etc/hosts, the kernel modules to load with their options, and a sysctl profile; and the pillar
checks that stop a bootstrap before anything changes.

Everything here is pure: the node module reads the files and the kernel and passes them in.
"""

import ipaddress
import re

# The first line of every file the node formula writes whole.
HEADER = "Managed by hostnode (node formula); local changes are overwritten."
HOSTS_BEGIN = "# BEGIN hostnode (node formula): lines up to END are managed, local edits are lost"
HOSTS_END = "# END hostnode"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MODULE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_OPTION = re.compile(r"^[A-Za-z0-9_]+$")
_SYSCTL_KEY = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$")
_SYSCTL_VALUE = re.compile(r"^[^\s=#;]+( [^\s=#;]+)*$")


def fqdn(value, field):
    """value as a lower-case FQDN (two labels at least), or ValueError naming field."""
    if not isinstance(value, str):
        raise ValueError(f"{field}: {value!r} is not a host name")
    name = value.strip().lower().rstrip(".")
    labels = name.split(".")
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{field}: {value!r} is not a fully qualified host name (host.domain)")
    return name


def address(value, field):
    """value as an IP address string, or ValueError naming field."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not an IP address") from None


# --- /etc/hostname and /etc/hosts ------------------------------------------------------------


def render_hostname(name):
    """/etc/hostname: the FQDN, which `hostname` then prints, as Ganeti requires."""
    return name + "\n"


def hosts_entries(hosts, field):
    """
    ``{fqdn: ip}`` as validated ``[(ip, fqdn, short)]`` in the order given by the addresses, so
    the block reads like a zone: ``10.1.0.10 ganeti.ams1.example.net ganeti``.
    """
    if not isinstance(hosts, dict):
        raise ValueError(f"{field}: expected a mapping of host name to IP address")
    entries = []
    for name, ip in hosts.items():
        full = fqdn(name, f"{field}:{name}")
        entries.append((address(ip, f"{field}:{name}"), full, full.split(".")[0]))
    return sorted(entries, key=lambda e: (ipaddress.ip_address(e[0]).version,
                                          ipaddress.ip_address(e[0]), e[1]))  # fmt: skip


def render_hosts(text, entries):
    """
    /etc/hosts with our block (``ip fqdn short`` per entry) first, and every line outside the
    block kept as it was. The block comes first because the resolver takes the first line that
    names a host: a Debian installer's ``127.0.1.1 fqdn short`` further down then no longer wins,
    and Ganeti sees the node's real address.
    """
    others = _outside_block(text or "")
    block = [HOSTS_BEGIN, *(" ".join(entry) for entry in entries), HOSTS_END]
    lines = (block if entries else []) + others
    return "\n".join(lines) + "\n" if lines else ""


def _outside_block(text):
    lines, inside = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("# BEGIN hostnode"):
            if inside:
                raise ValueError(f"line {number}: a second hostnode block begins before END")
            inside = True
        elif line == HOSTS_END:
            inside = False
        elif not inside:
            lines.append(line)
    if inside:
        raise ValueError("the hostnode block has no END line")
    return lines


def shadowing_lines(text, entries):
    """Lines outside our block that give one of our names another address (worth a warning)."""
    ours = {name: ip for ip, full, short in entries for name in (full, short)}
    found = []
    for line in _outside_block(text or ""):
        fields = line.split("#")[0].split()
        if len(fields) >= 2 and any(ours.get(n, fields[0]) != fields[0] for n in fields[1:]):
            found.append(line)
    return found


# --- Kernel modules --------------------------------------------------------------------------


def kernel_modules(modules, field):
    """
    ``{name: {options: {key: value}}}`` (or ``{name: null}``) validated, as
    ``{name: {key: "value"}}``.
    """
    if not isinstance(modules, dict):
        raise ValueError(f"{field}: expected a mapping of module name to settings")
    result = {}
    for name, settings in modules.items():
        where = f"{field}:{name}"
        if not isinstance(name, str) or not _MODULE.match(name):
            raise ValueError(f"{where}: not a kernel module name")
        if not isinstance(settings or {}, dict) or set(settings or {}) - {"options"}:
            raise ValueError(f"{where}: expected {{options: {{key: value}}}}")
        options = (settings or {}).get("options") or {}
        if not isinstance(options, dict):
            raise ValueError(f"{where}:options: expected a mapping of option to value")
        for key, value in options.items():
            if not _OPTION.match(str(key)) or not _SYSCTL_VALUE.match(_option_text(value)):
                raise ValueError(f"{where}:options:{key}: {value!r} is not a module option")
        result[name.replace("-", "_")] = {str(k): _option_text(v) for k, v in options.items()}
    return result


def _option_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def render_modules_load(modules, header):
    """modules-load.d(5): one module per line, loaded at boot by systemd-modules-load."""
    if not modules:
        return None
    return "".join([f"# {header}\n", *(f"{name}\n" for name in sorted(modules))])


def render_modprobe(modules, header):
    """modprobe.d(5): an ``options`` line per module that has options."""
    lines = [
        f"options {name} " + " ".join(f"{k}={v}" for k, v in sorted(options.items())) + "\n"
        for name, options in sorted(modules.items())
        if options
    ]
    return "".join([f"# {header}\n", *lines]) if lines else None


def option_mismatches(modules, loaded_parameters):
    """
    ``{module: {option: {"wanted", "loaded"}}}`` for loaded modules whose parameters differ
    from the options (loaded_parameters: ``{module: {parameter: value}}`` from /sys/module).
    """
    found = {}
    for name, options in modules.items():
        parameters = loaded_parameters.get(name)
        if parameters is None:
            continue
        for key, wanted in options.items():
            if key in parameters and parameters[key] != wanted:
                found.setdefault(name, {})[key] = {"wanted": wanted, "loaded": parameters[key]}
    return found


# --- sysctl profile --------------------------------------------------------------------------


def sysctl_profile(values, field):
    """``{key: value}`` validated, values as the kernel prints them (``1``, ``4096 87380``)."""
    if not isinstance(values, dict):
        raise ValueError(f"{field}: expected a mapping of sysctl key to value")
    result = {}
    for key, value in values.items():
        where = f"{field}:{key}"
        if not isinstance(key, str) or not _SYSCTL_KEY.match(key):
            raise ValueError(f"{where}: not a sysctl key (dotted, like vm.swappiness)")
        text = " ".join(map(str, value)) if isinstance(value, list) else _option_text(value)
        text = text.strip()
        if not _SYSCTL_VALUE.match(text):
            raise ValueError(f"{where}: {value!r} is not a sysctl value")
        result[key] = text
    return result


def proc_path(key):
    """The /proc/sys path of a dotted key."""
    return "/proc/sys/" + key.replace(".", "/")


def render_sysctl(values, header):
    """sysctl.d(5): ``key = value`` sorted, or None when there is nothing to set."""
    if not values:
        return None
    return "".join([f"# {header}\n", *(f"{k} = {v}\n" for k, v in sorted(values.items()))])


def parse_sysctl(text, where):
    """``key = value`` lines (comments and blanks skipped) as ``{key: value}``."""
    values = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not _SYSCTL_KEY.match(key.strip()):
            raise ValueError(f"{where}: line {number}: not 'key = value': {line!r}")
        values[key.strip()] = " ".join(value.split())
    return values


def sysctl_writes(values, current):
    """``[(key, old, new)]`` for keys whose current value (whitespace-normalised) differs."""
    writes = []
    for key, wanted in sorted(values.items()):
        old = current.get(key)
        if old is not None and " ".join(old.split()) != wanted:
            writes.append((key, " ".join(old.split()), wanted))
    return writes


# --- Pillar checks before anything changes ---------------------------------------------------

ARPFLUX_KEYS = ("rp_filter", "arp_ignore", "arp_announce", "arp_filter")


def pillar_problems(anyip, storage_subnets, addresses, sysctl, storage_node):
    """
    What in the merged pillar would break the node, each naming its key:

    - an AnyIP prefix (``anyip``: ``{key: prefix}``) that overlaps a storage subnet
      (``storage_subnets``: ``{key: network}``) or holds a node address (``addresses``:
      ``{key: ip}``): the kernel then answers ARP for it locally and drops replies whose sender
      is "local", so storage paths or the node itself become unreachable;
    - on a node that gets the storage_net formula (storage_node), a global (``all`` or
      ``default``) rp_filter or ARP key in the node's sysctl profile (``sysctl``: ``{key:
      (pillar key, value)}``): arpflux owns those there, lowering ``all`` so the SAN NICs'
      own values take effect, and two owners would undo each other on every run; strict
      reverse-path filtering (1) would moreover drop the second path's replies.
    """
    problems = []
    for key, prefix in anyip.items():
        network = ipaddress.ip_network(prefix, strict=False)
        for other_key, subnet in storage_subnets.items():
            other = ipaddress.ip_network(subnet, strict=False)
            if network.version == other.version and network.overlaps(other):
                problems.append(f"{key}: AnyIP prefix {prefix} overlaps storage subnet {subnet} "
                                f"({other_key})")  # fmt: skip
        for other_key, ip in addresses.items():
            if ipaddress.ip_address(ip) in network:
                problems.append(f"{key}: AnyIP prefix {prefix} holds the node address {ip} "
                                f"({other_key})")  # fmt: skip
    if storage_node:
        for key, (pillar_key, value) in sorted(sysctl.items()):
            scope, _, name = key.removeprefix("net.ipv4.conf.").partition(".")
            if key.startswith("net.ipv4.conf.") and scope in ("all", "default") \
                    and name in ARPFLUX_KEYS:  # fmt: skip
                why = ("strict reverse-path filtering drops the replies of the second SAN path"
                       if name == "rp_filter" and str(value).strip() == "1"
                       else "arpflux (storage_net) sets it on this node")  # fmt: skip
                problems.append(f"{pillar_key}: not in the node's sysctl profile on a storage "
                                f"node: {why}")  # fmt: skip
    return problems
