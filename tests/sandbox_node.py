"""
A sandbox node: hypervisor hv1.ams1.example.net of pillar.example in network and UTS namespaces
(its own hostname), a config root, two loop devices for its volume group and a copy of the
pillar. This kernel has no bonding and no VLANs, so bond0, its VLANs (the site's, or as many as
asked for) and the SAN NICs are veth stand-ins. Used by tests/functional/test_node_bootstrap.py
and tests/bench/test_node_bench.py.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml

from support import REPO

MINION = "hv1.ams1.example.net"
SITE_VLANS = (100, 200)  # site ams1 of pillar.example
INSTALLER_HOSTS = "127.0.0.1 localhost\n127.0.1.1 hv1.ams1.example.net hv1\n"


class Sandbox:
    """A sandbox node: network and UTS namespaces, a config root, loop devices, a pillar copy."""

    def __init__(self, base, vlans=SITE_VLANS):
        self.name = f"hostnode-node-{uuid.uuid4().hex[:8]}"
        self.base = base
        self.home = base / "salt"
        self.vlans = list(vlans)
        self.root = base / "root"
        self.pillar = base / "pillar"
        self.uts = base / "uts"
        self.loops = []
        self.extra_pillar = []

    def start(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.ip("link", "set", "lo", "up")
        stand_ins = ["bond0", *(f"bond0.{vlan}" for vlan in self.vlans), "stor-a", "stor-b"]
        batch = "".join(f"link add {name} type veth peer name peer{index}\n"
                        for index, name in enumerate(stand_ins))  # fmt: skip
        subprocess.run(["ip", "-n", self.name, "-batch", "-"], input=batch, text=True,
                       check=True)  # fmt: skip
        (self.root / "etc/network").mkdir(parents=True)
        (self.root / "etc/network/interfaces").write_text(
            f"auto lo\niface lo inet loopback\n\nsource {self.root}/etc/network/interfaces.d/*\n"
        )
        (self.root / "etc/machine-id").write_text("4f0e1b7c9a8d4e2f8b6a5c3d2e1f0a9b\n")
        (self.root / "etc/hosts").write_text(INSTALLER_HOSTS)
        self.uts.touch()
        subprocess.run(["unshare", f"--uts={self.uts}", "true"], check=True)
        for index in range(2):
            image = self.base / f"disk{index}.img"
            subprocess.run(["truncate", "-s", "64M", str(image)], check=True)
            loop = subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                                  capture_output=True, text=True).stdout.strip()  # fmt: skip
            self.loops.append(loop)
        shutil.copytree(REPO / "pillar.example", self.pillar)
        self.add_pillar("sandbox", sandbox_pillar(self.loops, self.vlans))

    def add_pillar(self, name, data):
        """A pillar file given to the minion after all of pillar.example's."""
        (self.pillar / f"{name}.sls").write_text(yaml.safe_dump(data))
        self.extra_pillar.append(name)
        top = (REPO / "pillar.example/top.sls").read_text() + f"  {MINION}:\n"
        top += "".join(f"    - {extra}\n" for extra in self.extra_pillar)
        (self.pillar / "top.sls").write_text(top)

    def ip(self, *args):
        return subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True,
                              text=True).stdout  # fmt: skip

    def inside(self, argv, env=None):
        enter = ["nsenter", f"--net=/run/netns/{self.name}", f"--uts={self.uts}"]
        return subprocess.run(enter + argv, check=False, capture_output=True, text=True, env=env)

    def call(self, *args):
        env = dict(os.environ, HOSTNODE_HOME=str(self.home),
                   HOSTNODE_CONFIG_ROOT=str(self.root), HOSTNODE_ID=MINION,
                   HOSTNODE_ROLES="hypervisor", HOSTNODE_PILLAR=str(self.pillar),
                   HOSTNODE_VENV=sys.prefix)  # fmt: skip
        argv = [str(REPO / "bin/hostnode-call"), "--out=json", "--retcode-passthrough", *args]
        result = self.inside(argv, env)
        try:
            return result.returncode, json.loads(result.stdout)["local"]
        except (ValueError, KeyError):
            pytest.fail(f"hostnode-call {args} printed no JSON:\n{result.stdout}{result.stderr}")

    def links(self):
        return {link["ifname"]: link for link in json.loads(self.ip("-json", "-d", "link"))}

    def volume_groups(self):
        result = subprocess.run(["pvs", "--reportformat", "json", "-o", "pv_name,vg_name"],
                                capture_output=True, text=True, check=True)  # fmt: skip
        (report,) = json.loads(result.stdout)["report"]
        return {pv["pv_name"]: pv["vg_name"] for pv in report["pv"] if pv["pv_name"] in self.loops}

    def stop(self):
        subprocess.run(["vgremove", "-f", "xenvg"], capture_output=True, check=False)
        for loop in self.loops:
            subprocess.run(["pvremove", "-ff", "-y", loop], capture_output=True, check=False)
            subprocess.run(["losetup", "-d", loop], check=False)
        subprocess.run(["ip", "netns", "del", self.name], check=False)
        subprocess.run(["umount", str(self.uts)], check=False)


def sandbox_pillar(loops, vlans):
    """What the sandbox changes: its disks, VLANs, and the role's formulas this kernel can run."""
    return {"hostnode": {
        "node": {"lvm": {"devices": loops}, "bridges": {"vlans": vlans},
                 "role_formulas": {"hypervisor": ["node.bridges", "node.lvm", "anyip",
                                                  "storage_net.arpflux"]}},
    }}  # fmt: skip
