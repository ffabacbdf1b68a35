import ipaddress
import os

import pytest

from saltext.hostnode.utils import netbackend

PREFIXES = [
    ipaddress.ip_network(p) for p in ("2001:db8:100::/64", "198.51.100.0/24", "192.0.2.9/32")
]


def test_ifupdown_file_has_one_stanza_per_family():
    text = netbackend.render_local_routes("ifupdown", "lo", PREFIXES)
    assert text.splitlines() == [
        "# Managed by hostnode (anyip routes on lo); local changes are overwritten.",
        "iface lo inet loopback",
        "    up ip -4 route replace local 192.0.2.9/32 dev lo table local",
        "    down ip -4 route del local 192.0.2.9/32 dev lo table local || true",
        "    up ip -4 route replace local 198.51.100.0/24 dev lo table local",
        "    down ip -4 route del local 198.51.100.0/24 dev lo table local || true",
        "",
        "iface lo inet6 loopback",
        "    up ip -6 route replace local 2001:db8:100::/64 dev lo table local",
        "    down ip -6 route del local 2001:db8:100::/64 dev lo table local || true",
    ]


def test_ifupdown_other_devices_use_the_manual_method():
    text = netbackend.render_local_routes("ifupdown", "dummy0", PREFIXES[:1])
    assert "iface dummy0 inet6 manual" in text


def test_networkd_file():
    text = netbackend.render_local_routes("networkd", "lo", PREFIXES[:2])
    assert text.split("\n", 1)[1] == (
        "[Match]\nName=lo\n\n[Link]\nRequiredForOnline=no\n\n"
        "[Route]\nType=local\nDestination=198.51.100.0/24\nTable=local\n\n"
        "[Route]\nType=local\nDestination=2001:db8:100::/64\nTable=local\n"
    )


@pytest.mark.parametrize("backend", netbackend.BACKENDS)
def test_rendered_files_parse_back_to_the_same_prefixes(backend):
    text = netbackend.render_local_routes(backend, "lo", PREFIXES)
    assert netbackend.parse_local_routes(backend, text) == set(PREFIXES)


@pytest.mark.parametrize("backend", netbackend.BACKENDS)
def test_no_prefixes_means_no_file(backend):
    assert netbackend.render_local_routes(backend, "lo", []) is None


def test_a_file_hostnode_did_not_write_is_an_error_naming_it():
    with pytest.raises(
        ValueError, match=r"/etc/netplan/x\.yaml: not a hostnode netplan anyip file"
    ):
        netbackend.parse_local_routes("netplan", "network: {version: 2}", "/etc/netplan/x.yaml")


def touch(root, relative):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path


def test_detect_prefers_netplan_then_networkd_then_ifupdown(tmp_path):
    assert netbackend.detect(str(tmp_path)) is None
    touch(tmp_path, "etc/network/interfaces")
    assert netbackend.detect(str(tmp_path)) == "ifupdown"
    wants = tmp_path / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    os.symlink("/lib/systemd/system/systemd-networkd.service", wants / "systemd-networkd.service")
    assert netbackend.detect(str(tmp_path)) == "networkd"
    touch(tmp_path, "etc/netplan/50-cloud-init.yaml")
    assert netbackend.detect(str(tmp_path)) == "netplan"


def test_paths_are_under_the_config_root():
    assert netbackend.local_routes_path("netplan", "lo", "/srv/image") == (
        "/srv/image/etc/netplan/90-hostnode-anyip-lo.yaml"
    )
