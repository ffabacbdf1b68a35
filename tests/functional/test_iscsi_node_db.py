"""
open-iscsi's real node database on this host, handled by the iscsi module and state through
bin/hostnode-call, inside a private mount namespace whose /etc/iscsi is a temporary directory:
the host's own /etc/iscsi is never touched. iscsid cannot run here (no NETLINK_ISCSI), so the
login itself fails, and so does binding an iface to a NIC (no iSCSI transport in this kernel:
the guest lane shows that); the record, its settings and CHAP are real.
"""

import json
import os
import pathlib
import subprocess

import pytest

from saltext.hostnode.utils import iscsi as hostnode_iscsi
from support import REPO, iscsi_sandbox

TARGET = "iqn.2026-11.net.example:san"
SECRET = "Host-Db-S3cret-7"
JOB = r"""
set -u
mount --bind "$ETC_ISCSI" /etc/iscsi
call() { "$REPO/bin/hostnode-call" --out=json "$@"; }
portal='[{"portal": "192.0.2.1", "tpgt": 1}]'
login() { call state.single iscsi.logged_in "$TARGET" portals="$portal" \
  chap_pillar=hostnode_secrets:iscsi:lab login_timeout=2; }
login > "$OUT/first.json"
login > "$OUT/second.json"
call iscsi.nodes > "$OUT/nodes.json"
call iscsi.ifaces > "$OUT/ifaces.json"
find /etc/iscsi/nodes -type f -exec stat -c '%a %n' {} + > "$OUT/modes.txt"
cat /etc/iscsi/nodes/*/*/* > "$OUT/record.txt"
iscsiadm -m node -T "$TARGET" -p 192.0.2.1 -I default > "$OUT/printed.txt"
call state.single iscsi.logged_out "$TARGET" > "$OUT/logout.json"
call iscsi.nodes > "$OUT/nodes-after.json"
"""


def tree(path):
    return sorted(
        (str(p.relative_to(path)), p.stat().st_mtime_ns) for p in path.rglob("*") if p.is_file()
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    work = tmp_path_factory.mktemp("iscsi-node-db")
    etc_iscsi, out, pillar = iscsi_sandbox(work)
    (pillar / "secrets.sls").write_text(
        f"hostnode_secrets: {{iscsi: {{lab: {{username: lab, password: {SECRET}}}}}}}\n"
    )
    host_before = tree(pathlib.Path("/etc/iscsi"))
    env = {**os.environ, "ETC_ISCSI": str(etc_iscsi), "OUT": str(out), "REPO": str(REPO),
           "TARGET": TARGET, "HOSTNODE_HOME": str(work / "salt"),
           "HOSTNODE_PILLAR": str(pillar)}  # fmt: skip
    subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", JOB],
        env=env, check=True, timeout=600,
    )  # fmt: skip
    assert tree(pathlib.Path("/etc/iscsi")) == host_before, "the host's /etc/iscsi changed"
    return out


def state(results, name):
    (ret,) = json.loads((results / name).read_text())["local"].values()
    return ret


def test_record_settings_and_chap_are_written_and_only_the_login_fails(results):
    first = state(results, "first.json")
    assert first["result"] is False
    assert "192.0.2.1:3260 via default: iscsiadm -m node" in first["comment"]
    made = first["changes"]["192.0.2.1:3260 via default"]
    assert made["record"] == "created" and made["chap"] == "credentials set"
    assert made["settings"]["node.startup"]["new"] == "automatic"
    assert "session" not in made
    second = state(results, "second.json")
    assert second["result"] is False and second["changes"] == {}  # only the login is left


def test_the_record_holds_what_the_state_set(results):
    (record,) = json.loads((results / "nodes.json").read_text())["local"]
    assert record == {"portal": "192.0.2.1:3260", "tpgt": 1, "target": TARGET}
    ifaces = json.loads((results / "ifaces.json").read_text())["local"]
    assert {"name": "default", "transport": "tcp"}.items() <= ifaces[0].items()
    values = hostnode_iscsi.parse_record((results / "record.txt").read_text())
    assert values["node.startup"] == "automatic"
    assert values["node.conn[0].timeo.login_timeout"] == "2"
    assert values["node.session.auth.username"] == "lab"
    assert values["node.session.auth.password"] == SECRET
    assert (results / "modes.txt").read_text().split()[0] == "600"
    printed = hostnode_iscsi.parse_record((results / "printed.txt").read_text())
    assert printed["node.session.auth.password"] == "********"


def test_the_secret_is_in_no_state_return(results):
    for name in ("first.json", "second.json", "logout.json"):
        assert SECRET not in (results / name).read_text()


def test_logged_out_deletes_the_record(results):
    logout = state(results, "logout.json")
    assert logout["result"] is True
    assert logout["changes"] == {"192.0.2.1:3260 via default": {"record": "deleted"}}
    assert json.loads((results / "nodes-after.json").read_text())["local"] == []
