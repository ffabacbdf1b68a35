"""
The two-node cluster lane: a real salt-master on this machine (loopback only) and two guests
booted at once, each running a salt-minion daemon (jobs/cluster-node.sh). The guests reach the
master through qemu's user network restricted to the master's two ports; a private segment
between them (qemu ``dgram`` netdevs on 127.0.0.1) carries the node network (eth0) and the
replication network (eth1). The master runs the reactor docs/node-bootstrap.md documents, with
pre-seeded minion keys.

One scenario, one boot of each guest (the ``lane`` fixture runs it and keeps what it saw; each
test reads one part of it):

- node A's minion starts: the reactor orchestrates its highstate and initialises the cluster;
- node B's minion starts later, and without any command from here B becomes a member (read
  from A's own ``gnt-node list``); the time from B's minion start to its orchestration's end
  is measured;
- B's minion restarts: the reactor runs again and changes nothing;
- a DRBD instance across A and B (made here, not by the product) syncs, fails over, starts and
  live-migrates;
- ganeti.health, its textfile and the ganeti_health beacon while healthy, while B's
  replication link is down (node.maintenance of B is then refused by its gates before anything
  moves), and after it is back;
- node.maintenance of B with the instance primary on B: drained, migrated to A, a payload that
  restarts B's Ganeti and minion, and back healthy.
"""

import dataclasses
import json
import pathlib
import shutil
import socket
import subprocess
import time

import guest
import pytest
import yaml

from saltext.hostnode.utils import drbd as hostnode_drbd
from saltext.hostnode.utils import ethtool as hostnode_ethtool
from saltext.hostnode.utils import ganeti as hostnode_ganeti
from support import REPO, documented_reactor, master_file_roots

pytestmark = [pytest.mark.vm, pytest.mark.slow, pytest.mark.integration]

DOMAIN = "guest.example.net"
NODE_A, NODE_B = f"nodea.{DOMAIN}", f"nodeb.{DOMAIN}"
PRIMARY = {NODE_A: "192.168.50.11", NODE_B: "192.168.50.12"}
SECONDARY = {NODE_A: "10.99.0.11", NODE_B: "10.99.0.12"}
MACS = {NODE_A: "52:54:00:12:35:0{}", NODE_B: "52:54:00:12:36:0{}"}
INSTANCE = f"inst1.{DOMAIN}"
# The test instance: no OS install, no NIC, qemu under emulation inside the guest (kvm_flag
# disabled; the kvm wrapper would ask for /dev/kvm, which an emulated guest has not). It is
# smaller than Ganeti's default instance policy allows (1 GiB disks, 128 MiB, one NIC), so its
# commands ignore the policy: a small disk syncs in seconds under emulation.
INSTANCE_ADD = (
    f"gnt-instance add -t drbd -s 128M -n {NODE_A}:{NODE_B} -o noop --no-install "
    "--no-name-check --no-ip-check --no-nics --ignore-ipolicy -B memory=64M "
    f"-H kvm:kvm_flag=disabled,kvm_path=/usr/bin/qemu-system-x86_64 {INSTANCE}"
)
MIGRATE = f"gnt-instance migrate -f --ignore-ipolicy {INSTANCE}"
# Ganeti's recovery of a migration cut short (gnt-instance(8), MIGRATE: --cleanup).
MIGRATE_CLEANUP = f"gnt-instance migrate -f --cleanup {INSTANCE}"
INSTANCE_LIST = (
    f"gnt-instance list --no-headers --separator='|' -o name,pnode,snodes,status {INSTANCE}"
)
NODE_LIST = "gnt-node list --no-headers --separator='|' -o name,pip,sip,group,master_candidate"
BEACON = "salt/beacon/{}/ganeti_health/{}"
# How Ganeti's RPC client (pycurl) reports a node daemon that did not answer within 5 s.
RPC_CONNECT_TIMEOUT = "SSL connection timeout"
TEXTFILE = "/run/hostnode_ganeti.prom"
VERIFY_DISKS_SAVED = "/run/hostnode-verify-disks.txt"
DRBD_DEVICE = "/dev/drbd0"
# /proc/drbd as soon as a resync shows (10 s at most), and until both sides are UpToDate.
SYNCING_SNAPSHOT = (
    "for i in $(seq 100); do grep -q 'sync.ed:' /proc/drbd && { cat /proc/drbd; break; }; "
    "sleep 0.1; done"
)
UNTIL_UPTODATE = (
    "for i in $(seq 600); do grep -q 'ds:UpToDate/UpToDate' /proc/drbd && exit 0; sleep 1; "
    "done; cat /proc/drbd; exit 1"
)
DRAINED = "gnt-node list --no-headers --separator='|' -o name,drained,pinst_cnt,sinst_cnt"
# node.maintenance's payload in the lane: the guest cannot reboot into the scenario again, so
# B restarts Ganeti's daemons and (through its job, jobs/cluster-node.sh) its minion, 10 s
# after the function returns, as docs/maintenance.md says of wait_start.
RESTART_PAYLOAD = {
    "function": "cmd.run_bg",
    "arg": ["sleep 10; /etc/init.d/ganeti restart; touch /results/restart"],
    "kwarg": {"python_shell": True},
}
# The bridge port's offloads (hostnode:node:bridges:offloads) and the DRBD resync rate pillar
# gives at the init, then after an edit on the master (gnt-cluster modify of a running cluster).
OFFLOADS_OFF = {"gro": False, "gso": False, "tso": False}
RESYNC_RATE, RESYNC_RATE_EDITED = 40960, 61440
INIT = (
    "gnt-cluster init --no-etc-hosts --master-netdev=br0100 --enabled-hypervisors=kvm "
    "--enabled-disk-templates=plain,drbd --vg-name=xenvg --drbd-usermode-helper=/bin/true "
    f"--nic-parameters=link=br0100 --secondary-ip={SECONDARY[NODE_A]} "
    "--hypervisor-parameters=kvm:cpu_type={model},initrd_path=,kernel_path= "
    f"--disk-parameters=drbd:c-max-rate=102400,resync-rate={RESYNC_RATE} ganeti.{DOMAIN}"
)
# B's bridge port, deleted and brought back by ifup from its persisted stanza alone (a simulated
# reboot of the port: ifupdown makes the VLAN, the ethtool package's if-up.d hook applies the
# stanza's offload-* options).
PORT = "eth0.100"
PORT_FROM_STANZA = (
    f"ip link del {PORT}; ifup -i /etc/network/interfaces.d/hostnode-bridge-eth0 {PORT} 2>&1; "
    'echo "ifup exit $?"'
)
BRIDGE_NF = ("sysctl net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables "
             "net.bridge.bridge-nf-call-arptables")  # fmt: skip
# The orchestration steps that apply states (the others call mine.update).
STATE_STEPS = ("hostnode-orchestrate-highstate", "hostnode-orchestrate-init",
               "hostnode-orchestrate-join", "hostnode-orchestrate-ganeti")  # fmt: skip


def lane_pillar(resync_rate=RESYNC_RATE):
    hosts = {**PRIMARY, f"ganeti.{DOMAIN}": "192.168.50.10"}
    return {
        "mine_functions": {
            "ganeti.ssh_keys": [],
            "hostnode_cpu": [{"mine_function": "grains.get"}, "hostnode_cpu"],
        },
        "beacons": {"ganeti_health": [{"interval": 5}]},
        "hostnode": {"node": {
            "hosts": hosts,
            "kernel_modules": {"drbd": {"options": {"minor_count": 128,
                                                    "usermode_helper": "/bin/true"}}},
            "bridges": {"bond": "eth0", "vlans": [100], "offloads": OFFLOADS_OFF},
            "lvm": {"vg": "xenvg", "devices": ["/dev/vdb"]},
            "role_formulas": {"hypervisor": ["node.bridges", "node.replication", "node.lvm",
                                              "node.ganeti"]},
            "ganeti": {
                "install": False,
                "cluster_name": f"ganeti.{DOMAIN}",
                "master": NODE_A,
                "nodes": [NODE_B],
                "master_netdev": "br0100",
                "enabled_hypervisors": ["kvm"],
                "enabled_disk_templates": ["plain", "drbd"],
                "vg_name": "xenvg",
                "drbd_usermode_helper": "/bin/true",
                "nic_link": "br0100",
                "replication": {"network": "10.99.0.0/24", "nic": "eth1", "mtu": 9000},
                "secondary_ips": SECONDARY,
                "disk_parameters": {"drbd": {"resync-rate": resync_rate, "c-max-rate": 102400}},
                # verify-disks takes about a minute on these emulated nodes of a loaded machine.
                "verify_disks_timeout": 300,
                "groups": ["rack1"],
                "node_groups": {NODE_A: "rack1", NODE_B: "rack1"},
            },
        }},
    }  # fmt: skip


def nics(node, ports, segment_ports):
    """eth0/eth1 on the private segment (dgram pairs), eth2 to the master's two ports only."""
    mine, peer = segment_ports[node], segment_ports[NODE_B if node == NODE_A else NODE_A]
    segment = [
        (f"dgram,id={name},local.type=inet,local.host=127.0.0.1,local.port={mine[i]},"
         f"remote.type=inet,remote.host=127.0.0.1,remote.port={peer[i]}", MACS[node].format(i + 1))
        for i, name in enumerate(("node", "repl"))
    ]  # fmt: skip
    # A command per guest connection (a tcp: chardev would be one connection, opened at start).
    forwards = ",".join(f"guestfwd=tcp:10.0.2.100:{p}-cmd:socat - TCP:127.0.0.1:{p}" for p in ports)
    user = (f"user,id=master,restrict=on,net=10.0.2.0/24,{forwards}", MACS[node].format(3))
    return [*segment, user]


@dataclasses.dataclass
class Lane:
    """What the scenario saw: outputs by name, timings in seconds, and the step it stopped at."""

    results: pathlib.Path
    outputs: dict = dataclasses.field(default_factory=dict)
    timings: dict = dataclasses.field(default_factory=dict)
    retries: list = dataclasses.field(default_factory=list)
    failed: str = ""

    def output(self, name):
        if name not in self.outputs:
            pytest.fail(f"the lane did not get to {name!r}: {self.failed or 'no failure recorded'}")
        return self.outputs[name]


class Scenario:
    """The lane's steps in order; the first that fails ends it, named in lane.failed."""

    def __init__(self, master, events, lane, boots, pillar_file):
        self.master, self.events, self.lane, self.boots = master, events, lane, boots
        self.pillar_file = pillar_file
        self.cli = master.salt_cli(timeout=900)
        self.run_cli = master.salt_run_cli(timeout=3600)

    def run(self):
        steps = (self.cluster_on_a, self.b_joins, self.parameters_edited_in_pillar,
                 self.b_restarts, self.b_port_from_its_stanza, self.drbd_instance,
                 self.health_while_healthy, self.b_disconnected, self.b_reconnected,
                 self.maintenance_of_b)  # fmt: skip
        for step in steps:
            try:
                step()
            except AssertionError as error:
                self.lane.failed = f"{step.__name__}: {error}"
                return

    # --- plumbing ---------------------------------------------------------------------------

    def salt(self, node, fun, *args, timeout=900):
        ran = self.cli.run(f"--timeout={timeout}", fun, *args, minion_tgt=node)
        # cmd.run_all returns a command's failure as data (the CLI then exits non-zero too).
        if ran.data is None or (ran.returncode != 0 and fun != "cmd.run_all"):
            raise AssertionError(f"salt {node} {fun} {args}: {ran.stderr or ran.stdout}")
        return ran.data

    def shell(self, node, command, name=None, timeout=900, check=True):
        """Run command on node through the master; keep its output as name (a file too)."""
        data = self.salt(node, "cmd.run_all", command, "python_shell=True", timeout=timeout)
        if name:
            self.keep(name, data["stdout"])
        if check and data["retcode"] != 0:
            raise AssertionError(f"{command} on {node} exited {data['retcode']}: "
                                 f"{data['stdout'][-2000:]}\n{data['stderr'][-2000:]}")  # fmt: skip
        return data

    def ganeti(self, command, name=None, check=True, before_retry=None):
        """A Ganeti command of the lane's own (not the product's) on A, run once more if its
        first run failed on Ganeti's RPC connect timeout: 5 s for the TCP connect and the TLS
        handshake with a node daemon (Constants.hs rpcConnectTimeout), short for an emulated
        guest on a loaded machine. before_retry, a Ganeti command, runs first (a migration cut
        short leaves its disks standalone). Each retry is kept in lane.retries."""
        data = self.shell(NODE_A, command, name, check=False)
        if data["retcode"] != 0 and RPC_CONNECT_TIMEOUT in data["stdout"] + data["stderr"]:
            self.lane.retries.append(command)
            time.sleep(10)
            if before_retry:
                self.ganeti(before_retry)
            data = self.shell(NODE_A, command, name, check=False)
        if check and data["retcode"] != 0:
            raise AssertionError(f"{command} on {NODE_A} exited {data['retcode']}: "
                                 f"{data['stdout'][-2000:]}\n{data['stderr'][-2000:]}")  # fmt: skip
        return data

    def keep(self, name, value):
        self.lane.outputs[name] = value
        text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
        (self.lane.results / f"{name}.txt").write_text(text + "\n")

    def wait_event(self, tag, after, timeout, accept=lambda event: True):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [e for e in self.events.get_events([(self.master.id, tag)], after_time=after)
                     if accept(e)]  # fmt: skip
            if found:
                return found[0]
            time.sleep(2)
        raise AssertionError(f"no event {tag} within {timeout} s")

    def orchestration_of(self, node, after, timeout=1800):
        def for_node(event):
            return (event.data.get("fun") == "runner.state.orchestrate"
                    and node in json.dumps(event.data.get("fun_args")))  # fmt: skip

        return self.wait_event("salt/run/*/ret", after, timeout, for_node)

    def signal(self, node, name):
        (self.boots[node].results / name).write_text("")

    def started_and_orchestrated(self, node, name):
        after = time.time()
        self.signal(node, name)
        start = self.wait_event(f"salt/minion/{node}/start", after, 900)
        done = self.orchestration_of(node, start.stamp.timestamp())
        steps = steps_of(done)
        self.keep(f"orchestration-{name}-{node.split('.')[0]}", steps)
        failed = {i: s["changes"] or s["comment"] for i, s in steps.items() if not s["result"]}
        if failed:
            raise AssertionError(f"{node}'s orchestration failed: {json.dumps(failed)[:3000]}")
        return (done.stamp - start.stamp).total_seconds()

    # --- steps ------------------------------------------------------------------------------

    def cluster_on_a(self):
        self.lane.timings["a_init"] = self.started_and_orchestrated(NODE_A, "go")
        self.shell(NODE_A, "gnt-cluster info", "cluster-info-a")
        self.shell(NODE_A, "hostname; head -n 5 /etc/hosts", "names-a")
        self.shell(NODE_A, "cat /var/lib/ganeti/ssconf_hvparams_kvm", "ssconf-hvparams-kvm-a")

    def b_joins(self):
        self.lane.timings["b_join"] = self.started_and_orchestrated(NODE_B, "go")
        self.shell(NODE_A, NODE_LIST, "node-list-two-nodes")
        self.shell(NODE_A, "gnt-cluster verify", "verify-two-nodes", check=False)

    def parameters_edited_in_pillar(self):
        """An operator's edit of a running cluster: pillar on the master, test=True, the run."""
        # The model both nodes' CPUs make (the mine holds B's from its join on).
        self.keep("cpu-model", self.salt(NODE_A, "ganeti.common_cpu_model"))
        self.pillar_file.write_text(yaml.safe_dump(lane_pillar(RESYNC_RATE_EDITED)))
        for name, test in (("parameters-test", "test=True"), ("parameters-apply", "test=False")):
            self.keep(name, self.salt(NODE_A, "state.apply", "node.ganeti_cluster", test))
        self.shell(NODE_A, "gnt-cluster info", "cluster-info-edited")
        self.shell(NODE_A, "cat /var/lib/ganeti/ssconf_node_list", "ssconf-node-list")

    def b_restarts(self):
        self.lane.timings["b_again"] = self.started_and_orchestrated(NODE_B, "restart")

    def b_port_from_its_stanza(self):
        self.shell(NODE_B, f"ethtool -k {PORT}", "ethtool-k-port")
        self.shell(NODE_B, BRIDGE_NF, "bridge-nf")
        self.shell(NODE_B, "cat /etc/network/interfaces.d/hostnode-bridge-eth0", "port-stanza")
        self.shell(NODE_B, PORT_FROM_STANZA, "ifup-port")
        self.shell(NODE_B, f"ethtool -k {PORT}", "ethtool-k-port-after-ifup")

    def drbd_instance(self):
        self.ganeti(INSTANCE_ADD, "instance-add")
        for node in (NODE_A, NODE_B):
            self.shell(node, "cat /proc/drbd", f"proc-drbd-connected-{node.split('.')[0]}")
        self.shell(NODE_A, INSTANCE_LIST, "instance-list-added")
        self.ganeti(f"gnt-instance failover -f --ignore-ipolicy {INSTANCE}", "instance-failover")
        self.shell(NODE_A, INSTANCE_LIST, "instance-list-failed-over")
        self.ganeti(f"gnt-instance startup {INSTANCE}", "instance-startup")
        self.shell(NODE_A, INSTANCE_LIST, "instance-list-started")
        migrated = self.ganeti(MIGRATE, check=False, before_retry=MIGRATE_CLEANUP)
        self.keep("instance-migrate", migrated["stdout"] + migrated["stderr"])
        self.keep("instance-migrate-exit", str(migrated["retcode"]))
        self.shell(NODE_A, INSTANCE_LIST, "instance-list-migrated")

    def health(self, state):
        """One look: verify-disks runs once on A (half a minute on these nodes), and A's health
        and textfile judge that capture (verify_disks=); the maintenance gates run their own."""
        self.shell(NODE_A, f"gnt-cluster verify-disks > {VERIFY_DISKS_SAVED} 2>&1; "
                   f"cat {VERIFY_DISKS_SAVED}", f"verify-disks-{state}", check=False)  # fmt: skip
        for node in (NODE_A, NODE_B):
            short = node.split(".")[0]
            saved = [f"verify_disks={VERIFY_DISKS_SAVED}"] if node == NODE_A else []
            self.shell(node, "cat /proc/drbd", f"proc-drbd-{state}-{short}")
            self.keep(f"health-{state}-{short}", self.salt(node, "ganeti.health", *saved))
            self.salt(node, "ganeti.write_metrics", TEXTFILE, *saved)
            self.shell(node, f"cat {TEXTFILE}", f"metrics-{state}-{short}")
        self.shell(NODE_A, "hcheck -L 2>&1", f"hcheck-{state}", check=False)
        self.shell(NODE_A, "hcheck -L --machine-readable 2>&1", f"hcheck-machine-{state}",
                   check=False)  # fmt: skip

    def health_while_healthy(self):
        self.health("healthy")

    def b_disconnected(self):
        after = time.time()
        self.shell(NODE_B, "ip link set eth1 down")
        seen = self.wait_event(BEACON.format(NODE_B, "degraded"), after, 300)
        self.lane.timings["degraded_seen"] = seen.stamp.timestamp() - after
        self.keep("beacon-degraded", seen.data)
        self.health("degraded")
        # Writes on the primary while the peer is away: the reconnect then resyncs them.
        self.shell(NODE_A, f"dd if=/dev/urandom of={DRBD_DEVICE} bs=1M count=64 oflag=direct")
        # Maintenance of B now: its gates refuse before anything moves.
        self.maintenance("refused", failover=True, payload=[{"function": "test.ping"}])
        self.shell(NODE_A, INSTANCE_LIST, "instance-list-refused")

    def b_reconnected(self):
        after = time.time()
        self.shell(NODE_B, f"ip link set eth1 up; {SYNCING_SNAPSHOT}", "proc-drbd-syncing-nodeb")
        seen = self.wait_event(BEACON.format(NODE_B, "recovered"), after, 600)
        self.lane.timings["recovered_seen"] = seen.stamp.timestamp() - after
        self.keep("beacon-recovered", seen.data)
        self.shell(NODE_B, UNTIL_UPTODATE)
        self.health("reconnected")

    def maintenance(self, name, **settings):
        """node.maintenance of B from the master; its steps, and its wall time."""
        pillar = json.dumps({"hostnode_maintenance": {"targets": [NODE_B], **settings}})
        began = time.time()
        ran = self.run_cli.run("state.orchestrate", "node.maintenance", f"pillar={pillar}")
        if not isinstance(ran.data, dict) or "data" not in ran.data:
            raise AssertionError(f"node.maintenance: {ran.stderr or ran.stdout}")
        (steps,) = ran.data["data"].values()
        self.keep(f"maintenance-{name}", states_of(steps))
        return time.time() - began

    def maintenance_of_b(self):
        self.ganeti(MIGRATE, before_retry=MIGRATE_CLEANUP)
        self.shell(NODE_A, INSTANCE_LIST, "instance-list-before-maintenance")
        self.lane.timings["maintenance"] = self.maintenance(
            "of-b", failover=True, payload=[RESTART_PAYLOAD], wait_start=True,
            start_timeout=900, settle_timeout=900)  # fmt: skip
        self.shell(NODE_A, INSTANCE_LIST, "instance-list-after-maintenance")
        self.shell(NODE_A, DRAINED, "node-drained-after-maintenance")
        for node in (NODE_A, NODE_B):
            self.shell(node, "cat /proc/drbd", f"proc-drbd-after-maintenance-{node.split('.')[0]}")
        self.shell(NODE_A, "gnt-cluster verify", "verify-after-maintenance", check=False)


def states_of(returned):
    """{state id: return} of the states one minion (or an orchestration) returned."""
    return {state["__id__"]: state for state in returned.values()}


def steps_of(event):
    """An orchestration's steps from its return event: {state id: its return}."""
    (steps,) = event.data["return"]["data"].values()
    return states_of(steps)


def free_udp_ports(count):
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def seed_minion(master, node, results):
    """A pre-seeded key: accepted on the master, the pair in the guest's results folder."""
    keys = results / "pki"
    keys.mkdir(parents=True)
    subprocess.run([str(REPO / ".venv/bin/salt-key"), "-c", str(master.config_dir),
                    "--gen-keys=minion", f"--gen-keys-dir={keys}"],
                   check=True, capture_output=True)  # fmt: skip
    accepted = pathlib.Path(master.config["pki_dir"]) / "minions" / node
    accepted.parent.mkdir(parents=True, exist_ok=True)
    accepted.write_text((keys / "minion.pub").read_text())


@pytest.fixture(scope="module")
def lane(salt_factories, event_listener, tmp_path_factory):
    guest.skip_without_qemu()
    image = guest.build_image()
    root = tmp_path_factory.mktemp("cluster-lane")
    pillar = root / "pillar"
    pillar.mkdir()
    (pillar / "top.sls").write_text(yaml.safe_dump({"base": {f"*.{DOMAIN}": ["lane"]}}))
    (pillar / "lane.sls").write_text(yaml.safe_dump(lane_pillar()))
    _, file_roots = master_file_roots(root / "srv")
    # gather_job_timeout: two emulated guests beside the other lanes answer the master's
    # find_job pings slowly; at Salt's 10 s a busy minion's highstate is reported failed.
    overrides = {"file_roots": file_roots, "pillar_roots": {"base": [str(pillar)]},
                 "reactor": documented_reactor(), "gather_job_timeout": 120}  # fmt: skip
    master = salt_factories.salt_master_daemon("hostnode-cluster-master", overrides=overrides)
    record = Lane(root / "outputs")
    record.results.mkdir()
    job = (guest.HERE / "jobs" / "cluster-node.sh").read_text()
    udp = free_udp_ports(4)
    segment = {NODE_A: udp[:2], NODE_B: udp[2:]}
    boots = {}
    with master.started(start_timeout=120):
        ports = (master.config["publish_port"], master.config["ret_port"])
        try:
            for node in (NODE_A, NODE_B):
                results = root / node.split(".")[0]
                seed_minion(master, node, results)
                (results / "node.env").write_text(
                    f"NODE_ID={node}\nNODE_IP={PRIMARY[node]}\nMASTER_PORT={ports[1]}\n"
                    f"PUBLISH_PORT={ports[0]}\n"
                )
                boots[node] = guest.Boot(image, job, results, disk_mb=21 * 1024,
                                         nics=nics(node, ports, segment))  # fmt: skip
            Scenario(master, event_listener, record, boots, pillar / "lane.sls").run()
        finally:
            for boot in boots.values():
                (boot.results / "stop").write_text("")
            for node, boot in boots.items():
                ended = boot.wait(timeout=600)
                record.outputs[f"job-{node}"] = (ended.code, ended.log[-3000:])
    return record


def test_a_is_initialised_by_the_reactor_when_its_minion_starts(lane):
    steps = lane.output("orchestration-go-nodea")
    assert all(step["result"] is True for step in steps.values()), steps
    assert f"Cluster name: ganeti.{DOMAIN}" in lane.output("cluster-info-a")


def inner_states(steps, step):
    """{state id: return} of the minion states an orchestration step applied."""
    ((_, states),) = steps[step]["changes"]["ret"].items()
    return states_of(states)


def test_a_s_highstate_names_the_node_and_its_cluster(lane):
    name, *hosts = lane.output("names-a").splitlines()
    assert name == NODE_A
    assert f"{PRIMARY[NODE_A]} {NODE_A} nodea" in hosts
    assert f"192.168.50.10 ganeti.{DOMAIN} ganeti" in hosts


def test_the_init_is_the_command_pillar_and_the_cluster_s_cpus_make(lane):
    model = lane.output("cpu-model")["model"]
    ganeti = inner_states(
        lane.output("orchestration-go-nodea"), f"hostnode-orchestrate-ganeti-{NODE_A}"
    )
    assert ganeti["hostnode-ganeti-cluster"]["changes"] == {"commands": [INIT.format(model=model)]}
    assert ganeti["hostnode-ganeti-groups"]["changes"] == {
        "commands": ["gnt-group add rack1", f"gnt-group assign-nodes rack1 {NODE_A}"]}  # fmt: skip
    info = hostnode_ganeti.parse_cluster_info(lane.output("cluster-info-a"))
    assert info["Hypervisor parameters"]["kvm"]["cpu_type"] == model
    drbd = info["Default disk parameters"]["drbd"]
    assert (drbd["resync-rate"], drbd["c-max-rate"]) == (str(RESYNC_RATE), "102400")
    assert (
        hostnode_ganeti.parse_ssconf_map(lane.output("ssconf-hvparams-kvm-a"))["cpu_type"] == model
    )


def test_test_mode_predicts_the_modify_a_pillar_edit_makes_and_the_run_reports_it(lane):
    predicted = {i: s for i, s in states_of(lane.output("parameters-test")).items() if s["changes"]}
    applied = {i: s for i, s in states_of(lane.output("parameters-apply")).items() if s["changes"]}
    assert list(predicted) == list(applied) == ["hostnode-ganeti-parameters"], (predicted, applied)
    assert predicted["hostnode-ganeti-parameters"]["result"] is None
    assert applied["hostnode-ganeti-parameters"]["result"] is True
    changes = applied["hostnode-ganeti-parameters"]["changes"]
    assert changes == predicted["hostnode-ganeti-parameters"]["changes"]
    assert changes["commands"] == [
        f"gnt-cluster modify --disk-parameters=drbd:resync-rate={RESYNC_RATE_EDITED}"]  # fmt: skip
    info = hostnode_ganeti.parse_cluster_info(lane.output("cluster-info-edited"))
    assert info["Default disk parameters"]["drbd"]["resync-rate"] == str(RESYNC_RATE_EDITED)


def test_b_becomes_a_member_with_no_command_after_its_minion_starts(lane):
    steps = lane.output("orchestration-go-nodeb")
    assert all(step["result"] is True for step in steps.values()), steps
    rows = [line.split("|") for line in lane.output("node-list-two-nodes").splitlines()]
    assert sorted((name, sip) for name, _, sip, *_ in rows) == sorted(SECONDARY.items())
    print(f"B: minion start to member: {lane.timings['b_join']:.0f} s")


def changes_of(steps):
    """What an orchestration's salt.state steps changed: {(step, inner state id): changes}."""
    found = {}
    for step_id, step in steps.items():
        returns = step.get("changes", {}).get("ret", {})
        if not step_id.startswith(STATE_STEPS):
            continue
        for states in returns.values():
            for state in states.values() if isinstance(states, dict) else ():
                if isinstance(state, dict) and state.get("changes"):
                    found[(step_id, state["__id__"])] = state["changes"]
    return found


def test_a_restart_of_b_runs_the_join_again_and_changes_nothing(lane):
    steps = lane.output("orchestration-restart-nodeb")
    assert all(step["result"] is True for step in steps.values()), steps
    assert [i for i in steps if "join" in i or "ganeti" in i], steps  # the join did run again
    assert changes_of(steps) == {}


def test_the_cluster_reads_back_with_both_nodes(lane):
    info = hostnode_ganeti.parse_cluster_info(lane.output("cluster-info-edited"))
    assert (info["Cluster name"], info["Master node"]) == (f"ganeti.{DOMAIN}", NODE_A)
    members = hostnode_ganeti.parse_ssconf_list(lane.output("ssconf-node-list"))
    assert sorted(members) == [NODE_A, NODE_B]
    rows = [line.split("|") for line in lane.output("node-list-two-nodes").splitlines()]
    assert {name: group for name, _, _, group, _ in rows} == {NODE_A: "rack1", NODE_B: "rack1"}


def test_the_two_node_cluster_verifies_clean(lane):
    verify = lane.output("verify-two-nodes")
    complaints = [
        line for line in verify.splitlines() if " - ERROR:" in line or " - WARNING:" in line
    ]
    assert complaints == [], verify


def minors(lane, name):
    return hostnode_drbd.parse(lane.output(name))


def test_the_drbd_instance_is_uptodate_on_both_nodes(lane):
    for node in ("nodea", "nodeb"):
        (minor,) = minors(lane, f"proc-drbd-connected-{node}")
        assert (minor["connection"], minor["disk"], minor["peer_disk"]) == (
            "Connected", "UpToDate", "UpToDate")  # fmt: skip
    assert lane.output("instance-list-added") == f"{INSTANCE}|{NODE_A}|{NODE_B}|ADMIN_down"
    print(f"run again after Ganeti's RPC connect timeout: {lane.retries or 'none'}")


def test_failover_moves_the_primary_to_b(lane):
    assert lane.output("instance-list-failed-over") == f"{INSTANCE}|{NODE_B}|{NODE_A}|ADMIN_down"
    assert lane.output("instance-list-started") == f"{INSTANCE}|{NODE_B}|{NODE_A}|running"


def test_live_migration_moves_the_running_instance_back_to_a(lane):
    assert lane.output("instance-migrate-exit") == "0", lane.output("instance-migrate")
    assert lane.output("instance-list-migrated") == f"{INSTANCE}|{NODE_A}|{NODE_B}|running"


def test_health_is_clean_while_both_sides_are_uptodate(lane):
    for node in ("nodea", "nodeb"):
        assert lane.output(f"health-healthy-{node}") == {"healthy": True, "problems": []}
        assert "hostnode_ganeti_drbd_degraded{" in lane.output(f"metrics-healthy-{node}")


def test_the_beacon_sees_b_degraded_within_one_interval_of_drbd_noticing(lane):
    event = lane.output("beacon-degraded")
    assert "drbd minor" in event["problem"]
    health = lane.output("health-degraded-nodeb")
    assert health["healthy"] is False and health["problems"], health
    (minor,) = minors(lane, "proc-drbd-degraded-nodeb")
    assert minor["degraded"] and minor["connection"] != "Connected"
    print(f"the beacon saw it {lane.timings['degraded_seen']:.0f} s after the link went down")


def test_health_recovers_after_the_link_is_back(lane):
    assert lane.output("beacon-recovered")["problem"] == lane.output("beacon-degraded")["problem"]
    for node in ("nodea", "nodeb"):
        assert lane.output(f"health-reconnected-{node}") == {"healthy": True, "problems": []}


def test_promtool_reads_every_textfile_of_the_lane_clean(lane, tmp_path):
    if shutil.which("promtool") is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    for state in ("healthy", "degraded", "reconnected"):
        for node in ("nodea", "nodeb"):
            text = lane.output(f"metrics-{state}-{node}") + "\n"
            checked = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                                     capture_output=True, check=False)  # fmt: skip
            assert checked.returncode == 0, (state, node, checked.stdout + checked.stderr)


def test_a_reconnect_resyncs_what_was_written_meanwhile(lane):
    (minor,) = minors(lane, "proc-drbd-syncing-nodeb")
    assert minor["connection"] == "SyncTarget" and minor["degraded"]
    assert minor["out_of_sync_kib"] > 0 and 0 <= minor["sync_percent"] < 100


def maintenance_step(steps, step):
    (found,) = [s for i, s in steps.items() if i == f"hostnode-maintenance-{step}-{NODE_B}"]
    return found


def test_maintenance_is_refused_before_anything_moves_while_drbd_is_disconnected(lane):
    steps = lane.output("maintenance-refused")
    gate = maintenance_step(steps, "gate-drbd")
    assert gate["result"] is False and "drbd minor 0" in json.dumps(gate), gate
    assert list(steps) == [gate["__id__"]], steps  # failhard: nothing after the gate ran
    assert lane.output("instance-list-refused") == f"{INSTANCE}|{NODE_A}|{NODE_B}|running"


def test_maintenance_of_b_moves_its_instance_and_brings_it_back_healthy(lane):
    assert lane.output("instance-list-before-maintenance") == (
        f"{INSTANCE}|{NODE_B}|{NODE_A}|running")  # fmt: skip
    steps = lane.output("maintenance-of-b")
    failed = {i: s["comment"] for i, s in steps.items() if s["result"] is not True}
    assert failed == {}, failed
    assert lane.output("instance-list-after-maintenance") == (
        f"{INSTANCE}|{NODE_A}|{NODE_B}|running")  # fmt: skip
    drained = dict(line.split("|", 2)[:2] for line in lane.output(
        "node-drained-after-maintenance").splitlines())  # fmt: skip
    assert drained == {NODE_A: "N", NODE_B: "N"}
    for node in ("nodea", "nodeb"):
        (minor,) = minors(lane, f"proc-drbd-after-maintenance-{node}")
        assert not minor["degraded"], minor
    verify = lane.output("verify-after-maintenance")
    assert not [line for line in verify.splitlines() if "ERROR:" in line], verify
    print(f"node.maintenance of B: {lane.timings['maintenance']:.0f} s")


# --- B's bridge port: offloads off, and again after ifup from its stanza; bridge-nf -----------
def port_offloads(lane, name, state="on"):
    features = hostnode_ethtool.parse_features(lane.output(name))
    return {
        offload: features[hostnode_ethtool.OFFLOADS[offload]][state] for offload in OFFLOADS_OFF
    }


def test_the_bridge_port_offloads_are_off_after_the_highstate(lane):
    assert port_offloads(lane, "ethtool-k-port") == OFFLOADS_OFF
    # Requested off as well, as after the boot's ifup: none is merely held off by eth0.
    assert port_offloads(lane, "ethtool-k-port", "requested") == OFFLOADS_OFF
    highstate = inner_states(lane.output("orchestration-go-nodeb"),
                             f"hostnode-orchestrate-highstate-{NODE_A}")  # fmt: skip
    bridges = highstate["hostnode-node-bridges"]["changes"]
    assert set(bridges["offloads"][PORT]) <= set(OFFLOADS_OFF)


def test_the_persisted_port_brings_the_offloads_back_off_after_a_simulated_reboot(lane):
    assert f"iface {PORT} inet manual\n    vlan-raw-device eth0\n    offload-gro off\n" in (
        lane.output("port-stanza"))  # fmt: skip
    assert "ifup exit 0" in lane.output("ifup-port")
    assert port_offloads(lane, "ethtool-k-port-after-ifup") == OFFLOADS_OFF
    assert port_offloads(lane, "ethtool-k-port-after-ifup", "requested") == OFFLOADS_OFF


def test_bridged_traffic_bypasses_the_firewall_chains(lane):
    values = dict(line.split(" = ") for line in lane.output("bridge-nf").splitlines())
    assert values == {
        f"net.bridge.bridge-nf-call-{chain}": "0"
        for chain in ("iptables", "ip6tables", "arptables")
    }
