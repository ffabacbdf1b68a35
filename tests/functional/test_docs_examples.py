"""
Every CLI example in the code blocks of docs/*.md (``salt <target> ...``, ``salt-call ...``,
``bin/hostnode-call ...``, ``salt-run ...``) either runs here and succeeds, or is listed in
NOT_HERE with the reason it cannot. An example runs through the functional loaders (loaded once,
as minion hv1.ams1.example.net with the hypervisor role and pillar.example): its arguments are
parsed as Salt's CLI parses them, a saved output named in the docs (``source=/tmp/bundle/...``,
or another argument naming one) is replaced by the captured fixture of that tool (without the
line naming its source), and it fails when the call raises or a state returns False. Examples
that would change this machine run only with ``test=True``.
"""

import pathlib
import re
import shlex

import pytest
import salt.minion
import salt.utils.args
from saltfactories.utils.functional import Loaders

from support import FIXTURES, REPO, fleet_minion_root, minion_overrides

DOCS = REPO / "docs"
COMMAND = re.compile(r"^(salt-call|salt-run|salt|bin/hostnode-call)\s")
COMMENT = re.compile(r"\s+#(\s.*)?$")

# The saved outputs the docs name, and the captured fixture that stands for each.
SOURCES = {
    "/tmp/bundle/local.json": "ip/local-routes-anyip.json",
    "/tmp/bundle/sysctl.txt": "sysctl/net-ipv4-conf.txt",
    "/tmp/bundle/bond0": "bonding/active-backup-eth0-first.txt",
    "/tmp/bundle/raw-list.json": "ceph-volume/raw-list-three.json",
    "/tmp/bundle/discovery.txt": "iscsiadm/discovery-sendtargets-two-portals.txt",
    "/tmp/bundle/iscsiadm-session-P3.txt": "iscsiadm/session-P3.txt",
    "/tmp/bundle/multipath-ll.txt": "multipath/ll-healthy.txt",
    "/tmp/bundle/user_beancounters": "beancounters/forum-ct70160-failcnt.txt",
    "/tmp/gnt-cluster-info.txt": "ganeti/cluster-info-one-node.txt",
    "/tmp/bundle/gnt-group-list.txt": "ganeti/group-list-one-node.txt",
    "/tmp/bundle/gnt-node-list-groups.txt": "ganeti/node-groups-one-node.txt",
    "/tmp/bundle/ethtool-k.txt": "ethtool/k-veth-fresh.txt",
    "/tmp/bundle/verify-disks.txt": "ganeti/verify-disks-missing-volumes-3.0.txt",
    "/tmp/bundle/ceph-health.json": "ceph/health-noout.json",
    "/tmp/bundle/ok-to-stop.json": "ceph/ok-to-stop-0-min-size-2.json",
}

CHANGES = "changes the node (no test=True)"
NO_BOND = "needs bond0, which this machine does not have (tests/vm runs bonds in the guest)"
NO_CEPH = "needs a Ceph cluster or its devices (tests/functional/test_ceph_osd.py has the lab)"
NO_OPENVZ = "needs an OpenVZ kernel (/proc/user_beancounters); the source= example runs"
NO_GANETI = "needs Ganeti's gnt-* tools and a cluster; the source= example runs"
FLEET = "a master's command for the fleet (tests/integration runs it on a real master)"
NO_SAN = "needs the SAN NICs eth1/eth2 or a reachable portal"
NOT_HERE = {
    "salt '*' anyip.add 192.0.2.0/24,2001:db8:100::/64": CHANGES,
    "salt '*' anyip.remove 192.0.2.0/24": CHANGES,
    "salt '*' arpflux.status interfaces=eth1,eth2": NO_SAN,
    "salt '*' arpflux.tune interfaces=eth1,eth2 values='{rp_filter: 0}'": CHANGES,
    "salt '*' bond.info bond0": NO_BOND,
    "salt '*' bond.pin_mac bond0 mac=first-slave slaves=eth0,eth1 test=True": NO_BOND,
    "salt '*' bond.pin_mac bond0 mac=02:00:5e:10:00:01 backend=netplan": CHANGES,
    "salt '*' bond.unpin bond0": CHANGES,
    "salt '*' bond.health bond0": NO_BOND,
    "salt '*' bond.write_metrics /var/lib/prometheus/node-exporter/hostnode_bond.prom": NO_BOND,
    "salt -G 'hostnode_bonds:bond0:pinned:False' state.apply bonding": CHANGES,
    "salt 'stor*' ceph_osd.tree": NO_CEPH,
    "salt 'stor*' ceph_osd.check_device /dev/sdc": NO_CEPH,
    "salt 'stor*' ceph_osd.create /dev/sdc test=True": NO_CEPH,
    "salt 'stor*' ceph_osd.create /dev/sdc method=lvm db_device=/dev/nvme0n1p1 "
    "device_class=hdd": CHANGES,
    "salt 'stor*' ceph_osd.provision '[/dev/sdc, /dev/sdd]' test=True": NO_CEPH,
    "salt 'stor1*' ceph_osd.remove 3 test=True": NO_CEPH,
    "salt 'stor1*' ceph_osd.remove 3 zap=True": CHANGES,
    "salt 'stor1*' ceph_osd.retire '[3, 4]' test=True": NO_CEPH,
    "salt 'stor1*' ceph_osd.purge_host stor1 test=True": NO_CEPH,
    "salt 'stor*' ceph_osd.zap /dev/sdc test=True": NO_CEPH,
    "salt 'fs*' cephfs.rstats /mnt/cephfs/projects": "needs a mounted CephFS",
    "salt '*' saltutil.sync_all": FLEET,
    "salt-run fileserver.update": FLEET,
    'salt-run state.orchestrate node.maintenance pillar=\'{"hostnode_maintenance": '
    '{"targets": ["hv2.ams1.example.net", "stor1.ams1.example.net"]}}\' test=True': FLEET,
    'salt-run state.orchestrate node.maintenance pillar=\'{"hostnode_maintenance": '
    '{"targets": ["hv2.ams1.example.net", "stor1.ams1.example.net"], '
    '"reboot": true}}\'': FLEET,
    "salt '*' iscsi.discover 192.0.2.10": NO_SAN,
    "salt '*' iscsi.discover '[2001:db8::10]:3260'": NO_SAN,
    "salt '*' iscsi.iface_bind ieth1 eth1": CHANGES,
    "salt '*' iscsi.login iqn.2026-11.net.example:san "
    "'[{portal: 192.0.2.1, iface: ieth-a, netdev: stor-a}]' "
    "chap_pillar=hostnode_secrets:iscsi:san": CHANGES,
    "salt 'hv1*' state.highstate test=True": "predicts failures here: no bond0, and beacon "
    "states need a running minion (tests/integration/test_fleet.py runs it on every minion)",
    "salt 'hv1*' state.highstate": CHANGES,
    "salt 'hv1*' ganeti.nodes": NO_GANETI,
    "salt 'hv1*' ganeti.groups": NO_GANETI,
    "salt 'hv1*' ganeti.group_members": NO_GANETI,
    "salt 'hv1*' ganeti.init_cluster name=ganeti.ams1.example.net test=True": "needs the "
    "cluster's CPUs in a master's Salt mine (tests/integration/test_orchestrate.py runs the init "
    "on a real master)",
    "salt 'hv1*' ganeti.cluster_info": NO_GANETI,
    "salt 'hv1*' ganeti.add_node test=True": "needs the nodes' host keys in a master's Salt mine "
    "(tests/integration/test_orchestrate.py runs it on a real master)",
    "salt 'hv1*' ganeti.common_cpu_model": "needs a master's mine (tests/unit/test_cpu.py "
    "stands in for mine.get)",
    "salt-call ganeti.common_cpu_model sources='[/tmp/hv1.cpuinfo, /tmp/hv2.cpuinfo]'": "the "
    "reader's saved files; tests/unit/test_cpu.py runs it on tests/fixtures/cpuinfo",
    "salt 'hv1*' node.hosts '{hv1.ams1.example.net: 10.1.0.11, "
    "ganeti.ams1.example.net: 10.1.0.10}'": CHANGES,
    "salt '*' node.kernel_modules '{drbd: {options: {minor_count: 255, "
    "usermode_helper: /bin/true}}}'": CHANGES,
    "salt 'hv*' node_lvm.volume_group_check xenvg '[/dev/sdb]'": "needs the disk /dev/sdb",
    "salt 'hv*' node_lvm.volume_group xenvg '[/dev/sdb, /dev/sdc]' test=True": "needs the disks",
    "salt 'hv*' bridges.converge bond0 '[100, 200]' test=True": NO_BOND,
    "salt 'hv*' bridges.converge bond0 '[100]' offloads='{gro: false, gso: false, tso: false}' "
    "test=True": NO_BOND,
    "salt 'hv*' bridges.offloads bond0.100": NO_BOND,
    "salt 'hv2*' bridges.replication eth1 10.99.0.12/24 mtu=9000 test=True": "needs the "
    "replication NIC eth1 (tests/functional/test_replication_netns.py runs it on a veth)",
    "salt -G 'hostnode_openvz:role:hardware_node' beancounters.read": NO_OPENVZ,
    "salt '*' beancounters.failures": NO_OPENVZ,
    "salt '*' beancounters.delta": NO_OPENVZ,
    "salt '*' beancounters.delta name=nightly-report": NO_OPENVZ,
    "salt '*' beancounters.near_limit threshold=0.8": NO_OPENVZ,
    "salt '*' beancounters.events": NO_OPENVZ,
    "salt '*' beancounters.write_metrics "
    "/var/lib/prometheus/node-exporter/hostnode_beancounters.prom": NO_OPENVZ,
    "salt '*' beancounters.set_limits 101 '{tcpsndbuf: \"1720320:2703360\", numproc: 400}' "
    "test=True": "needs OpenVZ's vzctl and containers",
}


def examples():
    """(where, command) of every CLI example in a code block of docs/*.md, comments dropped
    and continuation lines joined."""
    found = []
    for path in sorted(DOCS.glob("*.md")):
        block, pending = False, ""
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.startswith("```"):
                block = not block
                continue
            if not block or not (pending or COMMAND.match(line.strip())):
                continue
            pending += line.strip()
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            found.append((f"{path.name}:{number}", " ".join(COMMENT.sub("", pending).split())))
            pending = ""
    return found


EXAMPLES = examples()


@pytest.fixture(scope="module")
def minion(salt_factories, tmp_path_factory):
    """The loaders of a hypervisor of ams1 (loaded once), with a config root of its own."""
    minion_id = "hv1.ams1.example.net"
    root = fleet_minion_root(tmp_path_factory.mktemp("docs-examples"), minion_id)
    overrides = {**minion_overrides(root), "grains": {"roles": ["hypervisor"]}}
    overrides["file_roots"] = {"base": [str(REPO / "formulas"), str(REPO / "formulas/top")]}
    factory = salt_factories.salt_minion_daemon(minion_id, overrides=overrides)
    return Loaders(factory.config.copy())


def _saved_output(argument, folder):
    """argument, with a saved output the docs name replaced by a copy of its fixture (without
    the fixture's first line when that line names its source)."""
    key, _, value = argument.partition("=")
    if key != "source" and value not in SOURCES:
        return argument
    text = (FIXTURES / SOURCES[value]).read_text()
    copy = folder / pathlib.Path(SOURCES[value]).name
    copy.write_text(text.split("\n", 1)[1] if text.startswith("# ") else text)
    return f"{key}={copy}"


def call(loaders, argv, folder):
    """(function, result) of one CLI example, run as the minion would, Salt's CLI parsing
    included; saved outputs are copied to folder."""
    program, *argv = [word for word in argv if not word.startswith("-")]
    if program == "salt":
        argv = argv[1:]  # the target
    fun, *arguments = argv
    arguments = [_saved_output(a, folder) for a in arguments]
    function = loaders.modules[fun]
    args, kwargs = salt.minion.load_args_and_kwargs(
        function, salt.utils.args.parse_input(arguments)
    )
    return fun, function(*args, **kwargs)


@pytest.mark.parametrize(("where", "command"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_docs_example_runs(minion, where, command, tmp_path):
    if command in NOT_HERE:
        pytest.skip(f"{where}: {NOT_HERE[command]}")
    fun, result = call(minion, shlex.split(command), tmp_path)
    if fun.startswith("state."):
        states = result.raw
        assert isinstance(states, dict), f"{where}: {command}: {states}"
        failed = {key: s["comment"] for key, s in states.items() if s["result"] is False}
        assert not failed, f"{where}: {command}: {failed}"


def test_every_example_listed_as_not_running_here_is_in_the_docs():
    assert not set(NOT_HERE) - {command for _, command in EXAMPLES}
