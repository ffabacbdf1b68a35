"""
What anyip persists brings the routes back at boot: each backend's file is accepted by the
backend's own tool, then a fresh namespace is "booted" with it (ifup, systemd-networkd itself, or
netplan generate + systemd-networkd) and the kernel shows the prefixes as local again.
"""

import os
import shutil
import subprocess
import time

import pytest

from support import NETWORKD, boot_networkd

pytestmark = pytest.mark.netns

PREFIXES = ["198.51.100.0/24", "2001:db8:100::/64"]


def need(tool):
    if not (shutil.which(tool) or os.access(tool, os.X_OK)):
        pytest.skip(f"{tool} is not installed on this machine")


def persist(loaders, netns, backend):
    with netns.entered():
        result = loaders.states.anyip.managed("anyip", prefixes=PREFIXES, backend=backend)
    assert result.result is True, result.comment
    return result.changes["file"]["path"]


def all_local(namespace):
    return all(namespace.route_type(p.split("/")[0]) == "local" for p in PREFIXES)


def wait_for_local(namespace, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all_local(namespace):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def fresh_node(netns_factory):
    """A second namespace, as the node after a reboot: nothing configured, lo down."""
    return netns_factory(lo_up=False)


def test_ifupdown_file_brings_the_routes_up_with_ifup(
    loaders, netns, config_root, tmp_path, fresh_node
):
    need("ifup")
    path = persist(loaders, netns, "ifupdown")
    interfaces = config_root / "etc/network/interfaces"
    interfaces.write_text(
        f"auto lo\niface lo inet loopback\n\nsource {config_root}/etc/network/interfaces.d/*\n"
    )
    query = subprocess.run(
        ["ifquery", "-i", str(interfaces), "lo"], capture_output=True, text=True, check=False
    )
    assert query.returncode == 0, query.stderr
    assert "up: ip -6 route replace local 2001:db8:100::/64 dev lo table local" in query.stdout
    boot = ["ifup", "-i", str(interfaces), "--state-dir", str(tmp_path), "lo"]
    fresh_node.exec(boot)
    assert wait_for_local(fresh_node, seconds=1), f"ifup of {path} did not add the routes"
    fresh_node.exec(["ifdown", "-i", str(interfaces), "--state-dir", str(tmp_path), "lo"])
    assert fresh_node.route_type("198.51.100.7") != "local"


def test_networkd_file_is_applied_by_systemd_networkd(loaders, netns, config_root, fresh_node):
    need(NETWORKD)
    persist(loaders, netns, "networkd")
    network_dir = config_root / "etc/systemd/network"
    assert boot_networkd(
        fresh_node, network_dir, "/etc/systemd/network", lambda: all_local(fresh_node)
    )


def test_netplan_file_generates_networkd_config_that_brings_the_routes_up(
    loaders, netns, config_root, fresh_node
):
    need("netplan")
    need(NETWORKD)
    persist(loaders, netns, "netplan")
    generated = subprocess.run(
        ["netplan", "generate", "--root-dir", str(config_root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    network_dir = config_root / "run/systemd/network"
    assert "Type=local" in (network_dir / "10-netplan-lo.network").read_text()
    assert boot_networkd(
        fresh_node, network_dir, "/run/systemd/network", lambda: all_local(fresh_node)
    )
