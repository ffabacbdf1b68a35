"""
CHAP secrets (pillar ``hostnode_secrets``, pillar.example/secrets/ams1.sls) while the iscsi
states run for real through bin/hostnode-call at trace level: test=True, a run that writes the
node record (open-iscsi's node database in a private mount namespace; the login itself fails,
iscsid cannot run here), a second run and the logout. Every ~10 ms a sampler reads the argv and
environment of every process; the secrets must be in none of them, in no log line (console and
log file, trace level), in no state return, and only in files nobody but root can read.
"""

import json
import os
import pathlib
import stat
import subprocess
import sys
import threading
import time

import pytest

from support import REPO, iscsi_sandbox

TARGET = "iqn.2026-11.net.example:san"
SECRETS = {"password": "Out-S3cret-91", "password_in": "In-S3cret-37"}
JOB = r"""
set -u
mount --bind "$ETC_ISCSI" /etc/iscsi
call() {
  "$REPO/bin/hostnode-call" --out=json -l trace --log-file="$OUT/minion.log" \
    --log-file-level=trace "$@"
}
login() {
  call state.single iscsi.logged_in "$TARGET" portals='[{"portal": "192.0.2.1", "tpgt": 1}]' \
    chap_pillar=hostnode_secrets:iscsi:lab login_timeout=2 "$@"
}
login test=True > "$OUT/predicted.json" 2> "$OUT/predicted.err"
login > "$OUT/first.json" 2> "$OUT/first.err"
login > "$OUT/second.json" 2> "$OUT/second.err"
cp -a /etc/iscsi/. "$OUT/etc-iscsi-seen"
call state.single iscsi.logged_out "$TARGET" > "$OUT/logout.json" 2> "$OUT/logout.err"
"""


def sample(stop, seen):
    """Every process's argv and environment, every ~10 ms, until stop is set."""
    while not stop.is_set():
        for entry in pathlib.Path("/proc").iterdir():
            if entry.name.isdigit():
                for name in ("cmdline", "environ"):
                    try:
                        seen.add((name, (entry / name).read_bytes()))
                    except OSError:
                        continue
        seen.add(("sample", str(time.monotonic()).encode()))
        time.sleep(0.01)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("secrets")
    etc_iscsi, out, pillar = iscsi_sandbox(work)
    lab = {"username": "lab", "password": SECRETS["password"], "username_in": "tgt",
           "password_in": SECRETS["password_in"]}  # fmt: skip
    (pillar / "secrets.sls").write_text(json.dumps({"hostnode_secrets": {"iscsi": {"lab": lab}}}))
    env = {**os.environ, "ETC_ISCSI": str(etc_iscsi), "OUT": str(out), "REPO": str(REPO),
           "TARGET": TARGET, "HOSTNODE_HOME": str(work / "salt"), "HOSTNODE_PILLAR": str(pillar),
           "HOSTNODE_VENV": sys.prefix}  # fmt: skip
    stop, seen = threading.Event(), set()
    sampler = threading.Thread(target=sample, args=(stop, seen))
    sampler.start()
    try:
        subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", JOB],
                       env=env, check=True, timeout=600)  # fmt: skip
    finally:
        stop.set()
        sampler.join()
    return {"out": out, "home": work / "salt", "seen": seen}


def found_in(data):
    return sorted(name for name, secret in SECRETS.items() if secret.encode() in data)


def test_the_sampler_saw_the_run(run):
    argvs = [data for kind, data in run["seen"] if kind == "cmdline"]
    assert any(b"iscsiadm" in argv for argv in argvs)
    assert any(b"salt-call" in argv for argv in argvs)
    assert sum(1 for kind, _ in run["seen"] if kind == "sample") > 50


def test_no_secret_in_any_argv_or_environment(run):
    leaked = [(kind, data[:200]) for kind, data in run["seen"] if found_in(data)]
    assert leaked == []


def test_no_secret_in_the_trace_log(run):
    log = run["out"] / "minion.log"
    assert "[TRACE   ]" in log.read_text()
    for path in [log, *run["out"].glob("*.err")]:
        assert found_in(path.read_bytes()) == [], path.name


def test_no_secret_in_any_return_and_the_record_got_them(run):
    predicted, first = (
        next(iter(json.loads((run["out"] / f"{name}.json").read_text())["local"].values()))
        for name in ("predicted", "first")
    )
    assert predicted["result"] is None
    assert predicted["changes"]["192.0.2.1:3260 via default"]["chap"] == "credentials set"
    assert first["changes"]["192.0.2.1:3260 via default"]["chap"] == "credentials set"
    for path in run["out"].glob("*.json"):
        assert found_in(path.read_bytes()) == [], path.name


def test_files_holding_a_secret_are_readable_by_root_only(run):
    holders = []
    for root in (run["out"] / "etc-iscsi-seen", run["home"]):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and found_in(path.read_bytes()):
                holders.append(path)
                assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
                assert path.stat().st_uid == 0
    assert [p.name for p in holders] == ["default"]  # the node record, nothing else
    assert found_in(holders[0].read_bytes()) == ["password", "password_in"]
