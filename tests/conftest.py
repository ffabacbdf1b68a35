"""
The test harness: Salt loaders over this checkout, throwaway network namespaces and config roots,
one real Ceph cluster for the whole run, and a real salt-master with minions
(pytest-salt-factories) for integration tests.
"""

import contextlib
import ctypes
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import ceph_cluster
import pytest
import salt._logging.impl
from saltfactories.utils.functional import Loaders

from support import MINIONS, fleet_minion_root, master_file_roots, minion_overrides

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "_utils"))

CLONE_NEWNET = 0x40000000

# Salt keeps log records in a deferred handler of its own and writes them to stderr at exit,
# after pytest has closed that stream; pytest's log capture already shows them.
salt._logging.impl.shutdown_temp_handler()


def pytest_collection_modifyitems(items):
    """Skip, with the reason, tests whose marker needs what this machine lacks."""
    missing_root = os.geteuid() != 0
    missing_ip = shutil.which("ip") is None
    for item in items:
        if item.get_closest_marker("netns") and (missing_root or missing_ip):
            why = "needs root" if missing_root else "needs the ip command (iproute2)"
            item.add_marker(pytest.mark.skip(reason=f"network namespaces: {why}"))


@pytest.fixture(scope="session")
def salt_factories_config():
    # Salt's IPC sockets live under root_dir; pytest's deep tmp paths push them past the kernel's
    # 108-byte limit for socket paths, so the daemons get a short root of their own.
    root = tempfile.mkdtemp(prefix="hostnode-salt-", dir="/tmp")
    yield {"root_dir": root}
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def config_root(tmp_path):
    """A throwaway root under which persisted files are written (minion hostnode:config_root)."""
    root = tmp_path / "config-root"
    root.mkdir()
    return root


@pytest.fixture
def minion_opts(salt_factories, config_root):
    factory = salt_factories.salt_minion_daemon(
        f"functional-{uuid.uuid4().hex[:8]}", overrides=minion_overrides(config_root)
    )
    return factory.config.copy()


@pytest.fixture
def loaders(minion_opts):
    """Salt's loaders (modules, states, grains, utils) built over this checkout."""
    return Loaders(minion_opts)


class NetNS:
    """A network namespace of the tests' own: a sandbox node with lo up."""

    def __init__(self, name):
        self.name = name

    def ip(self, *args, check=True):
        return subprocess.run(
            ["ip", "-n", self.name, *args], check=check, capture_output=True, text=True
        )

    def exec(self, argv, check=True, env=None, stdin=None):
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            check=check,
            capture_output=True,
            text=True,
            env=env,
            input=stdin,
        )

    def local_routes(self, version):
        """The kernel's local table of this namespace, as (dst, protocol) pairs."""
        result = self.ip("-json", f"-{version}", "route", "show", "table", "local", check=False)
        routes = json.loads(result.stdout or "[]")
        return {(r["dst"], r.get("protocol", "boot")) for r in routes if r["type"] == "local"}

    def route_type(self, address):
        """What `ip route get` says the kernel does with a packet to address: local, unicast, or
        unreachable when it has no route at all."""
        result = self.ip("-json", "route", "get", address, check=False)
        return json.loads(result.stdout)[0]["type"] if result.returncode == 0 else "unreachable"

    def wait_for_carrier(self, *names, seconds=15):
        """Until the links are UP. A veth passes no packet before then: its operstate, its qdisc
        and a bridge port's forwarding come from the kernel's linkwatch, which may lag a second
        or more on a busy machine."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            links = json.loads(self.ip("-json", "link", "show").stdout)
            if all(link["operstate"] == "UP" for link in links if link["ifname"] in names):
                return
            time.sleep(0.05)
        pytest.fail(f"{names} in {self.name} never came up")

    @contextlib.contextmanager
    def entered(self):
        """Run the calling thread, and the commands it starts, inside this namespace."""
        libc = ctypes.CDLL(None, use_errno=True)
        with open("/proc/thread-self/ns/net") as home, open(f"/run/netns/{self.name}") as there:
            if libc.setns(there.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {self.name}")
            try:
                yield self
            finally:
                libc.setns(home.fileno(), CLONE_NEWNET)


@pytest.fixture
def netns_factory():
    """Makes throwaway network namespaces (lo up unless told otherwise); removes them after."""
    names = []

    def make(lo_up=True):
        name = f"hostnode-test-{uuid.uuid4().hex[:8]}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        names.append(name)
        namespace = NetNS(name)
        if lo_up:
            namespace.ip("link", "set", "lo", "up")
        return namespace

    yield make
    for name in names:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def netns(netns_factory):
    """A fresh network namespace with lo up: a sandbox node."""
    return netns_factory()


@pytest.fixture
def hostnode_call(tmp_path, config_root):
    """Run bin/hostnode-call (masterless salt-call over this checkout) inside a namespace."""

    def call(namespace, *args, pillar=None, minion_id="node1.fra1.example.net"):
        env = dict(
            os.environ,
            HOSTNODE_HOME=str(tmp_path / "salt"),
            HOSTNODE_CONFIG_ROOT=str(config_root),
            HOSTNODE_ID=minion_id,
            HOSTNODE_VENV=sys.prefix,
        )
        if pillar:
            env["HOSTNODE_PILLAR"] = str(pillar)
        argv = [str(REPO / "bin/hostnode-call"), "--out=json", "--retcode-passthrough", *args]
        result = namespace.exec(argv, check=False, env=env)
        try:
            return result.returncode, json.loads(result.stdout)["local"]
        except (ValueError, KeyError):
            pytest.fail(f"hostnode-call {args} printed no JSON:\n{result.stdout}{result.stderr}")

    return call


@pytest.fixture(scope="session")
def ceph_lab():
    """
    The run's one real Ceph cluster (tests/ceph_cluster.py; ~45 s to start), stopped at the end.
    Each test module takes devices of its own with ``ceph_lab.lend(count)``; the eleven here are
    enough for all of them (seven for tests/functional/test_ceph_osd.py, two for
    tests/functional/test_maintenance_ceph.py, two for tests/reliability/test_faults.py).
    """
    reason = ceph_cluster.missing()
    if reason:
        pytest.skip(reason)
    lab = ceph_cluster.Cluster(osd_devices=11).start()
    yield lab
    lab.stop()


@pytest.fixture(scope="session")
def master(salt_factories, tmp_path_factory):
    """
    A real salt-master laid out as docs/install.md says (support.master_file_roots): the formulas,
    hostnode's state top and the extension dirs; pillar from pillar.example, outside the file roots.
    """
    _, file_roots = master_file_roots(tmp_path_factory.mktemp("master"))
    overrides = {"file_roots": file_roots, "pillar_roots": {"base": [str(REPO / "pillar.example")]}}
    factory = salt_factories.salt_master_daemon("hostnode-master", overrides=overrides)
    with factory.started(start_timeout=120):
        yield factory


@pytest.fixture(scope="session")
def minions(master, tmp_path_factory):
    """The minions, each with a config root of its own (support.fleet_minion_root)."""
    started = []
    for minion_id, grains in MINIONS.items():
        root = fleet_minion_root(tmp_path_factory.mktemp(minion_id), minion_id)
        overrides = {"hostnode": {"config_root": str(root)}, "grains": grains}
        factory = master.salt_minion_daemon(minion_id, overrides=overrides)
        factory.start(start_timeout=180)
        started.append(factory)
    yield started
    for factory in started:
        factory.terminate()


@pytest.fixture(scope="module")
def hv3(master, salt_cli, tmp_path_factory):
    """A third hypervisor of ams1 (pillar.example names it a node of ams1's Ganeti cluster), for
    one test module (its key deleted afterwards, so later tests' '*' does not wait for it)."""
    node = "hv3.ams1.example.net"
    root = fleet_minion_root(tmp_path_factory.mktemp(node), node)
    overrides = {"hostnode": {"config_root": str(root)}, "grains": {"roles": ["hypervisor"]}}
    factory = master.salt_minion_daemon(node, overrides=overrides)
    factory.start(start_timeout=180)
    synced = salt_cli.run("saltutil.sync_all", minion_tgt=node)
    assert synced.returncode == 0, synced.stderr
    yield factory
    factory.terminate()
    master.salt_key_cli().run("-d", node, "-y")


@pytest.fixture(scope="session")
def salt_cli(master, minions):
    """The salt CLI of the master, once every minion has synced our modules from file_roots."""
    cli = master.salt_cli(timeout=120)
    synced = cli.run("saltutil.sync_all", minion_tgt="*")
    assert synced.returncode == 0, synced.stderr
    for minion_id in MINIONS:
        assert "modules.anyip" in synced.data[minion_id]["modules"]
    return cli
