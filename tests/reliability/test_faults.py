"""
Faults while a state applies, for real on this host: each run that meets one fails honestly
(``result: False``, the cause in the comment, what it did change in ``changes``), and a re-run
once the fault is gone converges (then changes nothing).

- the anyip formula (bin/hostnode-call in a network namespace, ifupdown backend) with its
  persisted file's directory read-only, with the config root's filesystem full (a small
  tmpfs), and with ``ip -batch`` failing halfway (one prefix already routed with another type);
- iscsi.logged_in with a portal that does not answer and one that does not need discovery
  (open-iscsi's node database in a private mount namespace; iscsid cannot run here);
- ceph_osd.present on two devices of the session's real one-host cluster (``ceph_lab``,
  tests/ceph_cluster.py) while the daemon of the first OSD it creates is killed.

Covered by the guest lane instead (a kernel with iSCSI and device-mapper; not booted here):
an unreachable portal failing alone in bounded time and a multipath path failing and coming
back, tests/vm/test_guest_storage_net.py::test_an_unreachable_portal_fails_alone_in_bounded_time
and ::test_a_blocked_portal_is_seen_within_seconds_and_its_return_too.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from support import REPO

pytestmark = [pytest.mark.netns, pytest.mark.slow]

FRA1 = "node1.fra1.example.net"  # pillar: 198.51.100.0/24, 2001:db8:100::/64
AMS1 = "node2.ams1.example.net"  # pillar: 203.0.113.0/25, 2001:db8:200::/64
FRA1_PREFIXES = ["198.51.100.0/24", "2001:db8:100::/64"]
PERSISTED = "etc/network/interfaces.d/hostnode-anyip-lo"

ROWS = []


@pytest.fixture(scope="module", autouse=True)
def table():
    """The cases as a table (case, expected, observed), printed at the end (pytest -s)."""
    yield ROWS
    print("\n| case | expected | observed |\n|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")


@contextlib.contextmanager
def tmpfs(path, size):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def remount(path, mode):
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


def ifupdown(config_root):
    (config_root / "etc/network").mkdir(parents=True, exist_ok=True)
    (config_root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")


def anyip(hostnode_call, node, minion_id=FRA1):
    code, returned = hostnode_call(node, "state.apply", "anyip", minion_id=minion_id)
    (state,) = returned.values()
    return code, state


def strays(directory):
    return [p.name for p in directory.rglob(".hostnode-*")]


def test_a_read_only_directory_fails_the_file_only_and_a_rerun_writes_it(
    netns, hostnode_call, config_root
):
    ifupdown(config_root)
    folder = config_root / "etc/network/interfaces.d"
    with tmpfs(folder, "1m"):
        remount(folder, "ro")
        code, first = anyip(hostnode_call, netns)
        assert code != 0 and first["result"] is False
        assert first["comment"].endswith(f"{PERSISTED}: cannot write: Read-only file system")
        assert first["changes"] == {"routes": {"added": FRA1_PREFIXES, "removed": []}}
        assert netns.route_type("198.51.100.7") == "local"
        remount(folder, "rw")
        code, second = anyip(hostnode_call, netns)
        assert code == 0 and list(second["changes"]) == ["file"]
        assert "198.51.100.0/24" in (config_root / PERSISTED).read_text()
        assert anyip(hostnode_call, netns)[1]["changes"] == {}
    ROWS.append(("persisted file's directory read-only (anyip, ifupdown)",
                 "routes live, result False naming the file, re-run writes it, third run no-op",
                 f"False: '...{first['comment'][-50:]}'; changes {first['changes']}; "
                 "re-run wrote the file; third run {}"))  # fmt: skip


def test_a_read_only_sysctl_d_reports_the_sysctls_set_live(netns, hostnode_call, config_root):
    netns.ip("link", "add", "stor-a", "type", "veth", "peer", "name", "stor-b")
    for index, name in enumerate(("stor-a", "stor-b"), start=1):
        netns.ip("link", "set", name, "up")
        netns.ip("addr", "add", f"198.18.0.{index}/24", "dev", name)
    folder = config_root / "etc/sysctl.d"
    with tmpfs(folder, "1m"):
        remount(folder, "ro")
        code, returned = hostnode_call(netns, "state.apply", "storage_net.arpflux")
        (first,) = returned.values()
        assert code != 0 and first["result"] is False
        assert "90-hostnode-arpflux.conf: cannot write: Read-only file system" in first["comment"]
        assert sorted(first["changes"]["sysctl"]) == ["stor-a", "stor-b"]
        assert netns.exec(["sysctl", "-n", "net.ipv4.conf.stor-a.arp_ignore"]).stdout == "1\n"
        remount(folder, "rw")
        (second,) = hostnode_call(netns, "state.apply", "storage_net.arpflux")[1].values()
        assert second["result"] is True and list(second["changes"]) == ["file"]
        (third,) = hostnode_call(netns, "state.apply", "storage_net.arpflux")[1].values()
        assert third["changes"] == {}
    ROWS.append(("persisted file's directory read-only (arpflux, sysctl.d)",
                 "sysctls set live and reported, False naming the file, re-run writes it",
                 f"False: cannot write: Read-only file system; changes: sysctl of "
                 f"{sorted(first['changes']['sysctl'])}; re-run wrote the file; "
                 "third run {}"))  # fmt: skip


def test_a_full_config_root_keeps_the_old_file_whole_and_a_rerun_converges(
    netns, hostnode_call, config_root
):
    with tmpfs(config_root, "256k"):
        ifupdown(config_root)
        assert anyip(hostnode_call, netns, minion_id=AMS1)[0] == 0
        old = (config_root / PERSISTED).read_text()
        filler = config_root / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True,
                       check=False)  # fmt: skip
        code, first = anyip(hostnode_call, netns)
        assert code != 0 and first["result"] is False
        assert f"{PERSISTED}: cannot write: No space left on device" in first["comment"]
        assert first["changes"]["routes"]["added"] == FRA1_PREFIXES
        assert "file" not in first["changes"]
        assert (config_root / PERSISTED).read_text() == old
        assert strays(config_root) == []
        filler.unlink()
        code, second = anyip(hostnode_call, netns)
        assert code == 0 and list(second["changes"]) == ["file"]
        assert anyip(hostnode_call, netns)[1]["changes"] == {}
    ROWS.append(("config root's filesystem full (256k tmpfs, anyip)",
                 "routes changed, old file whole, no temp file, re-run converges",
                 f"False: No space left on device; routes {first['changes']['routes']}; old file "
                 "whole, 0 temp files; re-run wrote the file; third run {}"))  # fmt: skip


def test_ip_batch_failing_halfway_reports_the_route_it_added(netns, hostnode_call, config_root):
    ifupdown(config_root)
    netns.ip("-6", "route", "add", "unreachable", "2001:db8:100::/64", "table", "local")
    code, first = anyip(hostnode_call, netns)
    assert code != 0 and first["result"] is False
    assert "ip -batch - exited" in first["comment"] and "File exists" in first["comment"]
    assert first["changes"] == {"routes": {"added": ["198.51.100.0/24"], "removed": []}}
    assert not (config_root / PERSISTED).exists()  # the boot file waits for the whole batch
    code, again = anyip(hostnode_call, netns)
    assert again["result"] is False and again["changes"] == {}
    netns.ip("-6", "route", "del", "unreachable", "2001:db8:100::/64", "table", "local")
    code, fixed = anyip(hostnode_call, netns)
    assert code == 0
    assert fixed["changes"]["routes"] == {"added": ["2001:db8:100::/64"], "removed": []}
    assert "file" in fixed["changes"]
    assert anyip(hostnode_call, netns)[1]["changes"] == {}
    ROWS.append(("ip -batch failing halfway (2001:db8:100::/64 already unreachable in table "
                 "local)", "first route added and reported, False with ip's error, no boot file; "
                 "converges once the conflict is gone",
                 f"False: '{first['comment'].splitlines()[0]}'; changes {first['changes']}; "
                 "no file; same failure with changes {} while the conflict stays; after "
                 "`ip route del` the v6 route and the file, then {}"))  # fmt: skip


ISCSI_JOB = r"""
set -u
mount --bind "$ETC_ISCSI" /etc/iscsi
portals='[{"portal": "192.0.2.1", "tpgt": 1}, {"portal": "203.0.113.9"}]'
for run in first second; do
  start=$(date +%s.%N)
  "$REPO/bin/hostnode-call" --out=json state.single iscsi.logged_in "$TARGET" \
    portals="$portals" login_timeout=2 login_retries=1 > "$OUT/$run.json"
  echo "$start $(date +%s.%N)" > "$OUT/$run.time"
done
"""


def test_an_unanswering_portal_fails_alone_and_the_other_is_set_up(tmp_path):
    if not shutil.which("iscsiadm") or not shutil.which("unshare"):
        pytest.skip("open-iscsi is not installed (package open-iscsi)")
    etc_iscsi = tmp_path / "etc-iscsi"
    etc_iscsi.mkdir()
    shutil.copy("/etc/iscsi/iscsid.conf", etc_iscsi)
    (etc_iscsi / "initiatorname.iscsi").write_text("InitiatorName=iqn.2026-11.net.example:h\n")
    env = {**os.environ, "ETC_ISCSI": str(etc_iscsi), "OUT": str(tmp_path), "REPO": str(REPO),
           "TARGET": "iqn.2026-11.net.example:san", "HOSTNODE_HOME": str(tmp_path / "salt"),
           "HOSTNODE_VENV": sys.prefix}  # fmt: skip
    subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", ISCSI_JOB],
                   env=env, check=True, timeout=300)  # fmt: skip
    first, second = (
        next(iter(json.loads((tmp_path / f"{run}.json").read_text())["local"].values()))
        for run in ("first", "second")
    )
    assert first["result"] is False
    assert first["comment"].startswith("2 portal(s) failed: 192.0.2.1:3260 via default:")
    assert "203.0.113.9:3260 via default: iscsiadm -m discovery" in first["comment"]
    made = first["changes"]
    assert list(made) == ["192.0.2.1:3260 via default"]
    assert made["192.0.2.1:3260 via default"]["record"] == "created"
    assert second["result"] is False and second["changes"] == {}
    start, end = map(float, (tmp_path / "first.time").read_text().split())
    assert end - start < 60
    ROWS.append(("iSCSI portal not answering (host: no iscsid; 203.0.113.9 needs discovery, "
                 "192.0.2.1 given its tpgt)", "each portal fails alone, named; what was set up "
                 "reported; bounded time; re-run reports nothing new",
                 f"False: 2 portal(s) failed, both named; changes only for 192.0.2.1 (record, "
                 f"settings, chap); {end - start:.1f} s; re-run changes {{}}. Login and "
                 "convergence: guest lane"))  # fmt: skip


# --- Ceph: an OSD daemon killed while ceph_osd.present runs ----------------------------------

HOST = "osdhost.lab.example.net"


@pytest.fixture(scope="module")
def cluster(ceph_lab, tmp_path_factory):
    """Two devices of the session's cluster for this module, its own Salt home and pillar."""
    lab = ceph_lab.lend(2)
    lab.home = tmp_path_factory.mktemp("ceph-salt")
    pillar = lab.home / "pillar"
    pillar.mkdir()
    (pillar / "top.sls").write_text("base:\n  '*':\n    - ceph_osd\n")
    settings = {"hostnode": {"ceph_osd": {"expected_fsid": lab.fsid, "method": "raw",
                                          "hosts": {HOST: {"devices": lab.devices}}}}}  # fmt: skip
    (pillar / "ceph_osd.sls").write_text(json.dumps(settings))
    return lab


def present(cluster):
    env = {"HOSTNODE_HOME": str(cluster.home / "salt"), "HOSTNODE_ID": HOST,
           "HOSTNODE_PILLAR": str(cluster.home / "pillar"),
           "HOSTNODE_VENV": sys.prefix}  # fmt: skip
    done = cluster.run(str(REPO / "bin/hostnode-call"), "--out=json", "state.apply", "ceph_osd",
                       check=False, env=env)  # fmt: skip
    returns = json.loads(done.stdout)["local"]
    return next(v for k, v in returns.items() if "hostnode-ceph-osd-devices" in k)


def osd_daemons(cluster):
    """{pid: OSD id} of the cluster's processes run as ``ceph-osd -i ID`` (not mkfs ones)."""
    found = {}
    for pid in cluster._pids("ceph-osd"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:  # gone since it was listed
            continue
        if argv[1:2] == [b"-i"]:
            found[pid] = int(argv[2])
    return found


def kill_first_new_osd(cluster, running, killed, present_done):
    """
    SIGKILL the daemon of the first OSD whose id is not among running as soon as it runs (while
    present goes on with the next OSD), and every process of that OSD until present_done:
    ``ceph-osd -i ID`` forks its daemon, so its parent killed alone can leave the daemon running.
    (pid, id) pairs in killed.
    """
    deadline = time.monotonic() + 240
    target = None
    while time.monotonic() < deadline and not present_done.is_set():
        for pid, osd_id in osd_daemons(cluster).items():
            if target is None and osd_id not in running:
                target = osd_id
            if osd_id == target:
                with contextlib.suppress(ProcessLookupError):  # gone since it was listed
                    os.kill(pid, 9)
                    killed.append((pid, osd_id))
        time.sleep(0.05)


def test_an_osd_killed_during_present_is_started_by_the_rerun(cluster):
    first_device, second_device = cluster.devices
    killed = []
    running = set(osd_daemons(cluster).values())  # other modules' OSDs, left alone
    present_done = threading.Event()
    killer = threading.Thread(target=kill_first_new_osd,
                              args=(cluster, running, killed, present_done))  # fmt: skip
    killer.start()
    try:
        first = present(cluster)
    finally:
        present_done.set()
        killer.join()
    assert killed, "no new OSD's daemon ever ran"
    (osd_id,) = {osd_id for _, osd_id in killed}
    assert cluster.osd_ids()[first_device] == osd_id
    assert first_device in first["changes"], first  # the whole return when it is not
    made = first["changes"][first_device]
    if first["result"] is False:  # killed while `ceph-osd -i ID` waited for its daemon
        assert first["comment"].startswith(f"ceph-osd -i {osd_id} exited -9")
        assert [argv[:3] for argv in made["commands"]] == [
            ["ceph-volume", "raw", "prepare"], ["ceph-volume", "raw", "activate"]]  # fmt: skip
        assert second_device not in first["changes"]
    else:  # killed once it ran
        assert first["changes"][second_device]["osd_id"] not in running | {osd_id}
    assert not set(osd_daemons(cluster)) & {pid for pid, _ in killed}
    second = present(cluster)
    assert second["result"] is True, second["comment"]
    restart = {"osd_id": osd_id, "commands": [["ceph-osd", "-i", str(osd_id)]]}
    assert second["changes"][first_device] == restart
    made_here = cluster.osd_ids()
    assert sorted(made_here) == sorted(cluster.devices)
    cluster.wait(lambda: cluster.healthy(made_here.values()), 120, "the two new OSDs up")
    third = present(cluster)
    assert third["result"] is True and third["changes"] == {}
    ROWS.append(("Ceph OSD daemon killed during ceph_osd.present (the first new OSD's daemon "
                 "SIGKILLed as soon as it runs; two new OSDs)", "False naming the command, the "
                 "commands that ran reported; the re-run starts the killed OSD (and makes what "
                 "is left); HEALTH_OK, no-op",
                 f"osd.{osd_id} killed; first: {first['result']} '{first['comment'][:40]}', "
                 f"{first_device}: "
                 f"{[a[:3] for a in made['commands']]}; second: True, {first_device} "
                 f"{second['changes'][first_device]['commands']}, {sorted(second['changes'])}; "
                 "HEALTH_OK 2 up/in; third: {}"))  # fmt: skip
