"""
A real one-host Ceph cluster for the tests, from Debian's packages: one mon, one mgr, loop
devices over sparse files for OSDs, on demand an MDS and a CephFS mounted with ceph-fuse,
everything under a temporary directory.

The cluster lives in a private mount namespace whose /etc/ceph, /var/lib/ceph, /var/log/ceph
and /run/ceph are temporary directories: ceph-volume hard-codes those paths (the bootstrap-osd
keyring, the OSD data directories), so the host's own are never touched. ``run`` executes a
command in that namespace (nsenter); the daemons started there keep it alive until ``stop``.

The tests start one cluster per session (``ceph_lab`` in tests/conftest.py): each test module
borrows loop devices of its own with ``lend`` and counts only the OSDs on them, so modules
never touch each other's devices and pass in any order, together or alone.

    python tests/ceph_cluster.py      # smoke run: 3 OSDs, HEALTH_OK, a rados round trip
"""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

PACKAGES = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph-common", "ceph-mds", "ceph-fuse", "udev")
BIND = ("/etc/ceph", "/var/lib/ceph", "/var/log/ceph", "/run/ceph")
ENV = {"CEPH_VOLUME_ALLOW_LOOP_DEVICES": "true", "CEPH_CONF": "/etc/ceph/ceph.conf"}
CONF = """[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{port}
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
auth allow insecure global id reclaim = false
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
osd memory target = 939524096
bluestore cache autotune = false
log file = /var/lib/ceph/log/$name.log
run dir = /run/ceph

[client]
admin socket =
"""


def missing():
    """Why the cluster cannot run here, or None."""
    if os.geteuid() != 0:
        return "a Ceph cluster needs root"
    absent = [tool for tool in ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph-volume", "ceph")
              if not shutil.which(tool)]  # fmt: skip
    if absent:
        return f"{', '.join(absent)} missing (packages {' '.join(PACKAGES)})"
    return None


class Cluster:
    def __init__(self, osd_devices=4, device_gib=3, port=None):
        self.fsid = str(uuid.uuid4())
        self.port = port or 3300 + os.getpid() % 1000
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="hostnode-ceph-"))
        self.count, self.gib = osd_devices, device_gib
        self.devices, self.holder, self.lent = [], None, 0

    # --- the namespace --------------------------------------------------------------------
    def run(self, *argv, check=True, stdin=None, timeout=300, env=None):
        """Run argv in the cluster's mount namespace; the CompletedProcess, text mode."""
        command = ["nsenter", "-t", str(self.holder.pid), "-m", "--", *argv]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True,
                              env={**os.environ, **ENV, **(env or {})}, timeout=timeout,
                              check=False)  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
        return done

    def ceph(self, *args):
        """A ceph command's JSON answer."""
        return json.loads(self.run("ceph", *args, "--format", "json").stdout or "null")

    def _namespace(self):
        mounts = []
        for target in BIND:
            source = self.work / target.strip("/").replace("/", "-")
            source.mkdir()
            os.makedirs(target, exist_ok=True)
            mounts.append(f"mount --bind {source} {target}")
        script = " && ".join(mounts) + " && exec sleep infinity"
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        )
        for _ in range(50):
            done = subprocess.run(["nsenter", "-t", str(self.holder.pid), "-m", "--",
                                   "mountpoint", "-q", BIND[-1]], check=False)  # fmt: skip
            if done.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("the cluster's mount namespace did not come up")

    # --- the cluster ----------------------------------------------------------------------
    def start(self):
        try:
            self._namespace()
            self._loop_devices()
            self._keys_and_conf()
            self._mon()
            self._mgr()
        except BaseException:
            self.stop()
            raise
        return self

    def _loop_devices(self):
        for index in range(self.count):
            image = self.work / f"osd{index}.img"
            with open(image, "wb") as handle:
                handle.truncate(self.gib * 1024**3)
            found = subprocess.run(["losetup", "--find", "--show", str(image)],
                                   capture_output=True, text=True, check=True)  # fmt: skip
            self.devices.append(found.stdout.strip())

    def _keys_and_conf(self):
        for folder in ("mon/ceph-a", "mgr/ceph-x", "bootstrap-osd", "osd", "mds", "log", "tmp"):
            self.run("mkdir", "-p", f"/var/lib/ceph/{folder}")
        self.run("sh", "-c", "cat > /etc/ceph/ceph.conf",
                 stdin=CONF.format(fsid=self.fsid, port=self.port))  # fmt: skip
        tmp = "/var/lib/ceph/tmp"
        self.run("ceph-authtool", "--create-keyring", f"{tmp}/mon.keyring", "--gen-key",
                 "-n", "mon.", "--cap", "mon", "allow *")  # fmt: skip
        self.run("ceph-authtool", "--create-keyring", "/etc/ceph/ceph.client.admin.keyring",
                 "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *", "--cap", "osd",
                 "allow *", "--cap", "mds", "allow *", "--cap", "mgr", "allow *")  # fmt: skip
        self.run("ceph-authtool", "--create-keyring", "/var/lib/ceph/bootstrap-osd/ceph.keyring",
                 "--gen-key", "-n", "client.bootstrap-osd", "--cap", "mon",
                 "profile bootstrap-osd", "--cap", "mgr", "allow r")  # fmt: skip
        for keyring in ("/etc/ceph/ceph.client.admin.keyring",
                        "/var/lib/ceph/bootstrap-osd/ceph.keyring"):  # fmt: skip
            self.run("ceph-authtool", f"{tmp}/mon.keyring", "--import-keyring", keyring)
        self.run("monmaptool", "--create", "--addv", "a", f"[v2:127.0.0.1:{self.port}]",
                 "--fsid", self.fsid, f"{tmp}/monmap")  # fmt: skip

    def _mon(self):
        tmp = "/var/lib/ceph/tmp"
        self.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", f"{tmp}/monmap",
                 "--keyring", f"{tmp}/mon.keyring")  # fmt: skip
        self.run("ceph-mon", "-i", "a")
        self.wait(lambda: self.run("ceph", "mon", "stat", check=False).returncode == 0, 60, "mon")

    def _mgr(self):
        key = self.run("ceph", "auth", "get-or-create", "mgr.x", "mon", "allow profile mgr",
                       "osd", "allow *", "mds", "allow *").stdout  # fmt: skip
        self.run("sh", "-c", "cat > /var/lib/ceph/mgr/ceph-x/keyring", stdin=key)
        self.run("ceph-mgr", "-i", "x")
        self.wait(lambda: self.ceph("mgr", "stat").get("available"), 120, "mgr")

    def start_osd(self, osd_id):
        """Start ceph-osd for an activated OSD (what systemd's ceph-osd@ unit would do)."""
        self.run("ceph-osd", "-i", str(osd_id))

    def make_osd(self, device):
        """An OSD on device the plain way (raw prepare + activate + start), for test setup."""
        self.run("ceph-volume", "raw", "prepare", "--bluestore", "--data", device)
        (osd,) = [o for o in self.raw_list().values() if o["device"] == device]
        self.run("ceph-volume", "raw", "activate", "--device", device, "--no-systemd")
        self.start_osd(osd["osd_id"])
        return osd["osd_id"]

    def make_foreign_osd(self, device):
        """A bluestore OSD of another cluster (a fresh fsid) on device, made offline."""
        folder = "/var/lib/ceph/tmp/foreign"
        self.run("mkdir", "-p", folder)
        self.run("ln", "-sf", device, f"{folder}/block")
        self.run("ceph-osd", "--no-mon-config", "--mkfs", "-i", "99", "--osd-uuid",
                 str(uuid.uuid4()), "--fsid", str(uuid.uuid4()), "--osd-objectstore",
                 "bluestore", "--osd-data", folder, "--keyring", "/dev/null")  # fmt: skip

    def cephfs(self, mountpoint="/var/lib/ceph/tmp/fs"):
        """An MDS, a filesystem on a pool pair, mounted with ceph-fuse at mountpoint."""
        self.run("mkdir", "-p", "/var/lib/ceph/mds/ceph-a", mountpoint)
        key = self.run("ceph", "auth", "get-or-create", "mds.a", "mon", "profile mds", "osd",
                       "allow rwx", "mds", "allow", "mgr", "profile mds").stdout  # fmt: skip
        self.run("sh", "-c", "cat > /var/lib/ceph/mds/ceph-a/keyring", stdin=key)
        self.run("ceph-mds", "-i", "a")
        for pool in ("cephfs_meta", "cephfs_data"):
            self.run("ceph", "osd", "pool", "create", pool, "8")
        self.run("ceph", "fs", "new", "cephfs", "cephfs_meta", "cephfs_data")
        self.wait(self._mds_active, 90, "an active MDS")
        self.run("ceph-fuse", mountpoint)
        return mountpoint

    def _mds_active(self):
        (filesystem,) = self.ceph("fs", "dump")["filesystems"]
        return any(mds["state"] == "up:active" for mds in filesystem["mdsmap"]["info"].values())

    def raw_list(self):
        return json.loads(self.run("ceph-volume", "raw", "list", "--format", "json").stdout)

    def wait(self, condition, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(1)
        raise RuntimeError(f"{what} not ready after {seconds} s")

    def healthy(self, osd_ids):
        """HEALTH_OK with each of osd_ids up and in (the cluster may hold other OSDs too)."""
        if self.ceph("health")["status"] != "HEALTH_OK":
            return False
        osds = self.ceph("osd", "dump")["osds"]
        return set(osd_ids) <= {osd["osd"] for osd in osds if osd["up"] and osd["in"]}

    def osd_ids(self, devices):
        """{device: id} of this cluster's OSDs on devices, as ceph-volume reads their labels."""
        return {osd["device"]: osd["osd_id"] for osd in self.raw_list().values()
                if osd["device"] in devices and osd["ceph_fsid"] == self.fsid}  # fmt: skip

    def lend(self, count):
        """A Share of this cluster holding count loop devices that were never lent before."""
        free = self.devices[self.lent :]
        if len(free) < count:
            raise RuntimeError(f"{count} devices wanted, {len(free)} of {self.count} left")
        self.lent += count
        return Share(self, free[:count])

    def stop(self):
        if self.holder:
            self.run("sh", "-c", "umount /var/lib/ceph/tmp/fs 2>/dev/null; true", check=False)
            for name in ("ceph-fuse", "ceph-osd", "ceph-mds", "ceph-mgr", "ceph-mon"):
                self._kill(name)
            self.run("sh", "-c", "umount /var/lib/ceph/osd/* 2>/dev/null; true", check=False)
            self.holder.kill()
            self.holder.wait()
            self.holder = None
        for device in self.devices:
            subprocess.run(["losetup", "-d", device], check=False)
        self.devices = []
        shutil.rmtree(self.work, ignore_errors=True)

    def _kill(self, name):
        """Stop the daemons of this cluster (their conf names our fsid's directory)."""
        for pid in self._pids(name):
            os.kill(pid, signal.SIGKILL)

    def _pids(self, name):
        ours = os.readlink(f"/proc/{self.holder.pid}/ns/mnt")
        pids = []
        for entry in pathlib.Path("/proc").iterdir():
            try:
                same = os.readlink(entry / "ns/mnt") == ours
                comm = (entry / "comm").read_text().strip()
            except (OSError, ValueError):
                continue
            if same and comm == name:
                pids.append(int(entry.name))
        return pids


class Share:
    """
    One test module's part of a shared Cluster: ``devices`` are its own, lent by
    ``Cluster.lend``; everything else (``run``, ``ceph``, ``wait``, ``fsid``...) is the cluster's.
    A module may keep its own attributes (its Salt home, say) on its Share.
    """

    def __init__(self, cluster, devices):
        self.cluster, self.devices = cluster, devices

    def __getattr__(self, name):
        return getattr(self.cluster, name)

    def osd_ids(self):
        """{device: id} of this cluster's OSDs on the devices of this share."""
        return self.cluster.osd_ids(self.devices)


def smoke():
    cluster = Cluster()
    started = time.monotonic()
    cluster.start()
    print(f"mon + mgr up: {time.monotonic() - started:.1f} s")
    try:
        osds = []
        for device in cluster.devices[:3]:
            began = time.monotonic()
            osds.append(cluster.make_osd(device))
            print(f"osd.{osds[-1]} on {device}: {time.monotonic() - began:.1f} s")
        cluster.wait(lambda: cluster.healthy(osds), 120, "HEALTH_OK")
        print(f"HEALTH_OK with 3 OSDs: {time.monotonic() - started:.1f} s")
        cluster.run("ceph", "osd", "pool", "create", "smoke", "8")
        cluster.run("ceph", "osd", "pool", "application", "enable", "smoke", "rados")
        cluster.run("rados", "-p", "smoke", "put", "hello", "/etc/hostname")
        print(cluster.run("rados", "-p", "smoke", "get", "hello", "-").stdout.strip())
    finally:
        began = time.monotonic()
        cluster.stop()
        print(f"teardown: {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    smoke()
