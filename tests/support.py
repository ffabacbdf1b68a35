"""Helpers shared by the tests: loading our modules by path, and a recording stand-in for _run."""

import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import time
import uuid

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
NETWORKD = "/lib/systemd/systemd-networkd"

# The fleet of the session's master (conftest.py): two sites (by minion id) times two roles
# (by grain); ams1 has a second hypervisor, a node of its Ganeti cluster.
MINIONS = {
    "hv1.ams1.example.net": {"roles": ["hypervisor"]},
    "hv2.ams1.example.net": {"roles": ["hypervisor"]},
    "stor1.ams1.example.net": {"roles": ["storage"]},
    "hv1.fra1.example.net": {"roles": ["hypervisor"]},
    "stor1.fra1.example.net": {"roles": ["storage"]},
}


# What a master serves of hostnode (docs/install.md): these through a folder of links, and the
# formulas with the state top; never the checkout itself (.git, pillar.example, venvs).
EXTENSION_DIRS = ("_modules", "_states", "_grains", "_beacons", "_utils")


def documented_master_config(name):
    """The YAML block of docs/install.md that starts with ``# /etc/salt/master.d/<name>``."""
    text = (REPO / "docs/install.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if b.startswith(f"# /etc/salt/master.d/{name}\n")]
    return yaml.safe_load(block)


def documented_reactor():
    """The reactor block of docs/node-bootstrap.md (`# /etc/salt/master.d/reactor.conf`)."""
    text = (REPO / "docs/node-bootstrap.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
                if b.startswith("# /etc/salt/master.d/reactor.conf\n")]  # fmt: skip
    return yaml.safe_load(block)["reactor"]


def master_file_roots(root, checkout=REPO):
    """
    The master layout of docs/install.md under root: the checkout at ``root/hostnode`` (its
    extension dirs and formulas copied, as a clone holds them) outside every file root, and
    ``root/salt-hostnode`` holding links to its extension dirs. Returns (the checkout,
    file_roots), file_roots read from the docs' block with ``/srv`` moved to root.
    """
    clone = root / "hostnode"
    for name in (*EXTENSION_DIRS, "formulas"):
        shutil.copytree(checkout / name, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
    links = root / "salt-hostnode"
    links.mkdir()
    for name in EXTENSION_DIRS:
        (links / name).symlink_to(clone / name)
    documented = documented_master_config("hostnode.conf")["file_roots"]["base"]
    return clone, {"base": [path.replace("/srv", str(root), 1) for path in documented]}


def fleet_minion_root(root, minion_id):
    """
    A fleet minion's config root: ifupdown as its network backend and a machine-id of its own
    (stable: derived from the minion id).
    """
    (root / "etc/network").mkdir(parents=True)
    (root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")
    (root / "etc/machine-id").write_text(uuid.uuid5(uuid.NAMESPACE_DNS, minion_id).hex + "\n")
    return root


def load_module(kind, stem):
    """Import _modules/<stem>.py or _states/<stem>.py under a name of its own."""
    path = REPO / f"_{kind}" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"hostnode_test_{kind}_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_text(tool, case):
    return (FIXTURES / tool / case).read_text()


class CommandTable:
    """
    A stand-in for cmd.run_all that answers from a table of argv -> (retcode, stdout, stderr),
    or argv -> a list of such answers given one per call, and records every call with its stdin.
    """

    def __init__(self, answers=None):
        self.answers = dict(answers or {})
        self.calls = []

    def __call__(self, argv, python_shell=False, stdin=None, **_options):
        assert python_shell is False, "commands must never go through a shell"
        self.calls.append((list(argv), stdin))
        answer = self.answers.get(tuple(argv), (0, "", ""))
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        retcode, stdout, stderr = answer
        return {"retcode": retcode, "stdout": stdout, "stderr": stderr, "pid": 1}

    def argvs(self):
        return [argv for argv, _ in self.calls]


def salt_dunders(cmd_run_all, config_root):
    """The __salt__ of a module under test: a stand-in cmd.run_all and a config root."""
    config = {"hostnode:config_root": str(config_root)}
    return {
        "__salt__": {
            "cmd.run_all": cmd_run_all,
            "config.get": lambda key, default=None: config.get(key, default),
        }
    }


def prometheus_samples(exposition):
    """
    {series: value} of a Prometheus text exposition, each series with its labels sorted by name
    (node_exporter sorts them and reformats numbers, so this compares what was meant).
    """
    found = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            name, _, labels = series.partition("{")
            pairs = sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
            text = ",".join(f'{key}="{val}"' for key, val in pairs)
            found[f"{name}{{{text}}}" if labels else name] = float(value)
    return found


def iscsi_sandbox(work):
    """
    In work: an /etc/iscsi of its own (the host's iscsid.conf, an initiator name), a results
    folder and a pillar root whose top gives every minion ``secrets``; (etc_iscsi, out, pillar).
    pytest skips where open-iscsi or a private mount namespace cannot be had.
    """
    if not shutil.which("iscsiadm") or not os.path.isdir("/etc/iscsi"):
        pytest.skip("open-iscsi is not installed (package open-iscsi)")
    if not shutil.which("unshare") or os.geteuid() != 0:
        pytest.skip("a private mount namespace needs root and unshare")
    etc_iscsi, out, pillar = work / "etc-iscsi", work / "out", work / "pillar"
    for folder in (etc_iscsi, out, pillar):
        folder.mkdir()
    shutil.copy("/etc/iscsi/iscsid.conf", etc_iscsi)
    (etc_iscsi / "initiatorname.iscsi").write_text("InitiatorName=iqn.2026-11.net.example:h\n")
    (pillar / "top.sls").write_text("base:\n  '*':\n    - secrets\n")
    return etc_iscsi, out, pillar


def minion_overrides(config_root, pillar_roots=None):
    """Minion options that load our modules from the checkout, as bin/hostnode-call does."""
    return {
        "file_client": "local",
        "module_dirs": [str(REPO)],
        "file_roots": {"base": [str(REPO / "formulas")]},
        "pillar_roots": {"base": [str(pillar_roots or REPO / "pillar.example")]},
        "hostnode": {"config_root": str(config_root)},
    }


def boot_networkd(namespace, network_dir, mount_point, ready, seconds=10):
    """
    Run systemd-networkd in namespace with only network_dir's files (bound on mount_point)
    until ready() is true (then True) or seconds have passed (False); stopped after.
    """
    script = (
        "mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/network && "
        "for d in /etc/systemd/network /lib/systemd/network; do mount -t tmpfs tmpfs $d; done && "
        f"mount --bind {network_dir} {mount_point} && "
        "umount -l /sys && mount -t sysfs -o ro sysfs /sys && "
        f"exec {NETWORKD}"
    )
    daemon = subprocess.Popen(
        ["ip", "netns", "exec", namespace.name, "unshare", "-m", "sh", "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready():
                return True
            time.sleep(0.1)
        return False
    finally:
        daemon.kill()
        daemon.wait()
