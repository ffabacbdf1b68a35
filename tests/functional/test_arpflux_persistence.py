"""
hostnode's sysctl.d file at boot, with the real systemd-sysctl: the file applies to a fresh node,
and the keys of an interface that appears later apply when udev runs systemd-sysctl for it (the
rule of systemd's 99-systemd.rules: `systemd-sysctl --prefix=/net/ipv4/conf/$name`).
"""

import os

import pytest

pytestmark = pytest.mark.netns

SYSTEMD_SYSCTL = "/lib/systemd/systemd-sysctl"


@pytest.fixture
def systemd_sysctl():
    if not os.access(SYSTEMD_SYSCTL, os.X_OK):
        pytest.skip("systemd-sysctl is not installed on this machine")
    return SYSTEMD_SYSCTL


def value(namespace, interface, key):
    key_name = f"net.ipv4.conf.{interface.replace('.', '/')}.{key}"
    return int(namespace.exec(["sysctl", "-n", key_name]).stdout)


def test_persisted_file_applies_at_boot_and_when_interfaces_appear(
    loaders, netns, netns_factory, config_root, systemd_sysctl
):
    netns.ip("link", "add", "stor-a", "type", "veth", "peer", "name", "peer-a")
    netns.exec(["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"])
    with netns.entered():
        result = loaders.states.arpflux.tuned(
            "san",
            interfaces=["stor-a", "eth0.100"],
            values={"rp_filter": 0, "arp_ignore": 1},
            absent_ok=True,
        )
    assert result.result is True, result.comment
    assert "eth0.100" not in result.changes["sysctl"]  # absent: persisted only
    path = config_root / "etc/sysctl.d/90-hostnode-arpflux.conf"
    assert "net.ipv4.conf.eth0/100.arp_ignore = 1" in path.read_text()

    booted = netns_factory()
    booted.exec(["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"])  # distribution default
    booted.exec([systemd_sysctl, str(path)])
    assert value(booted, "all", "rp_filter") == 0
    assert value(booted, "default", "rp_filter") == 1
    for name in ("stor-a", "eth0.100"):
        booted.ip("link", "add", name, "type", "veth", "peer", "name", f"p-{name[-1]}")
        assert value(booted, name, "arp_ignore") == 0  # a new interface starts from default
        booted.exec([systemd_sysctl, f"--prefix=/net/ipv4/conf/{name}", str(path)])
        assert value(booted, name, "arp_ignore") == 1
        assert value(booted, name, "rp_filter") == 0


def test_an_interface_no_longer_tuned_leaves_the_file(loaders, netns, config_root):
    for name in ("stor-a", "stor-b", "mgmt0"):
        netns.ip("link", "add", name, "type", "veth", "peer", "name", f"p-{name}")
    netns.exec(["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"])
    path = config_root / "etc/sysctl.d/90-hostnode-arpflux.conf"
    values = {"rp_filter": 0, "arp_ignore": 1}
    with netns.entered():
        both = loaders.states.arpflux.tuned("san", interfaces=["stor-a", "stor-b"], values=values)
        assert both.result is True, both.comment
        assert "net.ipv4.conf.stor-b.arp_ignore = 1" in path.read_text()
        predicted = loaders.states.arpflux.tuned(
            "san", interfaces=["stor-a"], values=values, test=True
        )
        real = loaders.states.arpflux.tuned("san", interfaces=["stor-a"], values=values)
        again = loaders.states.arpflux.tuned("san", interfaces=["stor-a"], values=values)
        persisted = loaders.modules.arpflux.persisted()
    assert predicted.result is None and real.result is True, real.comment
    assert predicted.changes == real.changes
    assert "-net.ipv4.conf.stor-b.arp_ignore = 1" in real.changes["file"]["diff"]
    assert again.result is True and again.changes == {}
    # stor-a as tuned, and what lowering conf/all keeps: conf/all, conf/default and every other
    # interface raised to conf/all's rp_filter 1; stor-b gets conf/default's when it reappears
    assert "stor-b" not in persisted
    assert persisted["stor-a"] == {"rp_filter": 0, "arp_ignore": 1}
    assert persisted["all"] == {"rp_filter": 0}
    assert persisted["default"] == persisted["mgmt0"] == {"rp_filter": 1}
