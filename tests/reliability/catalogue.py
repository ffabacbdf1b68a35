"""
The bad-input catalogue: one row per case, each with what it is given, the error it must end
in (a substring that names the field or the line) and what must be left as it was.

Kinds of row:

- ``source``: a read function parsing a saved tool output (``source=``) that is cut short,
  garbled, empty, another release's or another tool's format, or binary noise;
- ``call``: an execution function given a bad argument, its commands answered by a
  CommandTable (nothing runs for real);
- ``state``: a state function given a bad argument, over the real execution modules whose
  commands a CommandTable answers: ``result: False`` naming it, no changes;
- ``nodedb``: an iSCSI state given a bad argument over open-iscsi's real node database (a
  private mount namespace whose /etc/iscsi holds a record);
- ``live``: an execution function given a bad argument inside a network namespace with a
  config root of its own, for real;
- ``formula``: ``state.apply`` of a formula with a malformed pillar, for real in a network
  namespace (``bin/hostnode-call``).

``tests/reliability/README.md`` is this table rendered (``python tests/reliability/catalogue.py``
rewrites it; a test checks that it is current).
"""

import dataclasses
import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
README = pathlib.Path(__file__).resolve().parent / "README.md"

NODE_RECORDS = "iSCSI node records (checksums)"
CHAP_SECRET = "Rel-Inputs-S3cret"  # nodedb rows: a password that must never be printed
NOTHING_RUN = "no command run"
NO_MUTATION = "no command that changes anything"
FILES = "files under config_root"
NETWORK = "routes, sysctls, links and MACs"
DISK = "the disk's checksum"
LOOP = "<loop>"  # live rows: a loop device holding ext4, made for the row


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    kind: str  # source, call, live or formula
    target: str  # module.function, or the formula's SLS
    given: str  # the bad input, in words
    error: str  # a substring of the error: it names the field or the line
    unchanged: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    content: bytes = b""  # source rows: the saved output
    pillar: dict = dataclasses.field(default_factory=dict)  # formula rows: hostnode:<...>
    reads: tuple = ()  # call rows: read-only commands it may run first
    stage: str = ""  # formula rows: render or state

    @property
    def module(self):
        return self.target.split(".")[0]

    @property
    def function(self):
        return self.target.split(".")[1]


def fixture(tool, case):
    return (FIXTURES / tool / case).read_bytes()


def truncated(tool, case, fraction=0.5):
    """A real capture cut mid-way (mid-line), as a support bundle copied while it was written."""
    data = fixture(tool, case)
    cut = int(len(data) * fraction)
    while data[cut : cut + 1] in (b"\n", b" "):
        cut += 1
    return data[:cut]


def garbled(tool, case, old, new):
    """A real capture with one part replaced: a column shifted, a key renamed, a value broken."""
    data = fixture(tool, case)
    assert old.encode() in data, f"{tool}/{case} has no {old!r}"
    return data.replace(old.encode(), new.encode(), 1)


# Not UTF-8 (0xff, 0xfe), as /dev/urandom or a core file gives.
BINARY = bytes(range(256)) * 4
# UTF-8, but no tool prints it: control characters and NUL.
NOISE = b"\x00\x01\x02\x1b[0m\x07\x7f" * 40 + b"\n"


def source(id, target, given, content, error, **kwargs):
    return Case(id, "source", target, given, error, (NOTHING_RUN, FILES), kwargs, content)


def call(id, target, kwargs, error, given=None, reads=()):
    unchanged = (NO_MUTATION, FILES)
    return Case(id, "call", target, given or _shown(kwargs), error, unchanged, kwargs, reads=reads)


def state(id, target, kwargs, error):
    """A state function with a bad argument: result False naming it, no changes, no command."""
    unchanged = (NO_MUTATION, FILES)
    return Case(id, "state", target, _shown(kwargs), error, unchanged, {"name": id, **kwargs})


def nodedb(id, target, kwargs, error):
    """A state over open-iscsi's real node database (a private /etc/iscsi holding a record)."""
    unchanged = (NODE_RECORDS, "no secret in the output")
    return Case(id, "nodedb", target, _shown(kwargs), error, unchanged, kwargs)


def live(id, target, kwargs, error, given=None):
    unchanged = (NETWORK, FILES, DISK) if LOOP in repr(kwargs) else (NETWORK, FILES)
    return Case(id, "live", target, given or _shown(kwargs), error, unchanged, kwargs)


def formula(id, sls, pillar, error, stage="render"):
    """stage: where it fails: while the SLS renders (map.jinja), in the node formula's first
    state (preflight, failhard: its own rounds) or in its state."""
    unchanged = (NETWORK, FILES)
    return Case(id, "formula", sls, _shown(pillar), error, unchanged, pillar=pillar, stage=stage)


def _shown(values):
    return ", ".join(f"{key}={value!r}" for key, value in values.items())


GANETI = {"cluster_name": "ganeti.ams1.example.net", "master": "hv1.ams1.example.net",
          "vg_name": "xenvg"}  # fmt: skip

SOURCES = [
    # anyip.list: ip -json route show table local
    source("anyip-truncated", "anyip.list", "ip -json local table cut mid-way",
           truncated("ip", "local-table-anyip.txt"), "line 1: not ip -json route output"),
    source("anyip-garbled-dst", "anyip.list", "a route whose dst is not a prefix",
           garbled("ip", "local-table-anyip.txt", '"dst":"127.0.0.0/8"', '"dst":"127.0.0/88"'),
           "not ip -json route output"),
    source("anyip-other-tool", "anyip.list", "ip -json addr output instead of routes",
           fixture("ip", "addr-storage-node.txt"), "not ip -json route output"),
    source("anyip-text-format", "anyip.list", "plain sysctl text instead of JSON",
           fixture("sysctl", "net-ipv4-conf.txt"), "line 1: not ip -json route output"),
    source("anyip-binary", "anyip.list", "binary noise", BINARY, "not text (byte"),
    # arpflux.status: sysctl net.ipv4.conf
    source("arpflux-status-truncated", "arpflux.status", "sysctl output cut mid-line",
           fixture("sysctl", "net-ipv4-conf.txt")[:-20],
           "line 363: not sysctl net.ipv4.conf output"),
    source("arpflux-status-garbled", "arpflux.status", "a key without its value",
           garbled("sysctl", "net-ipv4-conf.txt", "all.arp_ignore = 0", "all.arp_ignore"),
           "line 8: not sysctl net.ipv4.conf output"),
    source("arpflux-status-empty", "arpflux.status", "an empty file", b"",
           "not sysctl net.ipv4.conf output"),
    source("arpflux-status-other-tool", "arpflux.status", "/proc/user_beancounters instead",
           fixture("beancounters", "scout-host-0.txt"), "line 1: not sysctl net.ipv4.conf output"),
    source("arpflux-status-noise", "arpflux.status", "control characters and NUL", NOISE,
           "line 1: not sysctl net.ipv4.conf output"),
    # arpflux.detect: ip -json addr show
    source("arpflux-detect-truncated", "arpflux.detect", "ip -json addr cut mid-way",
           truncated("ip", "addr-storage-node.txt"), "line 1: not ip -json addr output"),
    source("arpflux-detect-not-a-list", "arpflux.detect", "a JSON object, not a list of links",
           b'{"ifname": "eth0"}', "not ip -json addr output"),
    source("arpflux-detect-garbled-prefix", "arpflux.detect", "an address whose prefixlen is 33",
           garbled("ip", "addr-storage-node.txt", '"prefixlen":24', '"prefixlen":33'),
           "not ip -json addr output"),
    source("arpflux-detect-other-tool", "arpflux.detect", "ceph osd tree JSON instead",
           fixture("ceph", "osd-tree-healthy.json"), "not ip -json addr output"),
    # beancounters.read: /proc/user_beancounters
    source("beancounters-truncated", "beancounters.read", "cut in the middle of a row",
           truncated("beancounters", "scout-host-0.txt"),
           "line 14: not a copy of /proc/user_beancounters"),
    source("beancounters-garbled", "beancounters.read", "a letter in a number column",
           garbled("beancounters", "scout-host-0.txt", "29696618", "2969661B"),
           "line 3: not a copy of /proc/user_beancounters"),
    source("beancounters-empty", "beancounters.read", "an empty file", b"",
           "line 1: not a copy of /proc/user_beancounters"),
    source("beancounters-bare-ctid", "beancounters.read", "a '<ctid>:' line without a resource",
           b"Version: 2.5\n       uid  resource  held maxheld barrier limit failcnt\n   101:\n",
           "line 3: not a copy of /proc/user_beancounters"),
    source("beancounters-binary", "beancounters.read", "binary noise", BINARY, "not text (byte"),
    # bond.info: /proc/net/bonding/<bond>
    source("bond-truncated", "bond.info", "cut before the Bonding Mode line",
           fixture("bonding", "802.3ad.txt")[:60],
           "not a copy of /proc/net/bonding/<bond>", bond="bond0"),
    source("bond-garbled-number", "bond.info", "MII Polling Interval not a number",
           garbled("bonding", "802.3ad.txt", "(ms): 100", "(ms): lots"),
           "line 6: not a copy of /proc/net/bonding/<bond>", bond="bond0"),
    source("bond-unknown-mode", "bond.info", "a bonding mode no kernel prints",
           garbled("bonding", "802.3ad.txt", "IEEE 802.3ad Dynamic", "IEEE 802.1q Static"),
           "not a copy of /proc/net/bonding/<bond>", bond="bond0"),
    source("bond-other-tool", "bond.info", "iscsiadm session output instead",
           fixture("iscsiadm", "session-P1.txt"),
           "line 1: not a copy of /proc/net/bonding/<bond>", bond="bond0"),
    # ceph_osd.list / tree / inventory
    source("ceph-list-truncated", "ceph_osd.list", "ceph-volume raw list cut mid-way",
           truncated("ceph-volume", "raw-list-three.json"), "line"),
    source("ceph-list-other-tool", "ceph_osd.list", "ceph osd tree JSON instead",
           fixture("ceph", "osd-tree-healthy.json"), "not ceph-volume lvm/raw list output"),
    source("ceph-list-lvm-two-blocks", "ceph_osd.list", "lvm list: an OSD with no block volume",
           garbled("ceph-volume", "lvm-list-db.json", '"type": "block"', '"type": "blocks"'),
           "not ceph-volume lvm/raw list output"),
    source("ceph-list-garbled-id", "ceph_osd.list", "raw list: osd_id not a number",
           garbled("ceph-volume", "raw-list-three.json", '"osd_id": 0', '"osd_id": "zero"'),
           "not ceph-volume lvm/raw list output"),
    source("ceph-tree-other-format", "ceph_osd.tree", "ceph-volume inventory JSON instead",
           fixture("ceph-volume", "inventory.json"), "not ceph osd tree -f json output"),
    source("ceph-tree-empty", "ceph_osd.tree", "an empty file", b"",
           "line 1: not ceph osd tree -f json output"),
    source("ceph-inventory-garbled", "ceph_osd.inventory", "a device without sys_api",
           garbled("ceph-volume", "inventory.json", '"sys_api"', '"sys_apo"'),
           "not ceph-volume inventory --format json output"),
    source("ceph-inventory-binary", "ceph_osd.inventory", "binary noise", BINARY,
           "not text (byte"),
    # ganeti.cluster_info / nodes
    source("ganeti-info-truncated", "ganeti.cluster_info", "gnt-cluster info without its head",
           fixture("ganeti", "cluster-info-one-node.txt")[40:], "not gnt-cluster info output"),
    source("ganeti-info-empty", "ganeti.cluster_info", "an empty file", b"",
           "not gnt-cluster info output"),
    source("ganeti-nodes-garbled", "ganeti.nodes", "a column missing",
           garbled("ganeti", "node-list-one-node.txt", "|Y|N|N", "|Y|N"),
           "line 1: not gnt-node list output"),
    source("ganeti-nodes-other-tool", "ganeti.nodes", "gnt-cluster info instead",
           fixture("ganeti", "cluster-info-one-node.txt"), "line 1: not gnt-node list output"),
    # iscsi.nodes / sessions / ifaces / discover
    source("iscsi-nodes-garbled", "iscsi.nodes", "a record without its tpgt",
           garbled("iscsiadm", "node-six-records.txt", "192.0.2.3:3260,1", "192.0.2.3:3260"),
           "line 3: not iscsiadm -m node output"),
    source("iscsi-nodes-bad-portal", "iscsi.nodes", "a portal with port 99999",
           garbled("iscsiadm", "node-six-records.txt", "198.51.100.1:3260", "198.51.100.1:99999"),
           "line 5: not iscsiadm -m node output"),
    source("iscsi-sessions-other-format", "iscsi.sessions", "the iface tree instead (-P 1 is read)",
           fixture("iscsiadm", "iface-P1.txt"), "line 1: not iscsiadm -m session output"),
    source("iscsi-sessions-noise", "iscsi.sessions", "control characters and NUL", NOISE,
           "line 1: not iscsiadm -m session output"),
    source("iscsi-ifaces-truncated", "iscsi.ifaces", "cut mid-line",
           truncated("iscsiadm", "iface-two-bound.txt", 0.3),
           "line 2: not iscsiadm -m iface output"),
    source("iscsi-discover-other-tool", "iscsi.discover", "ip -json addr output instead",
           fixture("ip", "addr-storage-node.txt"), "line 1: not iscsiadm -m discovery output"),
    # multipath.maps: multipath -ll, multipathd show maps json
    source("multipath-ll-truncated", "multipath.maps", "multipath -ll cut after a map header",
           fixture("multipath", "ll-healthy.txt").split(b"\n")[0] + b"\n",
           "line 1: not multipath -ll or multipathd show maps json output"),
    source("multipath-ll-garbled", "multipath.maps", "a path before its path group",
           b"\n".join(fixture("multipath", "ll-healthy.txt").split(b"\n")[i] for i in (0, 1, 3)),
           "line 3: not multipath -ll or multipathd show maps json output"),
    source("multipath-json-truncated", "multipath.maps", "maps JSON cut mid-way",
           truncated("multipath", "maps-json-healthy.txt"), "line"),
    source("multipath-json-other-version", "multipath.maps", "JSON without the maps list",
           garbled("multipath", "maps-json-healthy.txt", '"maps"', '"multipaths"'),
           "not multipath -ll or multipathd show maps json output"),
    source("multipath-noise", "multipath.maps", "control characters and NUL", NOISE,
           "line 1: not multipath -ll or multipathd show maps json output"),
]  # fmt: skip

CALLS = [
    call("anyip-host-bits", "anyip.converge", {"prefixes": ["198.51.100.1/24"]},
         "prefixes[0]: '198.51.100.1/24' has host bits set"),
    call("anyip-not-a-prefix", "anyip.add", {"prefixes": "198.51.100.0/24,300.1.2.0/24"},
         "prefixes[1]: '300.1.2.0/24' is not an IPv4 or IPv6 prefix"),
    call("anyip-prefix-wrong-type", "anyip.add", {"prefixes": {"a": 1}},
         "prefixes: expected a list"),
    call("anyip-mapped-v6", "anyip.add", {"prefixes": ["::ffff:198.51.100.0/120"]},
         "prefixes[0]: '::ffff:198.51.100.0/120' mixes families"),
    call("anyip-mode", "anyip.converge", {"prefixes": [], "mode": "exact"},
         "mode: 'exact' is not one of"),
    call("anyip-random-count", "anyip.random_addresses", {"prefix": "192.0.2.0/24", "count": 0},
         "count: 0 is not a positive whole number"),
    call("arpflux-value-range", "arpflux.tune",
         {"interfaces": ["eth1"], "values": {"rp_filter": 3}},
         "values.rp_filter: 3 is not one of 0, 1, 2"),
    call("arpflux-unknown-key", "arpflux.tune",
         {"interfaces": ["eth1"], "values": {"arp_accept": 1}},
         "values: 'arp_accept' is not a key arpflux manages"),
    call("bond-name-too-long", "bond.info", {"bond": "bond0123456789ab"},
         "bond: 'bond0123456789ab' is not a valid interface name"),
    call("bond-pin-multicast-mac", "bond.pin_mac", {"bond": "bond0", "mac": "01:00:5e:00:00:01"},
         "mac: '01:00:5e:00:00:01' is a multicast address"),
    call("bond-pin-not-a-mac", "bond.pin_mac", {"bond": "bond0", "mac": "52:54:00:12:34"},
         "mac: '52:54:00:12:34' is not a MAC"),
    call("bond-slave-metachar", "bond.pin_mac",
         {"bond": "bond0", "mac": "first-slave", "slaves": ["eth0", "eth1;reboot"]},
         "slaves[1]: 'eth1;reboot' is not a valid interface name"),
    call("ceph-device-dotdot", "ceph_osd.zap", {"device": "/dev/../etc/passwd"},
         "device: '/dev/../etc/passwd' is not a device path under /dev"),
    call("ceph-device-relative", "ceph_osd.create", {"device": "sdb"},
         "device: 'sdb' is not a device path under /dev"),
    call("ceph-osd-id", "ceph_osd.remove", {"osd_id": "-1"}, "osd_id: '-1' is not an OSD id"),
    call("ceph-provision-empty", "ceph_osd.provision", {"devices": []},
         "devices: must be a non-empty list"),
    call("iscsi-bad-iqn", "iscsi.login", {"target": "iqn.26-11.example", "portals": ["192.0.2.1"]},
         "target: 'iqn.26-11.example' is not an iSCSI name"),
    call("iscsi-bad-portal", "iscsi.login",
         {"target": "iqn.2026-11.net.example:san", "portals": ["192.0.2.1:0"]},
         "portals:0:portal: '192.0.2.1:0' has no valid port"),
    call("iscsi-hostname-portal", "iscsi.discover", {"portal": "san.example.net"},
         "portal: 'san.example.net' is not a portal"),
    call("iscsi-empty-portals", "iscsi.login",
         {"target": "iqn.2026-11.net.example:san", "portals": []},
         "portals: must be a non-empty list"),
    call("iscsi-login-timeout-range", "iscsi.login",
         {"target": "iqn.2026-11.net.example:san", "portals": ["192.0.2.1"], "login_timeout": 0},
         "login_timeout: 0 is not a whole number of 1 or more"),
    call("iscsi-iface-metachar", "iscsi.iface_bind", {"iface": "ieth$(id)", "netdev": "eth1"},
         "iface: 'ieth$(id)' is not a usable name"),
    call("iscsi-logout-bad-iqn", "iscsi.logout", {"target": "san"},
         "target: 'san' is not an iSCSI name"),
    call("multipath-unknown-section", "multipath.configure", {"config": {"default": {}}},
         "config: unknown section(s) default"),
    call("multipath-min-paths", "multipath.health", {"min_paths": 0},
         "min_paths: 0 is not a whole number of 1 or more"),
    call("multipath-metrics-path", "multipath.write_metrics", {"path": "../metrics.prom"},
         "path: '../metrics.prom' must be an absolute path ending in .prom"),
    call("beancounters-threshold", "beancounters.near_limit", {"threshold": 1.5},
         "threshold: 1.5 is not a fraction in (0, 1]"),
    call("beancounters-ctid", "beancounters.set_limits",
         {"ctid": "101; reboot", "limits": {"numproc": 400}},
         "ctid: '101; reboot' is not a container id"),
    call("beancounters-barrier-above-limit", "beancounters.set_limits",
         {"ctid": 101, "limits": {"numproc": "500:400"}},
         "limits.numproc: the barrier 500 is above the limit 400"),
    call("beancounters-delta-name", "beancounters.delta", {"name": "../../etc/x"},
         "name: '../../etc/x' must be letters"),
    call("node-hostname-not-fqdn", "node.hostname", {"name": "hv1"},
         "name: 'hv1' is not a fully qualified host name"),
    call("node-hosts-bad-ip", "node.hosts", {"entries": {"hv1.ams1.example.net": "10.1.0.300"}},
         "10.1.0.300' is not an IP address"),
    call("node-kernel-module-metachar", "node.kernel_modules", {"modules": {"drbd;rm": {}}},
         "not a kernel module name"),
    call("node-sysctl-dotdot", "node.sysctl", {"values": {"../../kernel.panic": 1}},
         "not a sysctl key"),
    call("bridges-vlan-range", "bridges.converge", {"bond": "bond0", "vlans": [4095]},
         "vlans:4095: a VLAN id is 1-4094", reads=(("ip", "-json", "-d", "link", "show"),)),
    call("node-vg-name", "node_lvm.volume_group", {"name": "vg/../x", "devices": ["/dev/sdb"]},
         "name: 'vg/../x' is not a volume group name"),
    call("ganeti-not-a-mapping", "ganeti.init_cluster", {"settings": ["name"]},
         "hostnode:node:ganeti: a mapping"),
    call("ganeti-nodes-not-a-list", "ganeti.add_node", {"settings": {**GANETI, "nodes": 5}},
         "hostnode:node:ganeti:nodes: a list of host names, got 5"),
    call("ganeti-vg-missing", "ganeti.init_cluster", {"settings": {**GANETI, "vg_name": None}},
         "hostnode:node:ganeti:vg_name: the disk templates ['plain'] need a volume group"),
    call("cephfs-relative-path", "cephfs.rstats", {"path": "srv/share"},
         "path: 'srv/share' must be an absolute path"),
]  # fmt: skip

STATES = [
    state("state-anyip-managed-host-bits", "anyip.managed", {"prefixes": ["10.0.0.1/8"]},
          "prefixes[0]: '10.0.0.1/8' has host bits set"),
    state("state-arpflux-value", "arpflux.tuned",
          {"interfaces": ["eth1"], "values": {"rp_filter": 9}}, "values.rp_filter: 9"),
    state("state-bond-name-metachar", "bond.mac_pinned", {"name": "bond0$(reboot)"},
          "bond: 'bond0$(reboot)' is not a valid interface name"),
    state("state-iscsi-bad-iqn", "iscsi.logged_in", {"name": "iqn.x", "portals": ["192.0.2.1"]},
          "target: 'iqn.x' is not an iSCSI name"),
    state("state-iscsi-portal-keys", "iscsi.logged_in",
          {"name": "iqn.2026-11.net.example:san", "portals": [{"portal": "192.0.2.1",
                                                               "ifcae": "ieth-a"}]},
          "portals:0: an address or {portal, iface, netdev, tpgt}"),
    state("state-iscsi-logout-portals", "iscsi.logged_out",
          {"name": "iqn.2026-11.net.example:san", "portals": "192.0.2.1"},
          "portals: must be a list"),
    state("state-multipath-keyword", "multipath.configured",
          {"config": {"defaults": {"user friendly names": "yes"}}},
          "'user friendly names' is not a multipath.conf keyword"),
    state("state-multipath-healthy-min-paths", "multipath.healthy", {"min_paths": "two"},
          "min_paths: 'two' is not a whole number"),
    state("state-multipath-healthy-maps", "multipath.healthy", {"maps": {"mpatha": 2}},
          "maps: expected a list or a comma-separated string"),
    state("state-multipath-healthy-min-maps", "multipath.healthy", {"min_maps": "1"},
          "min_maps: '1' is not a whole number"),
    state("state-ceph-present-device", "ceph_osd.present", {"devices": ["/dev/../sda"]},
          "device: '/dev/../sda' is not a device path under /dev"),
    state("state-ceph-absent-ids", "ceph_osd.absent", {"osd_ids": 3},
          "osd_ids: expected a list"),
    state("state-beancounters-containers", "beancounters.limits", {"containers": ["101"]},
          "containers: expected {ctid: {...}}"),
    state("state-ganeti-no-cluster-name", "ganeti.node_member", {"nodes": ["hv2 ams1"]},
          "hostnode:node:ganeti:cluster_name: None is not a host name"),
    state("state-ganeti-nodes-not-a-list", "ganeti.node_member",
          {"nodes": 2, "settings": GANETI},
          "nodes: expected a list"),
    state("state-node-hosts", "node.hosts", {"entries": ["hv1.ams1.example.net"]},
          "entries: expected a mapping of host name to IP address"),
    state("state-node-kernel-module-option", "node.kernel_modules",
          {"modules": {"drbd": {"options": {"minor count": 255}}}}, "drbd"),
    state("state-node-volume-group-empty", "node_lvm.volume_group", {"devices": []},
          "devices: list at least one device"),
]  # fmt: skip

NODEDB = [
    nodedb("nodedb-chap-password-space", "iscsi.logged_in",
           {"portals": ["192.0.2.1"], "chap_pillar": "secrets:spaced"},
           "pillar secrets:spaced:password: must be text without spaces or newlines"),
    nodedb("nodedb-chap-unknown-key", "iscsi.logged_in",
           {"portals": ["192.0.2.1"], "chap_pillar": "secrets:typo"},
           "pillar secrets:typo: unknown CHAP key(s) metod"),
    nodedb("nodedb-chap-in-settings", "iscsi.logged_in",
           {"portals": ["192.0.2.1"], "settings": {"node.session.auth.password": "x"}},
           "settings: CHAP comes from chap_pillar, not settings"),
    nodedb("nodedb-portal-twice", "iscsi.logged_in",
           {"portals": ["192.0.2.1", "192.0.2.1:3260"]},
           "portals:1: 192.0.2.1:3260 via default twice"),
    nodedb("nodedb-logout-bad-portal", "iscsi.logged_out", {"portals": ["192.0.2.1:70000"]},
           "has no valid port"),
]  # fmt: skip

LIVES = [
    live("live-anyip-device-metachar", "anyip.add",
         {"prefixes": ["198.51.100.0/24"], "device": "lo;ip link del lo"},
         "device: 'lo;ip link del lo' is not a valid interface name"),
    live("live-anyip-device-missing", "anyip.add",
         {"prefixes": ["198.51.100.0/24"], "device": "nosuch0"},
         "device: 'nosuch0' does not exist on this node"),
    live("live-anyip-one-bad-of-two", "anyip.converge",
         {"prefixes": ["198.51.100.0/24", "2001:db8:100::1/64"], "mode": "managed"},
         "prefixes[1]: '2001:db8:100::1/64' has host bits set"),
    live("live-arpflux-template", "arpflux.tune", {"interfaces": ["all"]},
         "interfaces[0]: 'all' is a template"),
    live("live-arpflux-dotdot", "arpflux.tune", {"interfaces": ["../all"]},
         "interfaces[0]: '../all' is not a valid interface name"),
    live("live-arpflux-bool-value", "arpflux.tune",
         {"interfaces": ["lo"], "values": {"arp_ignore": True}},
         "values.arp_ignore: True is not one of"),
    live("live-node-sysctl-value", "node.sysctl", {"values": {"net.ipv4.ip_forward": "1; reboot"}},
         "is not a sysctl value"),
    live("live-bridges-mac", "bridges.converge",
         {"bond": "lo", "vlans": {100: {"mac": "ff:ff:ff:ff:ff:ff"}}},
         "vlans:100:mac: 'ff:ff:ff:ff:ff:ff' is not stable, port or a unicast MAC"),
    live("live-node-vg-disk-holds-ext4", "node_lvm.volume_group",
         {"name": "xenvg", "devices": [LOOP]}, "holds ext4 (force: true"),
    live("live-node-vg-force-not-bool", "node_lvm.volume_group",
         {"name": "xenvg", "devices": [{"device": LOOP, "force": "yes"}]},
         "devices:0:force: must be true or false"),
    live("live-node-vg-missing-device", "node_lvm.volume_group",
         {"name": "xenvg", "devices": [LOOP, "/dev/nosuchdisk"]},
         "devices:1:device: /dev/nosuchdisk does not exist"),
]  # fmt: skip

FORMULAS = [
    formula("formula-anyip-unknown-key", "anyip", {"anyip": {"prefix": ["198.51.100.0/24"]}},
            "hostnode:anyip:prefix: unknown key"),
    formula("formula-anyip-not-a-mapping", "anyip", {"anyip": ["198.51.100.0/24"]},
            "hostnode:anyip: expected a mapping"),
    formula("formula-anyip-bad-cidr", "anyip", {"anyip": {"prefixes": ["198.51.100.0/33"]}},
            "prefixes[0]: '198.51.100.0/33' is not an IPv4 or IPv6 prefix", stage="state"),
    formula("formula-anyip-device-too-long", "anyip",
            {"anyip": {"prefixes": [], "device": "lo-with-a-long-name"}},
            "device: 'lo-with-a-long-name' is not a valid interface name", stage="state"),
    formula("formula-storage-net-unknown-key", "storage_net.arpflux",
            {"storage_net": {"arpflx": {"auto": True}}},
            "hostnode:storage_net:arpflx: unknown key"),
    formula("formula-storage-net-value-range", "storage_net.arpflux",
            {"storage_net": {"arpflux": {"auto": False, "interfaces": ["lo"],
                                         "values": {"arp_announce": 7}}}},
            "values.arp_announce: 7 is not one of 0, 1, 2", stage="state"),
    formula("formula-node-unknown-key", "node", {"node": {"sysctls": {"vm.swappiness": 10}}},
            "hostnode:node:sysctls: unknown key"),
    formula("formula-node-fqdn-metachar", "node", {"node": {"fqdn": "hv1.example.net;id"}},
            "hostnode:node:fqdn: 'hv1.example.net;id' is not a fully qualified host name",
            stage="preflight"),
    formula("formula-node-time-unknown-option", "node",
            {"node": {"time": {"servers": ["ntp1.example.net"], "options": ["ibrust"]}}},
            "hostnode:node:time:options:0: 'ibrust' is not a chrony server/pool option",
            stage="preflight"),
    formula("formula-bonding-unknown-key", "bonding", {"bonding": {"bond": {}}},
            "hostnode:bonding:bond: unknown key"),
    formula("formula-openvz-unknown-key", "openvz", {"openvz": {"limit": {}}},
            "hostnode:openvz:limit: unknown key"),
    formula("formula-ceph-osd-unknown-key", "ceph_osd", {"ceph_osd": {"host": {}}},
            "hostnode:ceph_osd:host: unknown key"),
]  # fmt: skip

CASES = SOURCES + CALLS + STATES + NODEDB + LIVES + FORMULAS


def formula_rounds():
    """
    The formula rows in rounds of one ``state.apply`` each (a salt-call costs seconds): rows
    failing at the same stage, each with a pillar key of its own, so every row's error shows.
    """
    rounds = []
    for case in FORMULAS:
        fits = [r for r in rounds if r[0].stage == case.stage
                and not set(case.pillar) & {key for row in r for key in row.pillar}]  # fmt: skip
        if fits:
            fits[0].append(case)
        else:
            rounds.append([case])
    return rounds


def render_readme():
    """The catalogue as the Markdown table of tests/reliability/README.md."""
    counts = {}
    for case in CASES:
        area = case.module if case.kind != "formula" else f"formula {case.module}"
        counts[area] = counts.get(area, 0) + 1
    lines = [
        "# The bad-input catalogue",
        "",
        "Generated from `catalogue.py` by `python tests/reliability/catalogue.py`; "
        "`test_catalogue.py` runs every row and checks that this file is current.",
        "",
        f"**{len(CASES)} cases**: " + ", ".join(f"{a} {n}" for a, n in sorted(counts.items())),
        "",
        "Kinds: `source` parses a saved tool output (`source=`), `call` runs an execution",
        "function with a stand-in for its commands, `state` runs a state function over the",
        "execution modules so stood in for, `nodedb` runs an iSCSI state over open-iscsi's",
        "real node database, `live` runs an execution function for real in a",
        "network namespace, `formula` applies a formula with the pillar given, for real in a",
        "network namespace.",
        "",
        "| case | kind | target | input | expected error | unchanged |",
        "|---|---|---|---|---|---|",
    ]
    for case in CASES:
        cells = [case.id, case.kind, case.target, case.given, case.error or "(parses)",
                 "; ".join(case.unchanged)]  # fmt: skip
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text):
    return "`" + text.replace("|", "\\|") + "`" if text else ""


if __name__ == "__main__":
    README.write_text(render_readme())
