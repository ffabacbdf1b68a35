"""
A sandbox node, shared by `make demo` (bin/hostnode-demo) and the tests (tests/sandbox_node.py):
hypervisor hv1.ams1.example.net of pillar.example in network and UTS namespaces (its own
hostname), a config root, two loop devices for its volume group and a copy of the pillar. This
kernel has no bonding and no VLANs, so bond0, its VLANs (the site's, or as many as asked for)
and the SAN ports stor-a and stor-b are veth stand-ins. The SAN ports carry the addresses an
installer gave them; their peers are on one bridge in a namespace of their own, the site's SAN
with its two portals, from where arping sees which NIC answers. Standard library only: the demo
runs it with the system's python3.
"""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import uuid

REPO = pathlib.Path(__file__).resolve().parent.parent
MINION = "hv1.ams1.example.net"
SITE_VLANS = (100, 200)  # site ams1 of pillar.example
INSTALLER_HOSTS = "127.0.0.1 localhost\n127.0.1.1 hv1.ams1.example.net hv1\n"
# Site ams1's SAN subnets: the node's port in each, and the portal the SAN answers on.
SAN_PORTS = {"stor-a": "192.0.2.11/24", "stor-b": "198.51.100.11/24"}
SAN_PORTALS = ("192.0.2.1/24", "198.51.100.1/24")
DISK_SIZE = "64M"


def run(argv, check=True, env=None, stdin=None):
    """
    subprocess.run in a session of its own, output captured: an interrupt (Ctrl-C reaches only
    the caller) kills the command with everything it started, then goes on.
    """
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env,
                          start_new_session=True) as process:  # fmt: skip
        try:
            stdout, stderr = process.communicate(stdin)
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, argv, stdout, stderr)
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


class Sandbox:
    """A sandbox node: network and UTS namespaces, a config root, loop devices, a pillar copy."""

    def __init__(self, base, vlans=SITE_VLANS, venv=None):
        tag = uuid.uuid4().hex[:8]
        self.name = f"hostnode-node-{tag}"
        self.san = f"hostnode-san-{tag}"
        self.base = pathlib.Path(base)
        self.home = self.base / "salt"
        self.vlans = list(vlans)
        self.venv = venv  # the venv whose salt-call runs (default: bin/hostnode-call's)
        self.root = self.base / "root"
        self.pillar = self.base / "pillar"
        self.uts = self.base / "uts"
        self.loops = []
        self.extra_pillar = []

    def start(self):
        for namespace in (self.name, self.san):
            run(["ip", "netns", "add", namespace])
        stand_ins = ["bond0", *(f"bond0.{vlan}" for vlan in self.vlans)]
        batch = "link set lo up\n" + "".join(
            f"link add {name} type veth peer name peer{index}\n"
            for index, name in enumerate(stand_ins)
        )
        for port, address in SAN_PORTS.items():
            batch += f"link add {port} type veth peer name {port} netns {self.san}\n"
            batch += f"addr add {address} dev {port}\nlink set {port} up\n"
        san = "link set lo up\nlink add br0 type bridge\nlink set br0 up\n"
        san += "".join(f"addr add {portal} dev br0\n" for portal in SAN_PORTALS)
        san += "".join(f"link set {port} master br0 up\n" for port in SAN_PORTS)
        for namespace, commands in ((self.name, batch), (self.san, san)):
            run(["ip", "-n", namespace, "-batch", "-"], stdin=commands)
        (self.root / "etc/network").mkdir(parents=True)
        (self.root / "etc/network/interfaces").write_text(
            f"auto lo\niface lo inet loopback\n\nsource {self.root}/etc/network/interfaces.d/*\n"
        )
        (self.root / "etc/machine-id").write_text("4f0e1b7c9a8d4e2f8b6a5c3d2e1f0a9b\n")
        (self.root / "etc/hosts").write_text(INSTALLER_HOSTS)
        self.uts.touch()
        run(["unshare", f"--uts={self.uts}", "true"])
        for index in range(2):
            image = self.base / f"disk{index}.img"
            run(["truncate", "-s", DISK_SIZE, str(image)])
            self.loops.append(run(["losetup", "-f", "--show", str(image)]).stdout.strip())
        shutil.copytree(REPO / "pillar.example", self.pillar)
        self.add_pillar("sandbox", sandbox_pillar(self.loops, self.vlans))

    def add_pillar(self, name, data):
        """A pillar file given to the minion after all of pillar.example's (JSON is YAML)."""
        (self.pillar / f"{name}.sls").write_text(json.dumps(data, indent=2))
        self.extra_pillar.append(name)
        top = (REPO / "pillar.example/top.sls").read_text() + f"  {MINION}:\n"
        top += "".join(f"    - {extra}\n" for extra in self.extra_pillar)
        (self.pillar / "top.sls").write_text(top)

    def ip(self, *args):
        return run(["ip", "-n", self.name, *args]).stdout

    def inside(self, argv, env=None):
        """argv in the node's network and UTS namespaces; the CompletedProcess, never raises."""
        enter = ["nsenter", f"--net=/run/netns/{self.name}", f"--uts={self.uts}"]
        return run(enter + argv, check=False, env=env)

    def call(self, *args):
        """bin/hostnode-call as the node's minion: (exit code, the "local" of its JSON)."""
        env = dict(os.environ, HOSTNODE_HOME=str(self.home),
                   HOSTNODE_CONFIG_ROOT=str(self.root), HOSTNODE_ID=MINION,
                   HOSTNODE_ROLES="hypervisor", HOSTNODE_PILLAR=str(self.pillar))  # fmt: skip
        if self.venv:
            env["HOSTNODE_VENV"] = str(self.venv)
        argv = [str(REPO / "bin/hostnode-call"), "--out=json", "--retcode-passthrough", *args]
        result = self.inside(argv, env)
        try:
            return result.returncode, json.loads(result.stdout)["local"]
        except (ValueError, KeyError):
            message = f"hostnode-call {' '.join(args)} printed no JSON:\n{result.stdout}"
            raise RuntimeError(message + result.stderr) from None

    def links(self):
        return {link["ifname"]: link for link in json.loads(self.ip("-json", "-d", "link"))}

    def volume_groups(self):
        """{loop device: its volume group} of the sandbox's disks that are physical volumes."""
        report = run(["pvs", "--reportformat", "json", "-o", "pv_name,vg_name"]).stdout
        (report,) = json.loads(report)["report"]
        return {pv["pv_name"]: pv["vg_name"] for pv in report["pv"] if pv["pv_name"] in self.loops}

    def stop(self):
        """
        Remove what start made, as far as it got (also when interrupted in between): the LVM
        labels and every loop device on its disk images, the namespaces.
        """
        attached = ["losetup", "--list", "--noheadings", "--output", "NAME", "--associated"]
        loops = [
            loop
            for image in sorted(self.base.glob("disk*.img"))
            for loop in run([*attached, str(image)], check=False).stdout.split()
        ]
        if loops:  # only the sandbox's disks: another volume group may have the same name
            devices = ["--devices", ",".join(loops)]
            run(["vgremove", "-f", *devices, "--select", "vg_name=~.*"], check=False)
            run(["pvremove", "-ff", "-y", *devices, *loops], check=False)
        for loop in loops:
            run(["losetup", "-d", loop], check=False)
        for namespace in (self.name, self.san):
            run(["ip", "netns", "del", namespace], check=False)
        if self.uts.exists():
            run(["umount", str(self.uts)], check=False)


def sandbox_pillar(loops, vlans):
    """
    What the sandbox changes: its disks, VLANs, and the role's formulas this kernel can run; no
    time sources: node.time would install chrony on the machine itself, whose packages are no
    sandbox's, and start it where no init system runs (tests/functional/test_formula_time.py
    applies it under a config root).
    """
    return {"hostnode": {
        "node": {"lvm": {"devices": loops}, "bridges": {"vlans": vlans},
                 "time": {"servers": [], "pools": []},
                 "role_formulas": {"hypervisor": ["node.bridges", "node.lvm", "anyip",
                                                  "storage_net.arpflux"]}},
    }}  # fmt: skip
