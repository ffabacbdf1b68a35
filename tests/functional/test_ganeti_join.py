"""
A Ganeti join's two gates on a real kernel, with the real tools:

- the replication check: a node namespace and a master namespace joined by a veth pair (the
  node's end named repl0, as the pillar's nic) whose MTU is smaller than the pillar's; the real
  don't-fragment ping refuses the node with ping's reason, and nothing is authorized;
- host key checking: a real sshd in a namespace, reached with the options Ganeti 3.0's
  gnt-node add gives ssh (lib/ssh.py: Ganeti's known_hosts as the global file, the user's
  /dev/null, StrictHostKeyChecking=ask without a terminal), the known_hosts line written by
  hostnode's plan from the key the "mine" holds: the node's own key logs in, another key is
  refused as a changed host key.
"""

import shutil
import subprocess
import time

import pytest

from saltext.hostnode.utils import ganeti as hostnode_ganeti

pytestmark = pytest.mark.netns

MASTER, NODE = "hv1.lab.example.net", "hv2.lab.example.net"
MASTER_SIP, NODE_SIP = "198.51.100.1", "198.51.100.2"


def settings(mtu):
    return {"cluster_name": "ganeti.lab.example.net", "master": MASTER, "nodes": [NODE],
            "vg_name": "xenvg", "replication": {"network": "198.51.100.0/24", "nic": "repl0",
            "mtu": mtu}, "secondary_ips": {MASTER: MASTER_SIP, NODE: NODE_SIP}}  # fmt: skip


@pytest.fixture
def replication_link(netns_factory):
    """(node namespace, master namespace): repl0 <-> repl-peer, MTU 1400 on both ends."""
    if not shutil.which("ping"):
        pytest.skip("ping is not installed (package iputils-ping)")
    node, master = netns_factory(), netns_factory()
    node.ip("link", "add", "repl0", "mtu", "1400", "type", "veth", "peer", "name", "repl-peer",
            "mtu", "1400", "netns", master.name)  # fmt: skip
    for namespace, name, address in ((node, "repl0", NODE_SIP), (master, "repl-peer", MASTER_SIP)):
        namespace.ip("addr", "add", f"{address}/24", "dev", name)
        namespace.ip("link", "set", name, "up")
    return node, master


def test_the_df_ping_refuses_a_path_smaller_than_the_pillars_mtu(
    replication_link, loaders, config_root
):
    node, _master = replication_link
    with node.entered():
        assert loaders.modules.ganeti.replication_check(settings(1400)) == {
            "command": "ping -M do -s 1372 -c 1 -W 1 -I repl0 198.51.100.1", "mtu": 1400,
        }  # fmt: skip
        for test in (True, False):
            ret = loaders.states.ganeti.node_joinable(NODE, settings=settings(9000), test=test)
            assert ret.result is False and ret.changes == {}, ret
            assert ret.comment.startswith(
                "the replication path to the master hv1.lab.example.net (198.51.100.1) does not "
                "carry 9000-byte packets unfragmented (ping -M do -s 8972 -c 1 -W 1 -I repl0 "
                "198.51.100.1: "
            ), ret.comment
            assert "message too long, mtu=1400" in ret.comment
    assert not (config_root / "root/.ssh/authorized_keys").exists()


def keygen(path, kind="ed25519"):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    return (path.parent / f"{path.name}.pub").read_text()


@pytest.fixture
def sshd(netns, tmp_path):
    """A real sshd on 127.0.0.1:22 of a namespace: (namespace, its host key, a client key)."""
    if not (shutil.which("sshd") or shutil.which("/usr/sbin/sshd")) or not shutil.which("ssh"):
        pytest.skip("sshd and ssh are not installed (packages openssh-server, openssh-client)")
    host_key = keygen(tmp_path / "ssh_host_ed25519_key")
    client_key = keygen(tmp_path / "id_ed25519")
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(hostnode_ganeti.authorized_keys(None, [client_key.rsplit(" ", 1)[0]]))
    config = tmp_path / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort 22\nHostKey {tmp_path / 'ssh_host_ed25519_key'}\n"
        f"AuthorizedKeysFile {authorized}\nPidFile {tmp_path / 'sshd.pid'}\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
    )
    subprocess.run(["mkdir", "-p", "-m", "0755", "/run/sshd"], check=True)
    server = subprocess.Popen(["ip", "netns", "exec", netns.name, "/usr/sbin/sshd", "-D", "-e",
                               "-f", str(config)], stderr=subprocess.PIPE, text=True)  # fmt: skip
    for _ in range(50):
        if netns.exec(["ss", "-Hltn", "sport = :22"]).stdout.strip():
            break
        time.sleep(0.1)
    yield netns, host_key, tmp_path / "id_ed25519"
    server.terminate()
    server.wait(timeout=10)


def ganeti_ssh(netns, known_hosts, identity):
    """ssh as gnt-node add runs it (ganeti 3.0.2 lib/ssh.py, ask_key=True, not batch), the node
    name standing for 127.0.0.1 (HostKeyAlias: the name known_hosts is searched for)."""
    argv = ["ssh", "-oEscapeChar=none", "-oHashKnownHosts=no",
            f"-oGlobalKnownHostsFile={known_hosts}", "-oUserKnownHostsFile=/dev/null",
            "-oCheckHostIp=no", "-oConnectTimeout=10", "-oStrictHostKeyChecking=ask", "-4",
            f"-oHostKeyAlias={NODE}", f"-i{identity}", "root@127.0.0.1", "true"]  # fmt: skip
    return netns.exec(argv, check=False, stdin="")


def test_host_key_checking_on_lets_the_mines_key_in_and_refuses_another(sshd, tmp_path):
    netns, host_key, identity = sshd
    known_hosts = tmp_path / "known_hosts"
    cluster_line = "ganeti.lab.example.net ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n"
    for mine_key, logged_in in ((host_key, True), (keygen(tmp_path / "other"), False)):
        keys = {NODE: [hostnode_ganeti.public_key(mine_key, "mine")]}
        known_hosts.write_text(hostnode_ganeti.plan_known_hosts(cluster_line, keys))
        result = ganeti_ssh(netns, known_hosts, identity)
        assert (result.returncode == 0) is logged_in, result.stderr
        if not logged_in:
            assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in result.stderr
            assert "Host key verification failed." in result.stderr
    known_hosts.write_text(cluster_line)  # no line for the node: ask, with no one to answer
    result = ganeti_ssh(netns, known_hosts, identity)
    assert result.returncode != 0 and "Host key verification failed." in result.stderr
