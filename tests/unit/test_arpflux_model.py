import json

import pytest

from saltext.hostnode.utils import arpflux
from support import fixture_text

CONF = arpflux.parse_sysctl(fixture_text("sysctl", "net-ipv4-conf.txt"))


def applied(conf, writes):
    """A model of the kernel: the configuration after the planned writes."""
    after = {interface: dict(keys) for interface, keys in conf.items()}
    for interface, key, _, new in writes:
        after[interface][key] = new
    return after


@pytest.mark.parametrize(
    ("interface", "key"),
    [
        ("eth0", "net.ipv4.conf.eth0.rp_filter"),
        ("eth0.100", "net.ipv4.conf.eth0/100.rp_filter"),
        ("bond0.200.5", "net.ipv4.conf.bond0/200/5.rp_filter"),
        ("stor-a", "net.ipv4.conf.stor-a.rp_filter"),
    ],
)
def test_sysctl_keys_turn_dots_in_names_into_slashes(interface, key):
    assert arpflux.sysctl_key(interface, "rp_filter") == key


def test_parse_maps_slashes_back_and_keeps_only_managed_keys():
    assert CONF["eth0.100"] == {"arp_filter": 0, "arp_ignore": 2, "rp_filter": 0, "arp_announce": 0}
    assert CONF["all"]["rp_filter"] == 1
    assert {"all", "default", "lo", "stor-a", "stor-b", "mgmt0"} <= set(CONF)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("net.ipv4.conf.all.rp_filter 1", "line 1: expected 'net.ipv4.conf.IF.KEY = N'"),
        ("\nkernel.pid_max = 5", "line 2: expected"),
        ("net.ipv4.conf.all.rp_filter = on", "line 1: rp_filter is not a number"),
    ],
)
def test_malformed_sysctl_output_names_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        arpflux.parse_sysctl(text)


def test_sysctl_d_comments_are_skipped():
    text = "# ours\n; also a comment\nnet.ipv4.conf.eth1.arp_ignore = 1\n"
    assert arpflux.parse_sysctl(text) == {"eth1": {"arp_ignore": 1}}


@pytest.mark.parametrize(
    ("key", "all_value", "interface_value", "effective"),
    [
        ("rp_filter", 1, 0, 1),
        ("rp_filter", 2, 1, 2),
        ("rp_filter", 0, 2, 2),
        ("arp_ignore", 0, 1, 1),
        ("arp_ignore", 8, 1, 8),
        ("arp_announce", 2, 0, 2),
        ("arp_announce", 0, 0, 0),
        ("arp_filter", 1, 0, 1),
        ("arp_filter", 0, 1, 1),
    ],
)
def test_effective_value_is_the_max_of_all_and_the_interface(
    key, all_value, interface_value, effective
):
    conf = {"all": {key: all_value}, "eth1": {key: interface_value}}
    assert arpflux.effective(conf, "eth1", key) == effective


def test_status_warns_where_all_overrides():
    report = arpflux.status(CONF, ["stor-a", "eth0.100"])
    assert report["stor-a"]["rp_filter"] == {"configured": 0, "effective": 1}
    assert report["stor-a"]["warnings"] == ["rp_filter: conf/all (1) overrides the interface's 0"]
    assert report["eth0.100"]["arp_ignore"] == {"configured": 2, "effective": 2}


def test_plan_for_loose_mode_does_not_touch_all():
    writes = arpflux.plan(CONF, ["stor-a", "stor-b"], arpflux.MULTIPATH)
    assert writes == [
        ("stor-a", "rp_filter", 0, 2),
        ("stor-b", "rp_filter", 0, 2),
        ("stor-a", "arp_ignore", 0, 1),
        ("stor-b", "arp_ignore", 0, 1),
        ("stor-a", "arp_announce", 0, 2),
        ("stor-b", "arp_announce", 0, 2),
    ]


def test_plan_lowers_all_last_and_keeps_every_other_interface_where_it_was():
    writes = arpflux.plan(CONF, ["stor-a", "stor-b"], {"rp_filter": 0})
    assert writes == [
        ("default", "rp_filter", 0, 1),
        ("eth0.100", "rp_filter", 0, 1),
        ("lo", "rp_filter", 0, 1),
        ("mgmt0", "rp_filter", 0, 1),
        ("peer-a", "rp_filter", 0, 1),
        ("peer-b", "rp_filter", 0, 1),
        ("peer-c", "rp_filter", 0, 1),
        ("peer-d", "rp_filter", 0, 1),
        ("all", "rp_filter", 1, 0),
    ]
    after = applied(CONF, writes)
    for interface in set(CONF) - {"all", "default"}:
        expected = 0 if interface in ("stor-a", "stor-b") else 1
        assert arpflux.effective(after, interface, "rp_filter") == expected


def test_plan_is_empty_once_applied():
    for values in (arpflux.MULTIPATH, {"rp_filter": 0, "arp_filter": 1}):
        after = applied(CONF, arpflux.plan(CONF, ["stor-a", "stor-b"], values))
        assert arpflux.plan(after, ["stor-a", "stor-b"], values) == []


def test_detect_groups_interfaces_that_share_a_subnet():
    groups = arpflux.subnet_groups(fixture_text("ip", "addr-storage-node.txt"))
    assert groups == [{"subnet": "198.51.100.0/24", "interfaces": ["eth0.100", "stor-a", "stor-b"]}]


def test_detect_ignores_lo_and_one_interface_with_two_addresses():
    def inet(address, prefixlen):
        return {"family": "inet", "local": address, "prefixlen": prefixlen}

    links = json.dumps(
        [
            {"ifname": "lo", "addr_info": [inet("127.0.0.1", 8), inet("127.0.0.2", 8)]},
            {"ifname": "eth0", "addr_info": [inet("192.0.2.1", 24), inet("192.0.2.2", 24)]},
        ]
    )
    assert arpflux.subnet_groups(links) == []


def test_detect_rejects_output_that_is_not_ip_addr_json():
    with pytest.raises(ValueError, match="ip addr JSON, link 0: expected an object with 'ifname'"):
        arpflux.subnet_groups('[{"name": "eth0"}]')


def test_sysctl_d_file_lists_templates_first():
    text = arpflux.render_sysctl_d(
        {"stor-a": {"arp_ignore": 1}, "all": {"rp_filter": 0}, "eth0.100": {"rp_filter": 2}}, "ours"
    )
    assert text == (
        "# ours\nnet.ipv4.conf.all.rp_filter = 0\nnet.ipv4.conf.eth0/100.rp_filter = 2\n"
        "net.ipv4.conf.stor-a.arp_ignore = 1\n"
    )
    assert arpflux.parse_sysctl(text)["eth0.100"] == {"rp_filter": 2}


def test_persist_drops_the_interfaces_tuned_before_and_keeps_what_conf_all_needs():
    old = {"all": {"rp_filter": 0}, "mgmt0": {"rp_filter": 1}, "stor-a": {"rp_filter": 0},
           "stor-b": {"rp_filter": 0}}  # fmt: skip
    text = arpflux.render_sysctl_d(old, "ours", ["stor-a", "stor-b"])
    assert arpflux.tuned_in(text) == ["stor-a", "stor-b"]
    assert arpflux.persist(old, arpflux.tuned_in(text), [], ["stor-a"], {"arp_ignore": 1}) == {
        "all": {"rp_filter": 0},
        "mgmt0": {"rp_filter": 1},
        "stor-a": {"arp_ignore": 1},
    }
