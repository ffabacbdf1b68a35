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
