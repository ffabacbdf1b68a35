"""The bond execution and state modules over a fake /proc/net/bonding and /sys/class/net."""

import hashlib
import pathlib

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from support import FIXTURES, CommandTable, load_module, salt_dunders

bond = load_module("modules", "bond")
bond_state = load_module("states", "bond")
KERNEL_MAC = "52:54:00:12:34:02"  # eth1 was enslaved first
MACHINE_ID = "4f0e1b7c9a8d4e2f8b6a5c3d2e1f0a9b"
STABLE = "be:c4:0d:06:5e:c1"  # hostnode_bond.stable_mac(MACHINE_ID, "bond0")


class Kernel(CommandTable):
    """cmd.run_all whose `ip link set dev B address M` changes the fake sysfs, as the real one."""

    def __init__(self, sysfs):
        super().__init__()
        self.sysfs = sysfs

    def __call__(self, argv, python_shell=False, stdin=None, **options):
        if argv[:3] == ["ip", "link", "set"]:
            (self.sysfs / argv[4] / "address").write_text(argv[6] + "\n")
            (self.sysfs / argv[4] / "addr_assign_type").write_text("3\n")
        return super().__call__(argv, python_shell, stdin, **options)


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    proc, sysfs = tmp_path / "proc-bonding", tmp_path / "sys-class-net"
    proc.mkdir()
    (proc / "bond0").write_text((FIXTURES / "bonding/active-backup-eth1-first.txt").read_text())
    (sysfs / "bond0/bonding").mkdir(parents=True)
    (sysfs / "bonding_masters").write_text("bond0\n")
    (sysfs / "bond0/address").write_text(KERNEL_MAC + "\n")
    (sysfs / "bond0/addr_assign_type").write_text("2\n")
    (sysfs / "bond0/bonding/mode").write_text("active-backup 1\n")
    (sysfs / "bond0/bonding/slaves").write_text("eth1 eth0\n")
    monkeypatch.setattr(bond, "PROC_BONDING", str(proc))
    monkeypatch.setattr(bond, "SYSFS_NET", str(sysfs))
    return Kernel(sysfs)


@pytest.fixture
def node(config_root):
    """A config root with a machine-id, Debian's ifupdown default sourcing interfaces.d, and the
    user's hot-plug bond in interfaces.d/bond0 (read before hostnode's file)."""
    (config_root / "etc/network/interfaces.d").mkdir(parents=True)
    (config_root / "etc/machine-id").write_text(MACHINE_ID + "\n")
    (config_root / "etc/network/interfaces").write_text(
        "source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n"
    )
    (config_root / "etc/network/interfaces.d/bond0").write_text(
        "auto bond0\niface bond0 inet static\n    address 192.0.2.10/24\n    bond-slaves none\n"
    )
    return config_root


@pytest.fixture
def configure_loader_modules(kernel, node):
    dunders = salt_dunders(kernel, node)
    dunders["__salt__"]["bond.pin_mac"] = bond.pin_mac
    dunders["__salt__"]["bond.unpin"] = bond.unpin
    return {bond: dunders, bond_state: {**dunders, "__opts__": {"test": False}}}


def snapshot(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_list_and_info(kernel):
    assert bond.list_() == ["bond0"]
    info = bond.info("bond0")
    assert (info["mode"], info["mac"], info["mac_assigned"]) == (
        "active-backup",
        KERNEL_MAC,
        "stolen",
    )
    saved = bond.info("bond0", source=str(FIXTURES / "bonding/balance-rr.txt"))
    assert saved["mode"] == "balance-rr" and "mac" not in saved


def test_stable_mac_from_machine_id_or_seed():
    assert bond.stable_mac("bond0") == STABLE
    assert bond.stable_mac("bond0", seed="rack12") != STABLE


def test_test_mode_predicts_exactly_what_the_real_run_reports(kernel, node):
    predicted = bond.pin_mac("bond0", mac="stable", test=True)
    assert kernel.argvs() == [["ifquery", "-i", kernel.argvs()[0][2], "bond0"]]
    kernel.calls.clear()
    applied = bond.pin_mac("bond0", mac="stable")
    assert predicted == applied
    assert applied["mac"] == {"old": KERNEL_MAC, "new": STABLE}
    assert applied["file"]["path"] == str(node / "etc/network/interfaces.d/hostnode-bond-bond0")
    assert ["ip", "link", "set", "dev", "bond0", "address", STABLE] in kernel.argvs()
    assert bond.pin_mac("bond0", mac="stable") == {}
    assert bond.persisted("bond0") == {applied["file"]["path"]: STABLE}


def test_first_slave_uses_the_configured_order(kernel):
    changes = bond.pin_mac("bond0", mac="first-slave", slaves="eth0,eth1", persist=False)
    assert changes == {"mac": {"old": KERNEL_MAC, "new": "52:54:00:12:34:01"}}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"mac": "01:00:5e:00:00:01"}, "mac: '01:00:5e:00:00:01' is a multicast address"),
        ({"mac": "02:00:5e:00:01"}, "mac: '02:00:5e:00:01' is not a MAC"),
        ({"mac": "first-slave", "slaves": ["eth7"]}, r"slaves\[0\]: 'eth7' is not a slave"),
        ({"mac": "first-slave"}, "slaves: the first-slave policy needs the slave order"),
        ({"bond": "bond9"}, "bond: 'bond9' is not a bond on this node"),
        ({"bond": "bond0-far-too-long"}, "bond: 'bond0-far-too-long' is not a valid interface"),
        ({"backend": "wicked"}, "backend: 'wicked' is not one of"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(kernel, node, arguments, message):
    before = snapshot(node), snapshot(kernel.sysfs)
    arguments = {"bond": "bond0", **arguments}
    with pytest.raises(SaltInvocationError, match=message):
        bond.pin_mac(**arguments)
    assert (snapshot(node), snapshot(kernel.sysfs)) == before
    assert not any(argv[0] == "ip" for argv in kernel.argvs())


@pytest.mark.parametrize(
    ("interfaces", "bond_file", "problem"),
    [
        (
            "source /etc/network/interfaces.d/*\niface bond0 inet static\n",
            None,
            "would read .*hostnode-bond-bond0 before the stanza that creates bond0",
        ),
        ("iface bond0 inet dhcp\n", None, "uses dhcp"),
        ("iface lo inet loopback\n", None, "no 'iface bond0' stanza is read"),
    ],
)
def test_ifupdown_that_cannot_take_our_file_names_the_line_to_add(
    kernel, node, interfaces, bond_file, problem
):
    (node / "etc/network/interfaces").write_text(interfaces)
    (node / "etc/network/interfaces.d/bond0").unlink()
    before = snapshot(node), snapshot(kernel.sysfs)
    with pytest.raises(CommandExecutionError, match=f"{problem}.*'hwaddress ether {STABLE}'"):
        bond.pin_mac("bond0")
    assert (snapshot(node), snapshot(kernel.sysfs)) == before


def test_networkd_drop_in_beside_the_users_netdev(kernel, node):
    network = node / "etc/systemd/network"
    network.mkdir(parents=True)
    (network / "20-bond0.netdev").write_text("[NetDev]\nName=bond0\nKind=bond\n")
    changes = bond.pin_mac("bond0", backend="networkd")
    drop_in = network / "20-bond0.netdev.d/hostnode-mac.conf"
    assert changes["file"]["path"] == str(drop_in)
    assert f"MACAddress={STABLE}" in drop_in.read_text()


def test_netplan_needs_the_users_definition_of_the_bond(kernel, node):
    (node / "etc/netplan").mkdir(parents=True)
    (node / "etc/netplan/50-user.yaml").write_text("network:\n  version: 2\n  ethernets: {}\n")
    with pytest.raises(CommandExecutionError, match=r"no file under .* defines bonds\.bond0"):
        bond.pin_mac("bond0", backend="netplan")


def test_state_reports_test_then_applied_then_nothing(kernel, node):
    bond_state.__opts__["test"] = True
    predicted = bond_state.mac_pinned("bond0", mac="stable")
    bond_state.__opts__["test"] = False
    applied = bond_state.mac_pinned("bond0", mac="stable")
    assert predicted["result"] is None and applied["result"] is True
    assert predicted["changes"] == applied["changes"]
    assert bond_state.mac_pinned("bond0", mac="stable")["changes"] == {}
    cleaned = bond_state.mac_unpinned("bond0")
    assert cleaned["changes"] == {"files": {"removed": [applied["changes"]["file"]["path"]]}}


def test_bad_state_input_is_a_failed_state_with_the_field():
    ret = bond_state.mac_pinned("bond0", mac="ff:ff:ff:ff:ff:ff")
    assert ret["result"] is False and ret["comment"].startswith("mac: 'ff:ff:ff:ff:ff:ff'")


def test_the_grain_reads_proc_and_sys_only(kernel, node, monkeypatch):
    grain = load_module("grains", "hostnode_bonds")
    monkeypatch.setattr(grain, "PROC_BONDING", bond.PROC_BONDING)
    monkeypatch.setattr(grain, "SYSFS_NET", bond.SYSFS_NET)
    monkeypatch.setattr(grain, "__opts__", {"hostnode": {"config_root": str(node)}}, raising=False)
    facts = grain.hostnode_bonds()["hostnode_bonds"]
    assert facts == {
        "bond0": {
            "mode": "active-backup",
            "slaves": ["eth1", "eth0"],
            "mac": KERNEL_MAC,
            "pinned": False,
        }
    }
    bond.pin_mac("bond0")
    assert grain.hostnode_bonds()["hostnode_bonds"]["bond0"]["pinned"] is True
    assert kernel.argvs()[-1][:3] == ["ip", "link", "set"]  # the grain itself ran nothing


def test_the_beacon_reports_changes_only(kernel, node):
    beacon = load_module("beacons", "bond")
    beacon.__salt__ = {"bond.events": bond.events}
    beacon.__context__ = {}
    config = [{"bonds": ["bond0"]}]
    assert beacon.validate(config) == (True, "Valid beacon configuration")
    assert beacon.validate([{"bonds": "bond0"}])[0] is False
    assert beacon.beacon(config) == []
    assert beacon.beacon(config) == []
    proc = pathlib.Path(bond.PROC_BONDING) / "bond0"
    proc.write_text(proc.read_text().replace("MII Status: up\nSpeed", "MII Status: down\nSpeed", 1))
    assert beacon.beacon(config) == [
        {"tag": "bond0/slave", "bond": "bond0", "slave": "eth1", "old": "up", "new": "down"}
    ]
    assert beacon.beacon(config) == []


def test_health_of_a_live_bond_and_of_a_saved_file(kernel):
    assert bond.health("bond0") == {"healthy": True, "problems": []}  # active-backup
    saved = bond.health("bond0", source=str(FIXTURES / "bonding/802.3ad.txt"))
    assert not saved["healthy"]
    assert [p["kind"] for p in saved["problems"]] == [
        "no_partner",
        "split_aggregator",
        "missing_ports",
    ]


def test_write_metrics_names_the_bad_field_and_writes_nothing(kernel, tmp_path):
    with pytest.raises(SaltInvocationError, match=r"path: 'bond\.prom' must be an absolute path"):
        bond.write_metrics("bond.prom")
    with pytest.raises(SaltInvocationError, match="bonds: with source, name the one bond"):
        bond.write_metrics(str(tmp_path / "b.prom"), source=str(FIXTURES / "bonding/802.3ad.txt"))
    assert not (tmp_path / "b.prom").exists()
    written = bond.write_metrics(str(tmp_path / "b.prom"))
    assert written == {"path": str(tmp_path / "b.prom"), "samples": 7}


def test_the_beacon_reports_lacp_problems_once(kernel, node):
    beacon = load_module("beacons", "bond")
    beacon.__salt__ = {"bond.events": bond.events}
    beacon.__context__ = {}
    config = [{"bonds": ["bond0"]}]
    proc = pathlib.Path(bond.PROC_BONDING) / "bond0"
    lacp = (FIXTURES / "bonding/802.3ad.txt").read_text()
    proc.write_text(lacp)
    assert [e["tag"] for e in beacon.beacon(config)] == ["bond0/lacp_problem"] * 3
    assert beacon.beacon(config) == []
    proc.write_text(lacp.replace("Aggregator ID: 2", "Aggregator ID: 1"))
    assert [(e["tag"], e["kind"]) for e in beacon.beacon(config)] == [
        ("bond0/lacp_cleared", "split_aggregator")
    ]
    assert beacon.beacon(config) == []


def test_lacp_healthy_state_is_a_check_naming_each_problem(kernel):
    bond_state.__salt__["bond.health"] = bond.health
    assert bond_state.lacp_healthy("bond0") == {
        "name": "bond0",
        "result": True,
        "changes": {},
        "comment": "bond0 has no LACP problem",
    }
    ret = bond_state.lacp_healthy("bond0", source=str(FIXTURES / "bonding/802.3ad.txt"))
    assert (ret["result"], ret["changes"]) == (False, {})
    assert ret["comment"] == (
        "bond0: aggregator 1 has no LACP partner (partner MAC 00:00:00:00:00:00); "
        "slave eth1 is up in aggregator 2, not in the active aggregator 1; "
        "aggregator 1 has 1 port(s) but 2 slave(s) are up"
    )
    missing = bond_state.lacp_healthy("bond9")
    assert missing["result"] is False and "bond: 'bond9' is not a bond" in missing["comment"]
