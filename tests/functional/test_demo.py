"""
`make demo` without its set-up: bin/hostnode-demo bootstraps the sandbox node
(bin/hostnode_sandbox.py) by highstate and tours it. Its key lines are asserted, and that
nothing of the sandbox is left afterwards (namespaces, loop devices, the UTS mount, its temp
root): after a full run, after SIGINT in the middle of the real highstate, and after a step that
fails.
"""

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from support import REPO

pytestmark = [pytest.mark.netns, pytest.mark.slow]

DEMO = str(REPO / "bin/hostnode-demo")
STATE_IDS = (
    "hostnode-node-hostname", "hostnode-node-hosts", "hostnode-node-kernel-modules",
    "hostnode-node-sysctl", "hostnode-node-bridges", "hostnode-node-lvm-filter",
    "hostnode-node-lvm-vg", "hostnode-anyip-routes", "hostnode-storage-net-arpflux",
)  # fmt: skip
PERSISTED = (
    "/etc/hostname", "/etc/hosts", "/etc/lvm/lvmlocal.conf", "/etc/modprobe.d/hostnode.conf",
    "/etc/modules-load.d/hostnode.conf", "/etc/network/interfaces.d/hostnode-anyip-lo",
    "/etc/network/interfaces.d/hostnode-bridge-bond0", "/etc/sysctl.d/90-hostnode-arpflux.conf",
    "/etc/sysctl.d/90-hostnode-node.conf",
)  # fmt: skip


@pytest.fixture(autouse=True)
def tools():
    for tool in ("nsenter", "pvcreate", "arping", "ifquery"):
        if shutil.which(tool) is None:
            pytest.skip(f"the demo needs {tool} (DEMO_PACKAGES in the Makefile)")


def demo_env(venv=sys.prefix):
    """The demo's environment: its Salt from the venv that runs the tests."""
    return dict(os.environ, HOSTNODE_VENV=venv)


def sandbox_of(output):
    """The names the demo's first step printed: its namespaces and temp root."""
    node, san = re.findall(r"\bhostnode-(?:node|san)-[0-9a-f]{8}\b", output)[:2]
    (base,) = re.findall(r"^/etc +(/tmp/hostnode-demo\.\w+)/root/etc$", output, re.M)
    return node, san, base


def assert_nothing_left(output):
    node, san, base = sandbox_of(output)
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                check=True).stdout  # fmt: skip
    assert node not in namespaces and san not in namespaces
    loops = subprocess.run(["losetup", "--list", "-n", "-O", "NAME,BACK-FILE"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert base not in loops, loops
    assert base not in pathlib.Path("/proc/mounts").read_text(), "the UTS namespace is mounted"
    assert not pathlib.Path(base).exists()


def section(output, title):
    """The lines of one step of the demo, from its `== title` to the next."""
    return output.split(f"== {title}", 1)[1].split("\n== ", 1)[0]


def test_the_demo_bootstraps_the_node_shows_it_and_removes_it():
    started = time.monotonic()
    result = subprocess.run([DEMO], env=demo_env(), capture_output=True, text=True, timeout=300,
                            check=False)  # fmt: skip
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert time.monotonic() - started < 120, "the demo's budget is two minutes"
    assert len(output.splitlines()) <= 150, "the demo's budget is three screens"

    for title, verb in (("2. state.highstate test=True", "would change"), ("3.", "changed")):
        summary = section(output, title)
        assert re.search(rf"^node: \d+ states, \d+ {verb}$", summary, re.M), summary
        assert f"anyip: 1 state, 1 {verb}" in summary
        assert f"storage_net: 1 state, 1 {verb}" in summary
        for state_id in STATE_IDS:
            assert re.search(rf"^  {state_id} +\S", summary, re.M), state_id
        assert re.search(r"hostname \S+→hv1.ams1.example.net", summary)
        assert re.search(r"vgcreate xenvg /dev/loop\d+ /dev/loop\d+", summary)
        assert "routes +203.0.113.0/25 +2001:db8:200::/64" in summary
    assert "state.highstate again: 10 states, 0 changed" in output

    tour = section(output, "4. the node now")
    assert "hostname      hv1.ams1.example.net (in its UTS namespace" in tour
    assert "              10.1.0.11 hv1.ams1.example.net hv1\n" in tour
    for bridge, port in (("br0100", "bond0.100"), ("br0200", "bond0.200")):
        assert re.search(rf"{bridge} MAC \S+ pinned \(addr_assign_type 3\), port {port}", tour)
    assert re.search(r"^(sysctl)? +net.ipv4.tcp_keepalive_time = 600$", tour, re.M)
    for port in ("stor-a", "stor-b"):
        assert f"{port}: rp_filter 0, arp_ignore 1, arp_announce 2" in tour
    assert re.search(r"volume group  xenvg: 2 PVs \(/dev/loop\d+, /dev/loop\d+\)", tour)
    answers = re.findall(r"^ {16}(\S+) +accepted on (\S+)$", tour, re.M)
    assert len(answers) == 4 and all(asked == reached for asked, reached in answers), answers
    assert sum(":" in asked for asked, _ in answers) == 2, "two of each family"
    (mac,) = re.findall(r"who has 192.0.2.11 \(stor-a, (\S+)\)", tour)
    assert "before the highstate: 2 replies" in tour
    assert f"now: 1 reply, {mac}\n" in tour
    for path in PERSISTED:
        assert re.search(rf"^ {{14}}{re.escape(path)}$|^persisted +{re.escape(path)}$", tour, re.M)
    assert "(ifquery lists lo bond0.100 br0100 bond0.200 br0200)" in tour
    assert "removed: namespaces" in output
    assert_nothing_left(output)


def test_an_interrupted_demo_removes_everything():
    process = subprocess.Popen([DEMO], env=demo_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("== 3. state.highstate"):  # the real highstate runs now
                process.send_signal(signal.SIGINT)
                break
        output = "".join(lines) + process.stdout.read()
        stderr = process.stderr.read()
        assert process.wait(timeout=60) == 130, output + stderr
    finally:
        process.kill()
    assert "interrupted" in stderr
    assert "== 4." not in output
    assert_nothing_left(output)


def test_a_failed_step_prints_its_error_exits_non_zero_and_removes_everything():
    result = subprocess.run([DEMO], env=demo_env("/nonexistent"), capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "FAILED: hostnode-call state.highstate test=True printed no JSON" in result.stderr
    assert "/nonexistent/bin/salt-call is missing" in result.stderr
    assert_nothing_left(result.stdout)
