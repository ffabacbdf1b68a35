"""
Properties of every parser and planner of _utils, over generated inputs:

- a parser given any text (random, or a real capture cut, spliced or garbled) returns or raises
  our ValueError, whose message is ours (it names the line or field), never Python's own;
- a planner's plan, applied to the current state, leaves nothing to plan (idempotence);
- address and MAC arithmetic round-trips.

Examples are few and derandomized, so the file runs in seconds and the same way every time.
"""

import ipaddress
import json
import random
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from salt.exceptions import SaltInvocationError

from saltext.hostnode.utils import anyip as hostnode_anyip
from saltext.hostnode.utils import arpflux as hostnode_arpflux
from saltext.hostnode.utils import beancounters as hostnode_beancounters
from saltext.hostnode.utils import bond as hostnode_bond
from saltext.hostnode.utils import bridge as hostnode_bridge
from saltext.hostnode.utils import ceph as hostnode_ceph
from saltext.hostnode.utils import disks as hostnode_disks
from saltext.hostnode.utils import ganeti as hostnode_ganeti
from saltext.hostnode.utils import iscsi as hostnode_iscsi
from saltext.hostnode.utils import multipath as hostnode_multipath
from saltext.hostnode.utils import netbackend as hostnode_netbackend
from saltext.hostnode.utils import node as hostnode_node
from saltext.hostnode.utils import validate as hostnode_validate
from support import FIXTURES

FEW = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Each parser meets three generators: fewer examples each keeps the sweep short.
SWEEP = settings(FEW, max_examples=12)

# What the parsers are given: saved tool output.
PARSERS = {
    "anyip.parse_routes": hostnode_anyip.parse_routes,
    "arpflux.parse_sysctl": hostnode_arpflux.parse_sysctl,
    "arpflux.parse_sysctl_output": hostnode_arpflux.parse_sysctl_output,
    "arpflux.subnet_groups": hostnode_arpflux.subnet_groups,
    "beancounters.parse": hostnode_beancounters.parse,
    "bond.parse_bonding": hostnode_bond.parse_bonding,
    "bond.parse_pin": hostnode_bond.parse_pin,
    "bridge.parse_links": hostnode_bridge.parse_links,
    "ceph.parse_raw_list": hostnode_ceph.parse_raw_list,
    "ceph.parse_lvm_list": hostnode_ceph.parse_lvm_list,
    "ceph.parse_osd_tree": hostnode_ceph.parse_osd_tree,
    "ceph.parse_inventory": hostnode_ceph.parse_inventory,
    "ceph.parse_fsid": hostnode_ceph.parse_fsid,
    "ceph.list_format": hostnode_ceph.list_format,
    "ceph.parse_label": lambda text: hostnode_ceph.parse_label(text, "/dev/sdb"),
    "ceph.parse_ok_to_stop": lambda text: hostnode_ceph.parse_ok_to_stop(text, 16, "busy"),
    "ceph.parse_safe_to_destroy": lambda text: hostnode_ceph.parse_safe_to_destroy(text, 0),
    "disks.parse_wipefs": hostnode_disks.parse_wipefs,
    "disks.mounted_devices": hostnode_disks.mounted_devices,
    "disks.parse_pvs": hostnode_disks.parse_pvs,
    "ganeti.parse_cluster_info": hostnode_ganeti.parse_cluster_info,
    "ganeti.parse_node_list": hostnode_ganeti.parse_node_list,
    "iscsi.parse_initiator_name": hostnode_iscsi.parse_initiator_name,
    "iscsi.parse_records": hostnode_iscsi.parse_records,
    "iscsi.parse_discovery_records": hostnode_iscsi.parse_discovery_records,
    "iscsi.parse_sessions": hostnode_iscsi.parse_sessions,
    "iscsi.parse_ifaces": hostnode_iscsi.parse_ifaces,
    "iscsi.parse_record": hostnode_iscsi.parse_record,
    "iscsi.parse_tree": hostnode_iscsi.parse_tree,
    "iscsi.parse_session_tree": hostnode_iscsi.parse_session_tree,
    "multipath.parse_ll": hostnode_multipath.parse_ll,
    "multipath.parse_maps_json": hostnode_multipath.parse_maps_json,
    "node.parse_sysctl": lambda text: hostnode_node.parse_sysctl(text, "sysctl.d file"),
    "node.render_hosts": lambda text: hostnode_node.render_hosts(text, {}),
    **{
        f"netbackend.parse_local_routes[{backend}]": (
            lambda text, backend=backend: hostnode_netbackend.parse_local_routes(backend, text)
        )
        for backend in ("ifupdown", "netplan", "networkd")
    },
}
# Python's own messages: a ValueError carrying one escaped a parser unexplained.
PYTHONS_OWN = re.compile(
    r"invalid literal for|could not convert|does not appear to be an IPv|values to unpack"
    r"|expected at most|substring not found|is not in list|^list index|^'\w+'$"
)
CAPTURES = [
    path.read_text(errors="replace")
    for path in sorted(FIXTURES.rglob("*"))
    if path.is_file() and path.suffix in (".txt", ".json")
]


def ours(parser, text):
    """Call parser; a ValueError must carry a message of ours."""
    try:
        parser(text)
    except ValueError as exc:
        assert str(exc) and not PYTHONS_OWN.search(str(exc)), f"Python's own message: {exc}"


@st.composite
def mangled_captures(draw):
    """A real capture cut short, with a slice removed, or with a few characters replaced."""
    text = draw(st.sampled_from(CAPTURES))
    size = len(text)
    start = draw(st.integers(0, size))
    end = draw(st.integers(start, size))
    how = draw(st.sampled_from(["cut", "splice", "replace"]))
    if how == "cut":
        return text[:start]
    if how == "splice":
        return text[:start] + text[end:]
    noise = draw(st.text(alphabet=st.sampled_from(list(':,;=[]{}"0x- \t\n#.\x00é')), max_size=6))
    return text[:start] + noise + text[end:]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
# Objects with the keys the JSON parsers look for, holding any value.
KEYS = ["dst", "dev", "type", "protocol", "ifname", "addr_info", "family", "local", "prefixlen",
        "osd_id", "osd_uuid", "ceph_fsid", "device", "tags", "nodes", "stray", "name", "id",
        "children", "crush_weight", "reweight", "path", "available", "rejected_reasons",
        "sys_api", "signatures", "report", "pv", "maps", "sysfs", "uuid", "vend", "prod",
        "path_groups", "paths", "fsid", "ok_to_stop", "osds", "safe_to_destroy", "active",
        "ceph.osd_id", "0", "ifindex", "address", "linkinfo", "master"]  # fmt: skip
SHAPED = st.recursive(
    JSON_VALUES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=16,
)


@pytest.mark.parametrize("name", sorted(PARSERS))
@SWEEP
@given(text=st.text(max_size=200))
def test_any_text_parses_or_is_our_error(name, text):
    ours(PARSERS[name], text)


@pytest.mark.parametrize("name", sorted(PARSERS))
@SWEEP
@given(text=mangled_captures())
def test_a_mangled_capture_parses_or_is_our_error(name, text):
    ours(PARSERS[name], text)


@pytest.mark.parametrize("name", sorted(PARSERS))
@SWEEP
@given(document=SHAPED)
def test_any_json_document_parses_or_is_our_error(name, document):
    ours(PARSERS[name], json.dumps(document))


# --- Regressions: inputs these properties found -----------------------------------------------


@pytest.mark.parametrize(
    ("parser", "text", "message"),
    [
        (hostnode_arpflux.subnet_groups, "null", "expected a list of links"),
        (hostnode_arpflux.subnet_groups, '[{"ifname": "a", "addr_info": [1]}]', "link 0"),
        (hostnode_arpflux.subnet_groups,
         '[{"ifname": "a", "addr_info": [{"family": "inet", "local": "x"}]}]', "link 0"),
        (hostnode_beancounters.parse, "Version: 2.5\n  101:\n", "line 2: '101:' without"),
        (hostnode_beancounters.parse, "", "line 1: no 'Version:' line"),
        (PARSERS["ceph.parse_ok_to_stop"], "[1]", "not a JSON object"),
        (PARSERS["ceph.parse_safe_to_destroy"], '{"active": 3}', "active is not a list"),
        (hostnode_ceph.parse_lvm_list, '{"0": []}', "osd 0: missing or wrong"),
        (hostnode_iscsi.parse_session_tree,
         "Target: iqn.2026-11.net.example:san\n\tCurrent Portal: 192.0.2.1:3260,1\n\t\tSID: x\n",
         "line 3: SID: 'x' is not a number"),
        (hostnode_disks.parse_pvs, '{"report": []}', "'report': 0 reports, expected 1"),
        (hostnode_disks.parse_wipefs, '{"signatures": [{"offset": "zz"}]}', "'offset': 'zz'"),
        (hostnode_iscsi.normal_portal, "192.0.2.1:²", "has no valid port"),
        (hostnode_multipath.parse_ll, "\x00\x01\n", "line 1: control characters"),
    ],
)  # fmt: skip
def test_what_was_a_traceback_is_our_error(parser, text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parser(text)


def test_a_slave_speed_line_without_a_value_is_an_unknown_speed():
    text = (FIXTURES / "bonding" / "active-backup-eth0-first.txt").read_text()
    model = hostnode_bond.parse_bonding(text.replace("Speed: Unknown", "Speed:", 1))
    assert model["slaves"][0]["speed"] is None


# --- Planners: the plan applied leaves nothing to plan ----------------------------------------

V4 = st.builds(
    lambda address, length: ipaddress.ip_network(f"{address}/{length}", strict=False),
    st.ip_addresses(v=4),
    st.integers(20, 32),
)
V6 = st.builds(
    lambda address, length: ipaddress.ip_network(f"{address}/{length}", strict=False),
    st.ip_addresses(v=6),
    st.integers(48, 128),
)
NETWORKS = st.lists(V4 | V6, max_size=5)
ROUTES = st.lists(
    st.builds(
        hostnode_anyip.LocalRoute,
        prefix=V4 | V6,
        device=st.sampled_from(["lo", "eth0"]),
        protocol=st.sampled_from(["kernel", "boot", "static"]),
    ),
    max_size=6,
)


def routes_after(routes, device, to_add, to_remove):
    kept = [r for r in routes if not (r.device == device and r.prefix in set(to_remove))]
    return kept + [hostnode_anyip.LocalRoute(p, device, "boot") for p in to_add]


@FEW
@given(routes=ROUTES, desired=NETWORKS, mode=st.sampled_from(["present", "absent", "managed"]))
def test_anyip_plan_applied_leaves_nothing_to_do(routes, desired, mode):
    to_add, to_remove = hostnode_anyip.diff(routes, "lo", desired, mode)
    after = routes_after(routes, "lo", to_add, to_remove)
    assert hostnode_anyip.diff(after, "lo", desired, mode) == ([], [])
    commands = hostnode_anyip.batch_commands(to_add, to_remove, "lo")
    assert len(commands) == len(to_add) + len(to_remove)


SYSCTL_VALUE = st.sampled_from([0, 1, 2, 3, 8])
CONF = st.fixed_dictionaries(
    {name: st.dictionaries(st.sampled_from(sorted(hostnode_arpflux.VALID)), SYSCTL_VALUE)
     for name in ("all", "default", "eth1", "eth2", "eth3")}
)  # fmt: skip
VALUES = st.dictionaries(
    st.sampled_from(sorted(hostnode_arpflux.VALID)), st.sampled_from([0, 1, 2]), min_size=1
).map(lambda values: {k: min(v, max(hostnode_arpflux.VALID[k])) for k, v in values.items()})


@FEW
@given(conf=CONF, values=VALUES, interfaces=st.lists(st.sampled_from(["eth1", "eth2"]),
                                                     min_size=1, unique=True))  # fmt: skip
def test_arpflux_plan_applied_leaves_nothing_to_do_and_keeps_the_others(conf, values, interfaces):
    writes = hostnode_arpflux.plan(conf, interfaces, values)
    after = {name: dict(keys) for name, keys in conf.items()}
    for interface, key, _, new in writes:
        after[interface][key] = new
    assert hostnode_arpflux.plan(after, interfaces, values) == []
    for interface in interfaces:
        for key, wanted in values.items():
            assert hostnode_arpflux.effective(after, interface, key) == wanted
    for other in ("eth3",):
        for key in values:
            before = hostnode_arpflux.effective(conf, other, key)
            assert hostnode_arpflux.effective(after, other, key) >= before


@FEW
@given(conf=CONF)
def test_arpflux_sysctl_d_file_round_trips(conf):
    conf = {name: keys for name, keys in conf.items() if keys}
    assert hostnode_arpflux.parse_sysctl(hostnode_arpflux.render_sysctl_d(conf, "ours")) == conf


SYSCTL_KEYS = st.from_regex(r"\A[a-z]{1,6}(\.[a-z0-9_]{1,6}){1,3}\Z")
SYSCTL_VALUES = st.from_regex(r"\A[0-9a-z]{1,4}( [0-9a-z]{1,4}){0,2}\Z")


@FEW
@given(values=st.dictionaries(SYSCTL_KEYS, SYSCTL_VALUES, min_size=1),
       current=st.dictionaries(SYSCTL_KEYS, SYSCTL_VALUES))  # fmt: skip
def test_node_sysctl_profile_round_trips_and_its_writes_are_idempotent(values, current):
    text = hostnode_node.render_sysctl(values, "ours")
    assert hostnode_node.parse_sysctl(text, "file") == values
    writes = hostnode_node.sysctl_writes(values, current)
    after = {**current, **{key: new for key, _, new in writes}}
    assert hostnode_node.sysctl_writes(values, after) == []


HOST_NAMES = st.from_regex(r"\A[a-z][a-z0-9]{0,5}\.[a-z]{2,5}\.example\.net\Z")


@FEW
@given(
    hosts=st.dictionaries(HOST_NAMES, st.ip_addresses().map(str), max_size=4),
    before=st.sampled_from(["", "127.0.0.1 localhost\n", "10.0.0.1 old.example.net old\n"]),
)
def test_node_hosts_block_is_idempotent(hosts, before):  # fmt: skip
    once = hostnode_node.render_hosts(before, hosts)
    assert hostnode_node.render_hosts(once, hosts) == once
    assert before.strip() in once


@FEW
@given(members=st.lists(HOST_NAMES, max_size=4), wanted=st.lists(HOST_NAMES, max_size=4))
def test_ganeti_add_plan_applied_leaves_nothing_to_do(members, wanted):
    added = [argv[-1] for argv in hostnode_ganeti.plan_add(members, wanted)]
    assert hostnode_ganeti.plan_add(members + added, wanted) == []


LIMIT = st.none() | st.integers(0, 10**6)
RESOURCES = st.sampled_from(["numproc", "kmemsize", "tcpsndbuf", "privvmpages"])


@FEW
@given(wanted=st.dictionaries(RESOURCES, st.tuples(LIMIT, LIMIT), min_size=1),
       current=st.dictionaries(RESOURCES, st.tuples(LIMIT, LIMIT)))  # fmt: skip
def test_beancounters_limits_plan_applied_leaves_nothing_to_do(wanted, current):
    containers = {"101": {r: {"barrier": b, "limit": lim} for r, (b, lim) in current.items()}}
    argv = hostnode_beancounters.set_limits_argv("101", wanted, containers)
    for resource, pair in wanted.items():
        containers["101"][resource] = {"barrier": pair[0], "limit": pair[1]}
    assert hostnode_beancounters.set_limits_argv("101", wanted, containers) is None
    assert argv is None or argv[:4] == ["vzctl", "set", "101", "--save"]


MACS = st.sampled_from(["02:00:00:00:01:00", "02:00:00:00:02:00", None])
LINK = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["bridge", "vlan"]),
        "mac": MACS,
        "master": st.sampled_from([None, "br0100", "br0200"]),
        "up": st.booleans(),
        "vlan_id": st.sampled_from([None, 100, 200]),
    }
)
BRIDGE_LINKS = st.dictionaries(st.sampled_from(["br0100", "br0200", "bond0.100", "bond0.200"]),
                               LINK)  # fmt: skip


def links_after(links, commands):
    """What the kernel holds after the ip commands of a bridge plan."""
    after = {name: dict(link) for name, link in links.items()}
    for argv in commands:
        if argv[:4] == ["ip", "link", "add", "link"]:
            after[argv[6]] = {"kind": "vlan", "mac": None, "master": None, "up": False,
                              "vlan_id": int(argv[10])}  # fmt: skip
        elif argv[:3] == ["ip", "link", "add"]:
            after[argv[3]] = {"kind": "bridge", "mac": argv[5], "master": None, "up": False,
                              "vlan_id": None}  # fmt: skip
        else:
            after[argv[4]].update({"address": {"mac": argv[-1]}, "master": {"master": argv[-1]},
                                   "up": {"up": True}}[argv[5]])  # fmt: skip
    return after


@FEW
@given(links=BRIDGE_LINKS, vlans=st.lists(st.sampled_from([100, 200]), unique=True, min_size=1),
       macs=st.tuples(MACS.filter(bool), MACS.filter(bool)))  # fmt: skip
def test_bridge_plan_applied_leaves_nothing_to_do(links, vlans, macs):
    links = {**links, "bond0": {"kind": "bond", "mac": None, "master": None, "up": True,
                                "vlan_id": None}}  # fmt: skip
    macs = dict(zip(["br0100", "br0200"], macs, strict=True))
    items = hostnode_bridge.wanted("bond0", vlans, macs)
    assume(not hostnode_bridge.problems(links, items))
    after = links_after(links, hostnode_bridge.plan(links, items))
    assert hostnode_bridge.plan(after, items) == []
    assert hostnode_bridge.problems(after, items) == []


SETTINGS = st.dictionaries(st.sampled_from(["node.startup", "node.session.timeo.x"]),
                           st.sampled_from(["automatic", "manual", "15"]))  # fmt: skip


@FEW
@given(settings_=SETTINGS, record=st.none() | SETTINGS, netdev=st.none() | st.just("stor-a"),
       found_netdev=st.none() | st.just("stor-b"), iface_exists=st.booleans(),
       logged_in=st.booleans())  # fmt: skip
def test_iscsi_portal_plan_applied_leaves_nothing_to_do(
    settings_, record, netdev, found_netdev, iface_exists, logged_in
):
    wanted = {"portal": "192.0.2.1:3260", "iface": "ieth-a", "netdev": netdev,
              "settings": settings_, "chap": None}  # fmt: skip
    found = {"netdev": found_netdev, "iface_exists": iface_exists, "record": record,
             "logged_in": logged_in,
             "session_netdev": found_netdev if logged_in else None}  # fmt: skip
    plan = hostnode_iscsi.plan_portal(wanted, found)
    after = {
        "netdev": plan["bind"]["new"] if plan["bind"] else found_netdev,
        "iface_exists": iface_exists or bool(plan["bind"]),
        "record": {**(record or {}), **{k: v["new"] for k, v in plan["settings"].items()}},
        "logged_in": True,
    }
    # a session logged in (again) by the plan leaves by the iface's NIC
    relogged = plan["login"] or plan["relogin"]
    after["session_netdev"] = after["netdev"] if relogged else found["session_netdev"]
    assert hostnode_iscsi.portal_changes(hostnode_iscsi.plan_portal(wanted, after)) == {}


@FEW
@given(values=SETTINGS)
def test_iscsi_record_values_set_read_back(values):
    text = (FIXTURES / "iscsiadm" / "node-record-chap.txt").read_text()
    record = hostnode_iscsi.parse_record(hostnode_iscsi.set_record_values(text, values))
    assert {key: record[key] for key in values} == values


# --- Address and MAC arithmetic ---------------------------------------------------------------


@FEW
@given(network=V4 | V6)
def test_a_prefix_round_trips_through_its_text(network):
    assert hostnode_validate.prefix(str(network), "prefix") == network
    assert hostnode_validate.prefixes([str(network)] * 2) == [network]


@FEW
@given(network=V4 | V6, seed=st.integers())
def test_a_random_address_lies_in_its_prefix(network, seed):
    assert hostnode_anyip.random_address(network, random.Random(seed)) in network


@FEW
@given(text=st.text(max_size=40))
def test_a_prefix_is_parsed_or_refused_naming_the_field(text):
    try:
        hostnode_validate.prefix(text, "prefixes[0]")
    except SaltInvocationError as exc:
        assert str(exc).startswith("prefixes[0]: ")


@FEW
@given(
    networks=st.sets(V4 | V6, max_size=5),
    backend=st.sampled_from(["ifupdown", "netplan", "networkd"]),
)
def test_persisted_anyip_routes_round_trip(networks, backend):  # fmt: skip
    text = hostnode_netbackend.render_local_routes(backend, "lo", networks)
    if networks:
        assert hostnode_netbackend.parse_local_routes(backend, text) == networks
    else:
        assert text is None


@FEW
@given(address=st.ip_addresses(), port=st.integers(1, 65535))
def test_a_portal_normal_form_is_a_fixed_point(address, port):
    host = f"[{address}]" if address.version == 6 else str(address)
    portal = hostnode_iscsi.normal_portal(f"{host}:{port}")
    assert hostnode_iscsi.normal_portal(portal) == portal
    assert portal.endswith(f":{port}")


@FEW
@given(text=st.text(max_size=30))
def test_a_portal_is_parsed_or_refused_with_our_error(text):
    try:
        hostnode_iscsi.normal_portal(text)
    except ValueError as exc:
        assert not PYTHONS_OWN.search(str(exc)), exc


OCTETS = st.lists(st.integers(0, 255), min_size=6, max_size=6)


@FEW
@given(octets=OCTETS, separator=st.sampled_from([":", "-"]), upper=st.booleans())
def test_a_mac_round_trips_through_its_normal_form(octets, separator, upper):
    text = separator.join(f"{octet:02x}" for octet in octets)
    normal = hostnode_bond.normal_mac(text.upper() if upper else text)
    assert normal == ":".join(f"{octet:02x}" for octet in octets)
    assert hostnode_bond.normal_mac(normal) == normal
    assert (hostnode_bond.mac_problem(normal) is None) == (not octets[0] & 1 and any(octets))


@FEW
@given(seed=st.text(min_size=1, max_size=20), bond=st.from_regex(r"\Abond[0-9]{1,3}\Z"),
       backend=st.sampled_from(["ifupdown", "netplan", "networkd"]))  # fmt: skip
def test_a_stable_mac_is_unicast_local_and_survives_its_pin_file(seed, bond, backend):
    mac = hostnode_bond.stable_mac(seed, bond)
    assert mac == hostnode_bond.stable_mac(seed, bond)
    assert hostnode_bond.normal_mac(mac) == mac and hostnode_bond.mac_problem(mac) is None
    assert int(mac[:2], 16) & 0x03 == 0x02  # locally administered, unicast
    assert hostnode_bond.parse_pin(hostnode_bond.render_pin(backend, bond, mac)) == mac


@FEW
@given(text=st.text(max_size=20))
def test_an_interface_name_is_accepted_only_when_safe_in_argv_and_files(text):
    try:
        hostnode_validate.interface_name(text, "device")
    except SaltInvocationError as exc:
        assert str(exc).startswith("device: ")
    else:
        assert 1 <= len(text) <= 15 and not text.startswith("-")
        assert not set(text) & set(" \t\n/:;$`&|<>()'\"\\*?!")
