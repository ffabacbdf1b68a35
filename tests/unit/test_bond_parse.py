"""The /proc/net/bonding parser on files captured in the guest and an old kernel's sample, and
the MAC policies and boot-time files."""

import pytest

from saltext.hostnode.utils import bond as hostnode_bond
from support import fixture_text


def parse(case):
    return hostnode_bond.parse_bonding(fixture_text("bonding", case))


def test_active_backup_in_kernel_order_with_permanent_macs():
    model = parse("active-backup-eth1-first.txt")
    assert model["mode"] == "active-backup"
    assert (model["active_slave"], model["primary"], model["ad_info"]) == ("eth1", None, None)
    assert (model["miimon"], model["updelay"], model["downdelay"]) == (100, 0, 0)
    assert model["slaves"][0] == {
        "name": "eth1",
        "mii_status": "up",
        "speed": None,
        "duplex": None,
        "link_failures": 0,
        "permanent_mac": "52:54:00:12:34:02",
        "aggregator_id": None,
        "actor_churn": None,
        "partner_churn": None,
        "actor_pdu": None,
        "partner_pdu": None,
    }
    assert [s["name"] for s in model["slaves"]] == ["eth1", "eth0"]


def test_an_old_kernel_without_permanent_addresses():
    model = parse("kernel-doc-2.6.1-balance-rr.txt")
    assert model["mode"] == "balance-rr" and model["miimon"] == 1000
    assert [(s["name"], s["link_failures"], s["permanent_mac"]) for s in model["slaves"]] == [
        ("eth1", 1, None),
        ("eth0", 1, None),
    ]


def test_802_3ad_with_aggregator_and_lacp_details():
    model = parse("802.3ad.txt")
    assert model["mode"] == "802.3ad"
    assert model["xmit_hash_policy"] == "layer2"
    assert set(model["ad_info"]) == {
        "lacp_rate", "aggregator_id", "ports", "actor_key", "partner_key", "partner_mac"
    }  # fmt: skip
    assert model["ad_info"]["lacp_rate"] == "slow"
    assert [s["name"] for s in model["slaves"]] == ["eth0", "eth1"]
    assert all(isinstance(s["aggregator_id"], int) for s in model["slaves"])


def test_balance_rr_from_the_guest():
    model = parse("balance-rr.txt")
    assert model["mode"] == "balance-rr" and model["ad_info"] is None
    assert [s["permanent_mac"] for s in model["slaves"]] == [
        "52:54:00:12:34:01",
        "52:54:00:12:34:02",
    ]


def test_dotted_slave_names_and_an_empty_permanent_address():
    text = fixture_text("bonding", "active-backup-eth0-first.txt")
    text = text.replace("eth0", "eth0.100").replace(
        "Permanent HW addr: 52:54:00:12:34:02", "Permanent HW addr: "
    )
    model = hostnode_bond.parse_bonding(text)
    assert model["slaves"][0]["name"] == "eth0.100"
    assert model["slaves"][1]["permanent_mac"] is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: not a /proc/net/bonding file"),
        ("hello\nworld\n", "line 1: not a /proc/net/bonding file"),
        ("Ethernet Channel Bonding Driver: v6\n\nMII Status: up\n", "no 'Bonding Mode:' line"),
        (
            "Ethernet Channel Bonding Driver: v6\nBonding Mode: warp drive\n",
            "'warp drive' is not a known bonding mode",
        ),
        (
            "Ethernet Channel Bonding Driver: v6\nBonding Mode: load balancing (round-robin)\n"
            "MII Polling Interval (ms): fast\n",
            "line 3: MII Polling Interval (ms): 'fast' is not a number",
        ),
    ],
)
def test_bad_input_names_the_line(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        hostnode_bond.parse_bonding(text)


def test_stable_mac_is_deterministic_local_and_unicast():
    mac = hostnode_bond.stable_mac("4f0e1b7c9a8d4e2f8b6a5c3d2e1f0a9b", "bond0")
    assert mac == hostnode_bond.stable_mac("4f0e1b7c9a8d4e2f8b6a5c3d2e1f0a9b", "bond0")
    assert mac != hostnode_bond.stable_mac("4f0e1b7c9a8d4e2f8b6a5c3d2e1f0a9b", "bond1")
    first = int(mac[:2], 16)
    assert first & 0x02 and not first & 0x01
    assert hostnode_bond.mac_problem(mac) is None


@pytest.mark.parametrize(
    ("mac", "problem"),
    [("01:00:5e:00:00:01", "is a multicast address"), ("00:00:00:00:00:00", "is all zeros")],
)
def test_mac_problems(mac, problem):
    assert hostnode_bond.mac_problem(mac) == problem


def test_first_slave_takes_the_configured_order_not_the_kernel_order():
    model = parse("active-backup-eth1-first.txt")
    assert hostnode_bond.first_slave_mac(model, ["eth0", "eth1"]) == "52:54:00:12:34:01"
    with pytest.raises(ValueError, match=r"slaves\[0\]: 'eth9' is not a slave of the bond"):
        hostnode_bond.first_slave_mac(model, ["eth9"])


@pytest.mark.parametrize("backend", ["ifupdown", "netplan", "networkd"])
def test_pin_files_round_trip(backend):
    text = hostnode_bond.render_pin(backend, "bond0", "02:11:22:33:44:55")
    assert "Managed by hostnode" in text
    assert hostnode_bond.parse_pin(text) == "02:11:22:33:44:55"


def test_ifupdown_reads_the_users_bond_stanza_before_ours(tmp_path):
    (tmp_path / "etc/network/interfaces.d").mkdir(parents=True)
    (tmp_path / "etc/network/interfaces").write_text("source /etc/network/interfaces.d/*\n")
    (tmp_path / "etc/network/interfaces.d/bond0").write_text("iface bond0 inet manual\n")
    ours = str(tmp_path / "etc/network/interfaces.d/hostnode-bond-bond0")
    units = hostnode_bond.ifupdown_read_order(str(tmp_path), ours)
    assert [path for path, _ in units] == [
        str(tmp_path / "etc/network/interfaces"),
        str(tmp_path / "etc/network/interfaces.d/bond0"),
        ours,
        str(tmp_path / "etc/network/interfaces"),
    ]
    assert hostnode_bond.ifupdown_problem(units, ours, "bond0") is None
    assert "no 'iface bond1' stanza" in hostnode_bond.ifupdown_problem(units, ours, "bond1")


def test_beacon_events_are_changes_only():
    model = parse("active-backup-eth1-first.txt")
    up = hostnode_bond.snapshot(model, "02:11:22:33:44:55", "02:11:22:33:44:55")
    assert hostnode_bond.events("bond0", None, up) == []
    assert hostnode_bond.events("bond0", up, up) == []
    model["slaves"][0]["mii_status"] = "down"
    one_down = hostnode_bond.snapshot(model, "02:11:22:33:44:55", "02:11:22:33:44:55")
    assert hostnode_bond.events("bond0", up, one_down) == [
        {"tag": "bond0/slave", "bond": "bond0", "slave": "eth1", "old": "up", "new": "down"}
    ]
    released = {"slaves": {}, "mac": "6e:00:00:00:00:01", "pinned": "02:11:22:33:44:55"}
    tags = [event["tag"] for event in hostnode_bond.events("bond0", one_down, released)]
    assert tags == ["bond0/slave", "bond0/slave", "bond0/no_active_slave", "bond0/mac_lost"]


# --- 802.3ad: the kernel layouts and LACP health ----------------------------------------------


def test_802_3ad_slave_lacp_details_of_newer_kernels():
    eth1 = parse("802.3ad.txt")["slaves"][1]
    assert (eth1["aggregator_id"], eth1["actor_churn"], eth1["partner_churn"]) == (
        2,
        "monitoring",
        "monitoring",
    )
    assert eth1["actor_pdu"]["system_mac"] == "52:54:00:12:34:01"
    assert eth1["partner_pdu"] == {
        "system_priority": 65535, "system_mac": "00:00:00:00:00:00", "oper_key": 1,
        "port_priority": 255, "port_number": 1, "port_state": 0,
    }  # fmt: skip


def test_802_3ad_old_kernel_without_an_active_aggregator():
    model = parse("802.3ad-no-active-aggregator-3.5.txt")
    assert model["ad_info"]["aggregator_id"] is None
    assert [(s["name"], s["aggregator_id"], s["actor_pdu"]) for s in model["slaves"]] == [
        ("eth1", None, None),
        ("eth2", None, None),
    ]
    assert hostnode_bond.health(model) == {
        "healthy": False,
        "problems": [
            {
                "kind": "no_active_aggregator",
                "aggregator": None,
                "message": "the bond has no active aggregator",
            }
        ],
    }


def test_802_3ad_guest_bond_without_partner_is_split():
    problems = hostnode_bond.health(parse("802.3ad.txt"))["problems"]
    assert [(p["kind"], p.get("slave"), p["aggregator"]) for p in problems] == [
        ("no_partner", None, 1),
        ("split_aggregator", "eth1", 2),
        ("missing_ports", None, 1),
    ]
    assert problems[1]["message"] == (
        "slave eth1 is up in aggregator 2, not in the active aggregator 1"
    )


def test_802_3ad_split_aggregator_with_a_partner():
    model = parse("802.3ad-split-aggregator-4.19.txt")
    assert model["ad_info"]["partner_mac"] == "**:**:**:**:**:6e"
    problems = hostnode_bond.health(model)["problems"]
    assert [(p["kind"], p["slave"], p["aggregator"], p["active_aggregator"]) for p in problems] == [
        ("split_aggregator", "enp7s0", 1, 2)
    ]


def test_802_3ad_healthy_when_all_slaves_are_in_the_active_aggregator():
    text = fixture_text("bonding", "802.3ad.txt")
    text = text.replace("Aggregator ID: 2", "Aggregator ID: 1").replace(
        "Number of ports: 1", "Number of ports: 2"
    )
    text = text.replace(
        "\tPartner Mac Address: 00:00:00:00:00:00", "\tPartner Mac Address: 02:aa:bb:cc:dd:ee"
    )
    assert hostnode_bond.health(hostnode_bond.parse_bonding(text)) == {
        "healthy": True,
        "problems": [],
    }


def test_a_down_slave_in_its_own_aggregator_is_not_split():
    text = fixture_text("bonding", "802.3ad.txt").replace(
        "Slave Interface: eth1\nMII Status: up", "Slave Interface: eth1\nMII Status: down"
    )
    kinds = [p["kind"] for p in hostnode_bond.health(hostnode_bond.parse_bonding(text))["problems"]]
    assert kinds == ["no_partner"]


@pytest.mark.parametrize(
    "case",
    ["active-backup-eth0-first.txt", "active-backup-eth1-first.txt", "balance-rr.txt",
     "kernel-doc-2.6.1-balance-rr.txt"],
)  # fmt: skip
def test_other_modes_have_no_lacp_health(case):
    assert hostnode_bond.health(parse(case)) == {"healthy": True, "problems": []}


def test_beacon_events_for_lacp_problems_only_on_change():
    split = hostnode_bond.snapshot(parse("802.3ad.txt"), None, None)
    first = hostnode_bond.events("bond0", None, split)
    assert [(e["tag"], e["kind"]) for e in first] == [
        ("bond0/lacp_problem", "missing_ports"),
        ("bond0/lacp_problem", "no_partner"),
        ("bond0/lacp_problem", "split_aggregator"),
    ]
    assert hostnode_bond.events("bond0", split, split) == []
    text = fixture_text("bonding", "802.3ad.txt").replace("Aggregator ID: 2", "Aggregator ID: 1")
    joined = hostnode_bond.snapshot(hostnode_bond.parse_bonding(text), None, None)
    assert hostnode_bond.events("bond0", split, joined) == [
        {
            "tag": "bond0/lacp_cleared",
            "bond": "bond0",
            "kind": "split_aggregator",
            "slave": "eth1",
            "aggregator": 2,
            "active_aggregator": 1,
            "message": "slave eth1 is up in aggregator 2, not in the active aggregator 1",
        }
    ]


def test_metrics_per_slave_and_lacp_problems():
    text = hostnode_bond.render_metrics(
        {"bond0": parse("802.3ad.txt"), "bond1": parse("active-backup-eth0-first.txt")}
    )
    assert text.count("# TYPE hostnode_bond_lacp_problems gauge") == 1
    lines = set(text.splitlines())
    assert 'hostnode_bond_slave_aggregator_id{bond="bond0",slave="eth1"} 2' in lines
    assert 'hostnode_bond_lacp_problems{bond="bond0",slave=""} 2' in lines
    assert 'hostnode_bond_lacp_problems{bond="bond0",slave="eth1"} 1' in lines
    assert 'hostnode_bond_lacp_problems{bond="bond1",slave=""} 0' in lines
    assert 'hostnode_bond_slave_mii_up{bond="bond1",slave="eth0"} 1' in lines
    assert not any('slave_aggregator_id{bond="bond1"' in line for line in lines)
