"""
Two ``state.apply`` runs of the same formulas at once on one node: two bin/hostnode-call
(salt-call --local, each with its own cache, so Salt's own lock does not serialise them)
against one network namespace and one config root, several rounds. The node ends consistent
(the routes and sysctls the pillar asks for, the files saying the same and parsing whole, no
temp file left), each run either succeeds or fails honestly, and a third run changes nothing.
Then writers racing on one file, read all the while: every read is one whole version.
"""

import ipaddress
import json
import os
import subprocess
import sys

import pytest

from saltext.hostnode.utils import netbackend as hostnode_netbackend
from support import REPO

pytestmark = [pytest.mark.netns, pytest.mark.slow]

FRA1 = "node1.fra1.example.net"
# Enough prefixes that the states take a while (reading, planning, validating the rendered file);
# the runs meet at a barrier in the pillar (BARRIER) so a loaded machine's start-up times do not
# keep their states apart.
ROUTES = {"198.51.100.0/24"} | {f"2001:db8:{0x1000 + i:x}::/64" for i in range(1500)}
ARPFLUX = {"rp_filter": 2, "arp_ignore": 1, "arp_announce": 2}
PILLAR = {"hostnode": {"anyip": {"prefixes": sorted(ROUTES)},
                       "storage_net": {"arpflux": {"auto": True, "values": ARPFLUX}}}}  # fmt: skip
ROUTES_FILE = "etc/network/interfaces.d/hostnode-anyip-lo"
SYSCTL_FILE = "etc/sysctl.d/90-hostnode-arpflux.conf"
ROUNDS = 3
BARRIER = """#!py
import os, time


def run():
    folder = os.environ.get("HOSTNODE_TEST_BARRIER")
    if folder:  # each run says it is here, then waits (a minute at most) for the other
        open(os.path.join(folder, str(os.getpid())), "w").close()
        deadline = time.monotonic() + 60
        while len(os.listdir(folder)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    return {}
"""


def node(netns_factory, root):
    """A node with two interfaces in one subnet (ARP flux) and ifupdown for its network."""
    namespace = netns_factory()
    namespace.ip("link", "add", "stor-a", "type", "veth", "peer", "name", "stor-b")
    for index, name in enumerate(("stor-a", "stor-b"), start=1):
        namespace.ip("link", "set", name, "up")
        namespace.ip("addr", "add", f"198.18.0.{index}/24", "dev", name)
    (root / "etc/network").mkdir(parents=True)
    (root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")
    return namespace


@pytest.fixture
def pillar(tmp_path):
    folder = tmp_path / "pillar"
    folder.mkdir()
    (folder / "top.sls").write_text("base:\n  '*':\n    - barrier\n    - hostnode\n")
    (folder / "barrier.sls").write_text(BARRIER)
    (folder / "hostnode.sls").write_text(json.dumps(PILLAR))
    return folder


def start(namespace, root, home, pillar, barrier=None):
    """A run; runs given one barrier folder wait for each other when they render the pillar."""
    env = {**os.environ, "HOSTNODE_HOME": str(home), "HOSTNODE_CONFIG_ROOT": str(root),
           "HOSTNODE_ID": FRA1, "HOSTNODE_VENV": sys.prefix,
           "HOSTNODE_PILLAR": str(pillar)}  # fmt: skip
    if barrier:
        env["HOSTNODE_TEST_BARRIER"] = str(barrier)
    argv = ["ip", "netns", "exec", namespace.name, str(REPO / "bin/hostnode-call"),
            "--out=json", "state.apply", "anyip,storage_net.arpflux"]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def outcome(process):
    stdout, stderr = process.communicate(timeout=300)
    states = json.loads(stdout)["local"]
    return {key.split("_|-")[1]: state for key, state in states.items()}, stderr


def consistent(namespace, root):
    """What is wrong with the node (live and files), as a list; [] when consistent."""
    wrong = []
    live = {r[0] for r in namespace.local_routes(4) | namespace.local_routes(6) if r[1] != "kernel"}
    if live != ROUTES:
        wrong.append(f"routes: {len(live)} ({sorted(live ^ ROUTES)[:5]} differ)")
    text = (root / ROUTES_FILE).read_text()
    persisted = hostnode_netbackend.parse_local_routes("ifupdown", text, where=ROUTES_FILE)
    if {str(ipaddress.ip_network(p)) for p in persisted} != ROUTES:
        wrong.append(f"routes file: {len(persisted)} prefixes")
    lines = (root / SYSCTL_FILE).read_text().splitlines()
    settings = dict(line.split(" = ") for line in lines if not line.startswith("#"))
    for name in ("stor-a", "stor-b"):
        for key, value in ARPFLUX.items():
            sysctl = f"net.ipv4.conf.{name}.{key}"
            if settings.get(sysctl) != str(value):
                wrong.append(f"{SYSCTL_FILE}: {sysctl} = {settings.get(sysctl)}")
            if namespace.exec(["sysctl", "-n", sysctl]).stdout.strip() != str(value):
                wrong.append(f"live {sysctl}")
    strays = [str(p) for p in root.rglob(".hostnode-*")]
    return wrong + strays


def honest(state):
    """A run that lost the race to the other fails naming the kernel's answer, or succeeds."""
    return state["result"] is True or "File exists" in state["comment"]


def test_two_applies_at_once_leave_a_consistent_node(netns_factory, tmp_path, pillar):
    observed = []
    for round_ in range(ROUNDS):
        root = tmp_path / f"root-{round_}"
        namespace = node(netns_factory, root)
        barrier = tmp_path / f"barrier-{round_}"
        barrier.mkdir()
        runs = [start(namespace, root, tmp_path / f"home-{round_}-{i}", pillar, barrier)
                for i in (1, 2)]  # fmt: skip
        results = [outcome(run) for run in runs]
        for states, stderr in results:
            assert all(honest(s) for s in states.values()), (states, stderr)
        assert consistent(namespace, root) == []
        third, _ = outcome(start(namespace, root, tmp_path / f"home-{round_}-1", pillar))
        assert all(s["result"] is True and s["changes"] == {} for s in third.values()), third
        spans = [span(states) for states, _ in results]
        overlap = min(end for _, end in spans) - max(begin for begin, _ in spans)
        failed = [s["comment"][:70] for st, _ in results for s in st.values() if not s["result"]]
        succeeded = [all(s["result"] for s in st.values()) for st, _ in results]
        observed.append((succeeded, round(overlap, 2), failed))
    print(f"\nper round (results, seconds the states overlapped, failures): {observed}")
    assert any(overlap > 0 for _, overlap, _ in observed), "the runs never ran at the same time"


def span(states):
    """When a run's states began and ended (seconds since midnight)."""
    begins = []
    for state in states.values():
        hours, minutes, seconds = state["start_time"].split(":")
        begins.append(int(hours) * 3600 + int(minutes) * 60 + float(seconds))
    ends = [b + s["duration"] / 1000 for b, s in zip(begins, states.values(), strict=True)]
    return min(begins), max(ends)


WRITER = r"""
import sys
sys.path.insert(0, sys.argv[1])
from saltext.hostnode.utils import files as hostnode_files
for _ in range(int(sys.argv[3])):
    hostnode_files.replace(sys.argv[2], sys.argv[4], 0o644)
"""


def test_racing_writers_never_tear_the_file(tmp_path):
    path = tmp_path / "etc/sysctl.d/90-hostnode.conf"
    versions = {"a = 1\n" * 20000, "b = 2\n" * 3}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(REPO / "_utils"), str(path), "300", text]
        )
        for text in sorted(versions)
    ]
    reads = 0
    while any(w.poll() is None for w in writers):
        if path.exists():
            assert path.read_text() in versions
            reads += 1
    assert [w.returncode for w in writers] == [0, 0]
    assert reads > 100
    assert [p.name for p in path.parent.iterdir()] == ["90-hostnode.conf"]
    print(f"\n{reads} reads during 600 racing writes, all whole")
