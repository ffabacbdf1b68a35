"""Ganeti: the parsers, the init and add-node plans by exact argv, the module and its states."""

import re
import shutil
import subprocess

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import cpu as hostnode_cpu
from saltext.hostnode.utils import ganeti as hostnode_ganeti
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

ganeti = load_module("modules", "ganeti")
ganeti_state = load_module("states", "ganeti")

SETTINGS = {
    "cluster_name": "ganeti.ams1.example.net",
    "master": "hv1.ams1.example.net",
    "master_netdev": "br0100",
    "enabled_hypervisors": ["kvm"],
    "enabled_disk_templates": ["plain", "drbd"],
    "vg_name": "xenvg",
    "drbd_usermode_helper": "/bin/true",
    "nic_link": "br0100",
    "hypervisor_parameters": {"kvm": {"kernel_path": "", "initrd_path": None}},
    "nodes": ["hv2.ams1.example.net", "hv3.ams1.example.net"],
}
INIT = [
    "gnt-cluster", "init", "--no-etc-hosts", "--master-netdev=br0100", "--enabled-hypervisors=kvm",
    "--enabled-disk-templates=plain,drbd", "--vg-name=xenvg", "--drbd-usermode-helper=/bin/true",
    "--nic-parameters=link=br0100",
    "--hypervisor-parameters=kvm:cpu_type=Haswell-noTSX,initrd_path=,kernel_path=",
    "ganeti.ams1.example.net",
]  # fmt: skip
LIST = ("gnt-node", "list", "--no-headers", "--separator=|", "-o",
        "name,pip,sip,master_candidate,offline,drained")  # fmt: skip
GROUP_LIST = ("gnt-group", "list", "--no-headers", "--separator=|", "-o", "name")
GROUP_MEMBERS = ("gnt-node", "list", "--no-headers", "--separator=|", "-o", "name,group")
MASTER_ONLY = "hv1.ams1.example.net|10.1.0.11|10.1.0.11|Y|N|N\n"


def admin_doc_sample():
    """doc/admin.rst's sample with its elision lines ('…') left out: the rest is verbatim."""
    text = fixture_text("ganeti", "cluster-info-admin-doc.txt")
    return "\n".join(line for line in text.splitlines() if line.strip() != "…")


def test_cluster_info_of_the_admin_guide_sample():
    info = hostnode_ganeti.parse_cluster_info(admin_doc_sample())
    assert info["Cluster name"] == "cluster.example.com"
    assert info["Master node"] == "node1.example.com"
    assert info["Architecture (this node)"] == "64bit (x86_64)"
    assert info["Hypervisor parameters"] == {"xen-pvm": {"root_path": "/dev/sda1"}}
    assert info["Cluster parameters"] == {"candidate pool size": "10"}
    assert info["Default nic parameters"]["default"]["link"] == "xen-br0"


def test_cluster_info_bad_input_names_the_line():
    with pytest.raises(ValueError, match="line 7: not 'key: value'"):
        hostnode_ganeti.parse_cluster_info(fixture_text("ganeti", "cluster-info-admin-doc.txt"))
    with pytest.raises(ValueError, match="no 'Cluster name' line"):
        hostnode_ganeti.parse_cluster_info("Master node: hv1.ams1.example.net\n")
    with pytest.raises(ValueError, match="line 2: under a value"):
        hostnode_ganeti.parse_cluster_info("Cluster name: c.example.net\n  x: y\n")


def test_node_list_rows_and_bad_columns():
    nodes = hostnode_ganeti.parse_node_list(MASTER_ONLY + "\nhv2.ams1.example.net|10.1.0.12|"
                                            "10.1.0.12|N|N|Y\n")  # fmt: skip
    assert list(nodes) == ["hv1.ams1.example.net", "hv2.ams1.example.net"]
    assert nodes["hv1.ams1.example.net"]["master_candidate"] is True
    assert nodes["hv2.ams1.example.net"]["drained"] is True
    with pytest.raises(ValueError, match="line 2: 3 columns, expected 6"):
        hostnode_ganeti.parse_node_list(MASTER_ONLY + "hv2|a|b\n")
    with pytest.raises(ValueError, match="line 1: empty node name"):
        hostnode_ganeti.parse_node_list("|a|b|Y|N|N\n")


def test_node_list_of_the_admin_guide_sample_with_its_own_fields():
    text = fixture_text("ganeti", "node-list-vm-capable-admin-doc.txt").split("\n", 1)[1]
    nodes = hostnode_ganeti.parse_node_list(text.replace(" ", "|"), fields=("name", "vm_capable"))
    assert {n: row["vm_capable"] for n, row in nodes.items()} == {
        "node1": True, "node2": True, "node3": False
    }  # fmt: skip


def test_init_argv_from_pillar_options():
    opts = hostnode_ganeti.options(SETTINGS)
    assert hostnode_ganeti.init_argv(hostnode_ganeti.with_cpu_type(opts, "Haswell-noTSX")) == INIT
    minimal = {"cluster_name": "ganeti.fra1.example.net", "master": "hv1.fra1.example.net",
               "enabled_disk_templates": ["file"]}  # fmt: skip
    assert hostnode_ganeti.plan_init(False, hostnode_ganeti.options(minimal)) == [[
        "gnt-cluster", "init", "--no-etc-hosts", "--master-netdev=xen-br0",
        "--enabled-hypervisors=kvm", "--enabled-disk-templates=file", "ganeti.fra1.example.net",
    ]]  # fmt: skip
    assert hostnode_ganeti.plan_init(True, hostnode_ganeti.options(SETTINGS)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cluster_name": "ganeti"}, "cluster_name: 'ganeti' is not a fully qualified host name"),
        ({"vg_name": None}, "vg_name: the disk templates"),
        ({"drbd_usermode_helper": None}, "drbd_usermode_helper: drbd needs one"),
        ({"drbd_usermode_helper": "true; rm"}, "drbd_usermode_helper: 'true; rm' is not"),
        ({"master_netdev": "br 0"}, "master_netdev: 'br 0' is not a name"),
        ({"nodes": ["hv2"]}, "nodes: 'hv2' is not a fully qualified host name"),
        ({"hypervisor_parameters": {"xen-pvm": {}}}, "hypervisor_parameters:xen-pvm: not among"),
        (
            {"hypervisor_parameters": {"kvm": {"kernel_args": "ro,x"}}},
            "hypervisor_parameters:kvm:kernel_args: 'ro,x' is not a value",
        ),
        ({"hypervisor_parameters": {"kvm": ["kernel_path"]}}, "kvm: a mapping of parameters"),
    ],
)
def test_bad_options_name_the_field(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        hostnode_ganeti.options({**SETTINGS, **change})


def test_add_plans_only_non_members_with_host_key_checking_on():
    wanted = ["hv2.ams1.example.net", "hv3.ams1.example.net"]
    assert hostnode_ganeti.plan_add(["hv1.ams1.example.net"], wanted) == [
        ["gnt-node", "add", "hv2.ams1.example.net"],
        ["gnt-node", "add", "hv3.ams1.example.net"],
    ]
    assert hostnode_ganeti.plan_add(["HV2.ams1.example.net"], wanted) == [
        ["gnt-node", "add", "hv3.ams1.example.net"]
    ]
    assert hostnode_ganeti.plan_add(["hv1.ams1.example.net", *wanted], wanted) == []
    secondary = {"hv3.ams1.example.net": "10.1.1.13"}
    assert hostnode_ganeti.plan_add(["hv2.ams1.example.net"], wanted, secondary) == [
        ["gnt-node", "add", "--secondary-ip=10.1.1.13", "hv3.ams1.example.net"]
    ]


REPLICATED = {
    **SETTINGS,
    "replication": {"network": "10.1.1.0/24", "nic": "repl0", "mtu": 9000},
    "secondary_ips": {"hv1.ams1.example.net": "10.1.1.11", "hv2.ams1.example.net": "10.1.1.12",
                      "hv3.ams1.example.net": "10.1.1.13"},
}  # fmt: skip


def test_secondary_ips_reach_init_and_the_df_ping():
    opts = hostnode_ganeti.with_cpu_type(hostnode_ganeti.options(REPLICATED), "Haswell-noTSX")
    assert hostnode_ganeti.init_argv(opts) == [*INIT[:-2], "--secondary-ip=10.1.1.11", *INIT[-2:]]
    assert hostnode_ganeti.ping_argv(opts) == [
        "ping", "-M", "do", "-s", "8972", "-c", "1", "-W", "1", "-I", "repl0", "10.1.1.11",
    ]  # fmt: skip
    v6 = {
        **REPLICATED,
        "replication": {"mtu": 1500},
        "secondary_ips": {n: f"fd00::{i + 1}" for i, n in enumerate(REPLICATED["secondary_ips"])},
    }
    assert hostnode_ganeti.ping_argv(hostnode_ganeti.options(v6)) == [
        "ping", "-M", "do", "-s", "1452", "-c", "1", "-W", "1", "fd00::1",
    ]  # fmt: skip
    assert hostnode_ganeti.ping_argv(hostnode_ganeti.options(SETTINGS)) is None
    assert hostnode_ganeti.options(SETTINGS)["replication"] == {
        "network": None, "nic": None, "mtu": 1500,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secondary_ips": {"hv1.ams1.example.net": "10.1.1.300"}},
         "secondary_ips:hv1.ams1.example.net: '10.1.1.300' is not an IP address"),
        ({"secondary_ips": {"hv1.ams1.example.net": "10.1.2.11"}},
         "hv1.ams1.example.net: 10.1.2.11 is not in the replication network 10.1.1.0/24"),
        ({"secondary_ips": {"hv1.ams1.example.net": "10.1.1.11"}},
         "secondary_ips: no secondary IP for hv2.ams1.example.net, hv3.ams1.example.net"),
        ({"secondary_ips": ["10.1.1.11"]}, "secondary_ips: a mapping of node FQDN"),
        ({"replication": {"mtu": 9000, "speed": 10}}, "replication: a mapping of network"),
        ({"replication": {"mtu": "9000"}}, "replication:mtu: '9000' is not an MTU"),
        ({"replication": {"mtu": 100}}, "replication:mtu: 100 is not an MTU"),
        ({"replication": {"network": "10.1.1.1/24"}}, "replication:network: '10.1.1.1/24' is not"),
        ({"replication": {"nic": "repl 0"}}, "replication:nic: 'repl 0' is not a name"),
    ],
)  # fmt: skip
def test_bad_replication_options_name_the_field(change, message):
    with pytest.raises(ValueError, match=message):
        hostnode_ganeti.options({**REPLICATED, **change})


def keygen(path, kind="ed25519"):
    """A real key pair made by ssh-keygen; its public line."""
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed (package openssh-client)")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@test", "-f", str(path)],
                   check=True)  # fmt: skip
    return (path.parent / f"{path.name}.pub").read_text()


def test_public_keys_of_ssh_keygen_and_bad_ones(tmp_path):
    line = keygen(tmp_path / "id_ed25519")
    kind, blob, _comment = line.split()
    assert hostnode_ganeti.public_key(line, "k") == f"{kind} {blob}"
    rsa = keygen(tmp_path / "id_rsa", "rsa")
    assert hostnode_ganeti.public_key(rsa, "k").startswith("ssh-rsa AAAA")
    with pytest.raises(ValueError, match="k: not an OpenSSH public key"):
        hostnode_ganeti.public_key("ssh-foo AAAA", "k")
    with pytest.raises(ValueError, match="k: the key of ssh-ed25519 is not base64"):
        hostnode_ganeti.public_key("ssh-ed25519 AAA!", "k")
    with pytest.raises(ValueError, match="k: the key does not hold a ssh-rsa key"):
        hostnode_ganeti.public_key(f"ssh-rsa {blob}", "k")
    with pytest.raises(
        ValueError, match=r"hv2\.ams1\.example\.net: no SSH host key in the Salt mine"
    ):
        hostnode_ganeti.published_keys({"root": [line], "host": []}, "hv2.ams1.example.net")


def test_known_hosts_plan_keeps_the_cluster_line_and_replaces_a_nodes_keys():
    cluster = "ganeti.ams1.example.net ssh-rsa AAAAcluster\n"
    old = cluster + "hv2.ams1.example.net ssh-ed25519 AAAAold\n"
    keys = {"hv2.ams1.example.net": ["ssh-ed25519 AAAAnew", "ssh-rsa AAAArsa"]}
    new = hostnode_ganeti.plan_known_hosts(old, keys)
    assert new == (cluster + "hv2.ams1.example.net ssh-ed25519 AAAAnew\n"
                   "hv2.ams1.example.net ssh-rsa AAAArsa\n")  # fmt: skip
    assert hostnode_ganeti.plan_known_hosts(new, keys) is None
    assert hostnode_ganeti.plan_known_hosts(None, {}) is None


def test_authorized_keys_appends_only_the_missing_key():
    old = 'from="10.0.0.1" ssh-rsa AAAAother admin\nssh-ed25519 AAAAmaster root@hv1'
    assert hostnode_ganeti.authorized_keys(old, ["ssh-ed25519 AAAAmaster"]) is None
    assert hostnode_ganeti.authorized_keys(old, ["ssh-rsa AAAAnew"]) == old + "\nssh-rsa AAAAnew\n"
    assert hostnode_ganeti.authorized_keys(None, ["ssh-rsa AAAAnew"]) == "ssh-rsa AAAAnew\n"


class GanetiTable(CommandTable):
    """
    gnt-cluster init writes config.data, the ssconf node list and KVM parameters as the real one
    does and puts the master in the group default; gnt-node add makes a member (the master
    rewrites its ssconf node list) in its --node-group (else default); gnt-group add and
    assign-nodes change what gnt-group list and gnt-node list -o name,group answer.
    """

    def __init__(self, config_root):
        super().__init__({LIST: (0, MASTER_ONLY, "")})
        self.config_data = config_root / "var/lib/ganeti/config.data"
        self.node_list = config_root / "var/lib/ganeti/ssconf_node_list"
        self.cluster_name = config_root / "var/lib/ganeti/ssconf_cluster_name"
        self.kvm = config_root / "var/lib/ganeti/ssconf_hvparams_kvm"
        self.groups, self.members = ["default"], {}

    def __call__(self, argv, python_shell=False, stdin=None, **options):
        self.answers[GROUP_LIST] = (0, "".join(f"{g}\n" for g in self.groups), "")
        rows = "".join(f"{n}|{g}\n" for n, g in self.members.items())
        self.answers[GROUP_MEMBERS] = (0, rows, "")
        result = super().__call__(argv, python_shell, stdin, **options)
        if argv[:2] == ["gnt-group", "add"]:
            self.groups.append(argv[2])
        if argv[:2] == ["gnt-group", "assign-nodes"]:
            self.members.update(dict.fromkeys(argv[3:], argv[2]))
        if argv[:2] == ["gnt-node", "add"]:
            group = [a.split("=", 1)[1] for a in argv if a.startswith("--node-group=")]
            self.members[argv[-1]] = (group or ["default"])[0]
        if argv[:2] == ["gnt-cluster", "init"]:
            if self.config_data.exists():
                return {"retcode": 1, "stdout": "", "stderr": "Cluster is already initialised",
                        "pid": 1}  # fmt: skip
            self.config_data.parent.mkdir(parents=True)
            self.config_data.write_text("{}")
            self.node_list.write_text("hv1.ams1.example.net\n")
            self.cluster_name.write_text(argv[-1])
            kvm = next(a for a in argv if a.startswith("--hypervisor-parameters=kvm:"))
            self.kvm.write_text(kvm.split(":", 1)[1].replace(",", "\n") + "\n")
            self.members["hv1.ams1.example.net"] = "default"
        if argv[:2] == ["gnt-node", "add"]:
            row = f"{argv[-1]}|10.1.0.99|10.1.0.99|N|N|N\n"
            self.answers[LIST] = (0, self.answers[LIST][1] + row, "")
            self.node_list.write_text(self.node_list.read_text() + argv[-1] + "\n")
        return result


@pytest.fixture(autouse=True)
def ganeti_installed(monkeypatch):
    """The commands are the table's: the module's check that Ganeti is installed passes."""
    monkeypatch.setattr(ganeti.salt.utils.path, "which", lambda name: f"/usr/sbin/{name}")


@pytest.fixture
def table(config_root):
    return GanetiTable(config_root)


@pytest.fixture
def configure_loader_modules(table, config_root):
    dunders = salt_dunders(table, config_root)
    pillar = {"hostnode:node:ganeti": SETTINGS, "hostnode:config_root": str(config_root)}
    dunders["__salt__"]["config.get"] = lambda key, default=None: pillar.get(key, default)
    dunders["__salt__"]["mine.get"] = MINE.get
    dunders["__grains__"] = {"id": "hv1.ams1.example.net"}
    for name in (
        "init_cluster",
        "modify_cluster",
        "assign_groups",
        "add_node",
        "replication_check",
        "authorize_master",
    ):
        dunders["__salt__"][f"ganeti.{name}"] = getattr(ganeti, name)
    return {ganeti: dunders, ganeti_state: {**dunders, "__opts__": {"test": False}}}


class Mine:
    """A stand-in for mine.get over {minion: ganeti.ssh_keys} and {minion: hostnode_cpu},
    recording what it was asked for the keys."""

    def __init__(self):
        self.published, self.cpus, self.asked = {}, {}, []

    def get(self, tgt, fun, tgt_type="glob"):
        assert fun in ("ganeti.ssh_keys", "hostnode_cpu") and tgt_type == "list"
        if fun == "hostnode_cpu":
            return {m: cpu for m, cpu in self.cpus.items() if m in tgt.split(",")}
        self.asked.append(tgt)
        return {m: keys for m, keys in self.published.items() if m in tgt.split(",")}


MINE = Mine()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Each node of SETTINGS publishes a real host key (ssh-keygen), hv1 a root key."""
    keys = tmp_path_factory.mktemp("keys")
    return {
        node: {"root": [keygen(keys / f"{node}-root", "rsa")] if node.startswith("hv1") else [],
               "host": [keygen(keys / f"{node}-host")]}
        for node in ["hv1.ams1.example.net", *SETTINGS["nodes"]]
    }  # fmt: skip


# Each node's hostnode_cpu grain, parsed from real /proc/cpuinfo captures (tests/fixtures/cpuinfo).
CPUINFO = {
    "hv1.ams1.example.net": "intel-haswell-i7-4800mq.txt",
    "hv2.ams1.example.net": "intel-icelake-gold-6326-vmware.txt",
    "hv3.ams1.example.net": "intel-icelake-gold-6326-vmware.txt",
}


def cpu_grain(node):
    return hostnode_cpu.parse_cpuinfo(fixture_text("cpuinfo", CPUINFO[node]))


@pytest.fixture(autouse=True)
def mine(published):
    MINE.cpus = {node: cpu_grain(node) for node in CPUINFO}
    MINE.asked.clear()
    MINE.published = {
        node: {k: list(v) for k, v in keys.items()} for node, keys in published.items()
    }
    return MINE


def test_state_test_mode_predicts_the_real_init_then_nothing(table, monkeypatch):
    monkeypatch.setitem(ganeti_state.__opts__, "test", True)
    predicted = ganeti_state.cluster_initialized("ganeti.ams1.example.net")
    assert predicted["result"] is None
    assert predicted["changes"] == {"commands": [" ".join(INIT)]}
    assert table.calls == []
    monkeypatch.setitem(ganeti_state.__opts__, "test", False)
    applied = ganeti_state.cluster_initialized("ganeti.ams1.example.net")
    assert applied["result"] is True
    assert applied["changes"] == predicted["changes"]
    assert table.argvs() == [INIT]
    again = ganeti_state.cluster_initialized("ganeti.ams1.example.net")
    assert again["changes"] == {} and again["result"] is True
    assert table.argvs() == [INIT]


def test_node_member_adds_only_the_missing_then_nothing(table, monkeypatch, mine, config_root):
    ganeti.init_cluster()
    monkeypatch.setitem(ganeti_state.__opts__, "test", True)
    predicted = ganeti_state.node_member("members")
    adds = ["gnt-node add hv2.ams1.example.net", "gnt-node add hv3.ams1.example.net"]
    assert predicted["changes"]["commands"] == adds and predicted["result"] is None
    known_hosts = config_root / "var/lib/ganeti/known_hosts"
    assert not known_hosts.exists()
    pinned = [f"{n} {mine.published[n]['host'][0].rsplit(' ', 1)[0]}" for n in SETTINGS["nodes"]]
    assert [line[1:] for line in predicted["changes"]["known_hosts"].splitlines()[3:]] == pinned
    monkeypatch.setitem(ganeti_state.__opts__, "test", False)
    applied = ganeti_state.node_member("members")
    assert applied["changes"] == predicted["changes"] and applied["result"] is True
    assert known_hosts.read_text().splitlines() == pinned
    assert ganeti_state.node_member("members")["changes"] == {}
    assert [a for a in table.argvs() if a[:2] == ["gnt-node", "add"]] == [
        cmd.split() for cmd in adds
    ]
    assert mine.asked == [",".join(SETTINGS["nodes"])] * 2  # members are not asked for


def test_a_node_without_host_keys_in_the_mine_is_refused_and_nothing_changes(
    table, mine, config_root
):
    ganeti.init_cluster()
    mine.published["hv3.ams1.example.net"] = {"root": [], "host": []}
    ret = ganeti_state.node_member("members")
    assert ret["result"] is False and ret["changes"] == {}
    assert ret["comment"] == (
        "hv3.ams1.example.net: no SSH host key in the Salt mine (ganeti.ssh_keys): not added, "
        "nothing changed"
    )
    assert not (config_root / "var/lib/ganeti/known_hosts").exists()
    assert [a for a in table.argvs() if a[:2] == ["gnt-node", "add"]] == []


PING = ("ping", "-M", "do", "-s", "8972", "-c", "1", "-W", "1", "-I", "repl0", "10.1.1.11")


def test_node_joinable_checks_the_path_then_authorizes_the_masters_key(
    table, monkeypatch, mine, config_root
):
    monkeypatch.setitem(ganeti.__grains__, "id", "hv2.ams1.example.net")
    authorized = config_root / "root/.ssh/authorized_keys"
    monkeypatch.setitem(ganeti_state.__opts__, "test", True)
    predicted = ganeti_state.node_joinable("hv2.ams1.example.net", REPLICATED)
    assert predicted["result"] is None and not authorized.exists()
    assert table.argvs() == [list(PING)]  # the check runs under test=True too: it is a read
    monkeypatch.setitem(ganeti_state.__opts__, "test", False)
    applied = ganeti_state.node_joinable("hv2.ams1.example.net", REPLICATED)
    assert applied["result"] is True and applied["changes"] == predicted["changes"]
    root_key = mine.published["hv1.ams1.example.net"]["root"][0].rsplit(" ", 1)[0]
    assert authorized.read_text() == root_key + "\n"
    assert oct(authorized.stat().st_mode & 0o777) == "0o600"
    assert ganeti_state.node_joinable("hv2.ams1.example.net", REPLICATED)["changes"] == {}


def test_a_node_whose_path_drops_the_mtu_is_refused_with_the_reason(
    table, monkeypatch, config_root
):
    monkeypatch.setitem(ganeti.__grains__, "id", "hv2.ams1.example.net")
    table.answers[PING] = (1, "PING 10.1.1.11 (10.1.1.11) 8972(9000) bytes of data.\n"
                              "ping: local error: message too long, mtu=1500\n", "")  # fmt: skip
    for test in (True, False):
        monkeypatch.setitem(ganeti_state.__opts__, "test", test)
        ret = ganeti_state.node_joinable("hv2.ams1.example.net", REPLICATED)
        assert ret["result"] is False and ret["changes"] == {}
        assert ret["comment"].startswith(
            "the replication path to the master hv1.ams1.example.net (10.1.1.11) does not carry "
            "9000-byte packets unfragmented (ping -M do -s 8972"
        )
        assert "message too long, mtu=1500" in ret["comment"]
    assert not (config_root / "root/.ssh/authorized_keys").exists()


def test_before_init_the_master_has_no_root_key(table, monkeypatch, mine):
    monkeypatch.setitem(ganeti.__grains__, "id", "hv2.ams1.example.net")
    mine.published["hv1.ams1.example.net"]["root"] = []
    assert ganeti.authorize_master(test=True) == {
        "authorized_keys": "the root key hv1.ams1.example.net makes at gnt-cluster init"
    }
    with pytest.raises(CommandExecutionError, match="publishes no root key in the Salt mine"):
        ganeti.authorize_master()
    monkeypatch.setitem(ganeti.__grains__, "id", "hv1.ams1.example.net")
    assert ganeti.authorize_master() == {} and ganeti.replication_check(REPLICATED) == {}


def test_ssh_keys_reads_roots_and_host_keys_under_the_config_root(config_root, tmp_path):
    assert ganeti.ssh_keys() == {"root": [], "host": []}
    root = keygen(config_root / "root/.ssh/id_rsa", "rsa")
    host = keygen(config_root / "etc/ssh/ssh_host_ed25519_key")
    want = {"root": [root.rsplit(" ", 1)[0]], "host": [host.rsplit(" ", 1)[0]]}
    assert ganeti.ssh_keys() == want
    assert ganeti.ssh_keys(source=str(config_root)) == want
    (config_root / "etc/ssh/ssh_host_rsa_key.pub").write_text("garbage\n")
    with pytest.raises(
        CommandExecutionError, match=r"ssh_host_rsa_key\.pub: not an OpenSSH public key"
    ):
        ganeti.ssh_keys()
    with pytest.raises(SaltInvocationError, match="is not a directory"):
        ganeti.ssh_keys(source=str(tmp_path / "nothing"))


def test_cluster_initialized_is_the_cluster_its_name_says(table, config_root):
    ret = ganeti_state.cluster_initialized("ganeti.fra1.example.net")
    assert ret["result"] is False and ret["changes"] == {}
    assert ret["comment"] == (
        "name: 'ganeti.fra1.example.net' is not hostnode:node:ganeti:cluster_name "
        "(ganeti.ams1.example.net)"
    )
    assert table.calls == []
    ganeti_state.cluster_initialized("ganeti.ams1.example.net")
    assert ganeti_state.cluster_initialized("GANETI.ams1.example.net")["changes"] == {}
    table.cluster_name.write_text("ganeti.fra1.example.net")
    held = ganeti_state.cluster_initialized("ganeti.ams1.example.net")
    assert held["result"] is False
    held_elsewhere = "this node holds Ganeti cluster ganeti.fra1.example.net (ssconf_cluster_name)"
    assert held_elsewhere in held["comment"]
    assert table.argvs() == [INIT]


def test_a_failing_command_is_a_failed_state(table, monkeypatch):
    table.answers[tuple(INIT)] = (1, "", "Error: master netdev br0100 does not exist")
    ret = ganeti_state.cluster_initialized("ganeti.ams1.example.net")
    assert ret["result"] is False
    assert "br0100 does not exist" in ret["comment"]


def test_bad_pillar_is_refused_before_any_command(table, monkeypatch):
    with pytest.raises(SaltInvocationError, match="cluster_name"):
        ganeti.init_cluster({**SETTINGS, "cluster_name": "x"})
    assert table.calls == []


def test_members_from_the_masters_ssconf_node_list(config_root, tmp_path):
    saved = FIXTURES / "ganeti" / "ssconf-node-list-one-node.txt"
    assert ganeti.members(source=str(saved)) == ["node1.guest.example.net"]
    assert ganeti.members() == []  # no cluster on this node
    garbled = tmp_path / "ssconf_node_list"
    garbled.write_text("node1.guest.example.net\nnot a name\n")
    with pytest.raises(CommandExecutionError, match="ssconf_node_list: line 2: not a copy of"):
        ganeti.members(source=str(garbled))


def test_source_reads_saved_output(tmp_path):
    saved = tmp_path / "nodes.txt"
    saved.write_text(MASTER_ONLY)
    assert list(ganeti.nodes(source=str(saved))) == ["hv1.ams1.example.net"]
    info = tmp_path / "info.txt"
    info.write_text(admin_doc_sample())
    assert ganeti.cluster_info(source=str(info))["Master node"] == "node1.example.com"
    assert (FIXTURES / "ganeti" / "README").exists()


def test_the_guest_clusters_own_outputs():
    info = hostnode_ganeti.parse_cluster_info(fixture_text("ganeti", "cluster-info-one-node.txt"))
    assert info["Cluster name"] == "ganeti.guest.example.net"
    assert info["Master node"] == "node1.guest.example.net"
    assert info["Enabled hypervisors"] == "kvm"
    assert info["Hypervisor parameters"]["kvm"]["kvm_path"] == "/usr/bin/kvm"
    assert info["Hypervisor parameters"]["kvm"]["kernel_path"] == ""
    assert info["Cluster parameters"]["master netdev"] == "br0100"
    assert info["Cluster parameters"]["lvm volume group"] == "xenvg"
    assert info["Cluster parameters"]["enabled disk templates"] == "plain, drbd"
    assert info["Cluster parameters"]["compression tools"] == ["gzip", "gzip-fast", "gzip-slow"]
    nodes = hostnode_ganeti.parse_node_list(fixture_text("ganeti", "node-list-one-node.txt"))
    assert nodes == {
        "node1.guest.example.net": {
            "name": "node1.guest.example.net", "pip": "192.168.50.11", "sip": "192.168.50.11",
            "master_candidate": True, "offline": False, "drained": False,
        }
    }  # fmt: skip


# Node groups, the cluster's CPU model at init, DRBD parameters (docs/node-bootstrap.md).

GROUPED = {
    **SETTINGS,
    "groups": ["rack1", "rack2"],
    "node_groups": {"hv1.ams1.example.net": "rack1", "hv2.ams1.example.net": "rack1",
                    "hv3.ams1.example.net": "rack2"},
}  # fmt: skip


def test_the_two_node_lane_s_node_list_names_each_node_s_replication_address():
    """gnt-node list on the master of the cluster lane (tests/vm/test_guest_cluster.py)."""
    fields = ("name", "pip", "sip", "group", "master_candidate")
    nodes = hostnode_ganeti.parse_node_list(fixture_text("ganeti", "node-list-two-nodes.txt"),
                                            fields)  # fmt: skip
    assert {name: (n["pip"], n["sip"], n["group"]) for name, n in nodes.items()} == {
        "nodea.guest.example.net": ("192.168.50.11", "10.99.0.11", "rack1"),
        "nodeb.guest.example.net": ("192.168.50.12", "10.99.0.12", "rack1"),
    }


def test_the_two_node_lane_s_instance_lists_read_with_the_same_list_parser():
    """gnt-instance list of the cluster lane's DRBD instance after each move (its fixtures)."""
    fields = ("name", "pnode", "snodes", "status")
    a, b = "nodea.guest.example.net", "nodeb.guest.example.net"
    expected = {"added": (a, b, "ADMIN_down"), "failed-over": (b, a, "ADMIN_down"),
                "started": (b, a, "running"), "migrated": (a, b, "running")}  # fmt: skip
    for step, (pnode, snodes, status) in expected.items():
        text = fixture_text("ganeti", f"instance-list-two-nodes-{step}.txt")
        (instance,) = hostnode_ganeti.parse_node_list(text, fields).values()
        assert (instance["pnode"], instance["snodes"], instance["status"]) == (
            pnode, snodes, status)  # fmt: skip


def test_group_plan_adds_missing_groups_then_assigns_each_group_once():
    opts = hostnode_ganeti.options(GROUPED)
    members = {"hv1.ams1.example.net": "default", "hv2.ams1.example.net": "default",
               "hv3.ams1.example.net": "rack2"}  # fmt: skip
    assert hostnode_ganeti.plan_groups(["default", "rack2"], members, opts) == [
        ["gnt-group", "add", "rack1"],
        ["gnt-group", "assign-nodes", "rack1", "hv1.ams1.example.net", "hv2.ams1.example.net"],
    ]
    placed = {**members, "hv1.ams1.example.net": "rack1", "hv2.ams1.example.net": "rack1"}
    assert hostnode_ganeti.plan_groups(["default", "rack1", "rack2"], placed, opts) == []
    # a node that is not a member yet gets its group at gnt-node add
    assert hostnode_ganeti.plan_groups(["default", "rack1", "rack2"], {}, opts) == []
    assert hostnode_ganeti.plan_add([], ["hv3.ams1.example.net"], {}, opts["node_groups"]) == [
        ["gnt-node", "add", "--node-group=rack2", "hv3.ams1.example.net"]
    ]


def test_without_groups_in_pillar_nothing_is_planned():
    opts = hostnode_ganeti.options(SETTINGS)
    assert opts["groups"] == ["default"] and opts["node_groups"] == {}
    assert hostnode_ganeti.plan_groups(["default"], {"hv1.ams1.example.net": "default"}, opts) == []


def test_disk_parameters_reach_the_init_as_ganeti_takes_them():
    settings = {**SETTINGS, "disk_parameters": {
        "drbd": {"resync-rate": 102400, "c-max-rate": 204800, "dynamic-resync": True,
                 "protocol": "C"},
        "plain": {"stripes": 2}}}  # fmt: skip
    argv = hostnode_ganeti.init_argv(hostnode_ganeti.options(settings))
    assert argv[-3:-1] == [
        "--disk-parameters=drbd:c-max-rate=204800,dynamic-resync=true,protocol=C,"
        "resync-rate=102400",
        "--disk-parameters=plain:stripes=2",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"disk_parameters": {"drbd": {"resync_rate": 1}}},
         "hostnode:node:ganeti:disk_parameters:drbd:resync_rate: not a drbd disk parameter of "
         "Ganeti (c-delay-target, "),
        ({"disk_parameters": {"drbd": {"resync-rate": "fast"}}},
         "disk_parameters:drbd:resync-rate: 'fast' is not a int value"),
        ({"disk_parameters": {"drbd": {"dynamic-resync": 1}}},
         "disk_parameters:drbd:dynamic-resync: 1 is not a bool value"),
        ({"disk_parameters": {"drbd": {"net-custom": "a,b"}}},
         "disk_parameters:drbd:net-custom: 'a,b' is not a str value"),
        ({"disk_parameters": {"rbd": {"pool": "rbd"}}},
         "disk_parameters:rbd: not among enabled_disk_templates"),
        ({"groups": ["rack 1"]}, "hostnode:node:ganeti:groups: 'rack 1' is not a name"),
        ({"groups": ["rack1"], "node_groups": {"hv2.ams1.example.net": "rack9"}},
         "hostnode:node:ganeti:node_groups:hv2.ams1.example.net: 'rack9' is not one of groups"),
        ({"node_groups": ["hv2.ams1.example.net"]},
         "hostnode:node:ganeti:node_groups: a mapping of node FQDN to group"),
    ],
)  # fmt: skip
def test_bad_groups_and_disk_parameters_name_the_field(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        hostnode_ganeti.options({**SETTINGS, **change})


def test_the_init_takes_the_model_every_node_runs_unless_pillar_sets_one(table, mine):
    assert ganeti.init_cluster(test=True) == {"commands": [" ".join(INIT)]}
    mine.cpus["hv3.ams1.example.net"] = cpu_grain("hv1.ams1.example.net")  # nothing changes
    assert ganeti.init_cluster(test=True) == {"commands": [" ".join(INIT)]}
    del mine.cpus["hv3.ams1.example.net"]
    with pytest.raises(CommandExecutionError, match=r"mine: no hostnode_cpu from hv3\.ams1"):
        ganeti.init_cluster()
    assert table.calls == []
    chosen = {**SETTINGS, "hypervisor_parameters": {"kvm": {"cpu_type": "kvm64"}}}
    (argv,) = ganeti.init_cluster(chosen, test=True)["commands"]
    assert "--hypervisor-parameters=kvm:cpu_type=kvm64 " in argv


def test_node_groups_state_predicts_what_it_runs_then_nothing(table, monkeypatch):
    monkeypatch.setitem(ganeti_state.__opts__, "test", True)
    predicted = ganeti_state.node_groups("groups", GROUPED)
    assert predicted["result"] is None
    assert predicted["changes"] == {"commands": [
        "gnt-group add rack1", "gnt-group add rack2",
        "gnt-group assign-nodes rack1 hv1.ams1.example.net",
    ]}  # fmt: skip
    assert table.calls == []  # before the init: the cluster as gnt-cluster init leaves it
    monkeypatch.setitem(ganeti_state.__opts__, "test", False)
    ganeti.init_cluster(GROUPED)
    applied = ganeti_state.node_groups("groups", GROUPED)
    assert applied["result"] is True and applied["changes"] == predicted["changes"]
    members = ganeti_state.node_member("members", settings=GROUPED)
    assert members["changes"]["commands"] == [
        "gnt-node add --node-group=rack1 hv2.ams1.example.net",
        "gnt-node add --node-group=rack2 hv3.ams1.example.net",
    ]
    assert ganeti_state.node_groups("groups", GROUPED)["changes"] == {}
    assert table.members == GROUPED["node_groups"]
    table.members["hv3.ams1.example.net"] = "default"  # moved by hand: put back
    assert ganeti_state.node_groups("groups", GROUPED)["changes"] == {
        "commands": ["gnt-group assign-nodes rack2 hv3.ams1.example.net"]
    }


def test_a_joining_node_that_would_lower_the_cpu_model_is_named(table, mine, config_root):
    mine.cpus["hv1.ams1.example.net"] = cpu_grain("hv2.ams1.example.net")
    ganeti.init_cluster({**SETTINGS, "nodes": ["hv2.ams1.example.net"]})  # both Ice Lake
    kvm = hostnode_ganeti.parse_ssconf_map(table.kvm.read_text())
    assert kvm["cpu_type"] == "Cascadelake-Server-noTSX"
    ret = ganeti_state.node_member("members", nodes=["hv3.ams1.example.net"])
    assert ret["result"] is True and "cpu_model" not in ret["changes"]  # Ice Lake too
    mine.cpus["hv4.ams1.example.net"] = cpu_grain("hv1.ams1.example.net")  # a Haswell
    mine.published["hv4.ams1.example.net"] = mine.published["hv3.ams1.example.net"]
    (line,) = ganeti_state.node_member("members", nodes=["hv4.ams1.example.net"])["changes"][
        "cpu_model"
    ]
    assert line.startswith(
        "hv4.ams1.example.net cannot run the cluster's CPU model Cascadelake-Server-noTSX (it "
        "lacks "
    )
    assert line.endswith(
        "the model all nodes share with it is Haswell-noTSX; instances cannot live-migrate to "
        "it until gnt-cluster modify -H kvm:cpu_type=Haswell-noTSX"
    )


def test_group_parsers_name_the_bad_line():
    with pytest.raises(ValueError, match=r"gnt-node list line 2: 1 columns, expected 2"):
        hostnode_ganeti.parse_group_members("hv1.ams1.example.net|rack1\nhv2.ams1.example.net\n")
    with pytest.raises(ValueError, match=r"gnt-group list line 1: 'rack 1' is not a name"):
        hostnode_ganeti.parse_group_list("rack 1\n")
    with pytest.raises(ValueError, match=r"ssconf_hvparams_kvm line 2: not 'key=value'"):
        hostnode_ganeti.parse_ssconf_map("cpu_type=\nacpi\n")


def test_the_guest_clusters_groups_cpu_model_and_drbd_parameters():
    """Captured in the one-node guest job of its time after node.ganeti_cluster made rack1."""
    groups = hostnode_ganeti.parse_group_list(fixture_text("ganeti", "group-list-one-node.txt"))
    assert groups == ["default", "rack1"]
    text = fixture_text("ganeti", "node-groups-one-node.txt")
    assert hostnode_ganeti.parse_group_members(text) == {"node1.guest.example.net": "rack1"}
    kvm = hostnode_ganeti.parse_ssconf_map(
        fixture_text("ganeti", "ssconf-hvparams-kvm-one-node.txt")
    )
    assert (kvm["cpu_type"], kvm["kvm_path"], kvm["kernel_path"]) == (
        "Opteron_G2",
        "/usr/bin/kvm",
        "",
    )
    info = hostnode_ganeti.parse_cluster_info(
        fixture_text("ganeti", "cluster-info-cpu-type-rack1.txt")
    )
    assert info["Hypervisor parameters"]["kvm"]["cpu_type"] == "Opteron_G2"
    drbd = info["Default disk parameters"]["drbd"]
    assert (drbd["resync-rate"], drbd["c-max-rate"]) == ("40960", "102400")


def test_groups_read_through_the_tools_or_saved_output(table, tmp_path):
    table.groups = fixture_text("ganeti", "group-list-one-node.txt").splitlines()
    assert ganeti.groups() == ["default", "rack1"]
    saved = tmp_path / "node-groups.txt"
    saved.write_text(fixture_text("ganeti", "node-groups-one-node.txt"))
    assert ganeti.group_members(source=str(saved)) == {"node1.guest.example.net": "rack1"}
    assert table.argvs() == [list(GROUP_LIST)]


def test_a_node_without_ping_is_refused_naming_the_package(table, monkeypatch, config_root):
    monkeypatch.setitem(ganeti.__grains__, "id", "hv2.ams1.example.net")
    monkeypatch.setattr(ganeti.salt.utils.path, "which", lambda name: None)
    ret = ganeti_state.node_joinable("hv2.ams1.example.net", REPLICATED)
    assert ret["result"] is False and ret["changes"] == {}
    assert ret["comment"] == (
        "ping is not installed (Debian package iputils-ping, which node.ganeti installs)"
    )
    assert not (config_root / "root/.ssh/authorized_keys").exists()


# --- A running cluster's parameters (gnt-cluster modify) --------------------------------------

GUEST_INFO = fixture_text("ganeti", "cluster-info-cpu-type-rack1.txt")
INFO = ("gnt-cluster", "info")
# The guest cluster's own values (cluster-info-cpu-type-rack1.txt): nothing to modify.
AS_INITIALISED = {
    **SETTINGS,
    "hypervisor_parameters": {"kvm": {"cpu_type": "Opteron_G2", "kernel_path": ""}},
    "disk_parameters": {"drbd": {"resync-rate": 40960, "c-max-rate": 102400,
                                 "dynamic-resync": False}},
}  # fmt: skip


def guest_info(cpu_type="Opteron_G2"):
    """The guest cluster's captured gnt-cluster info, with its cpu_type as a run made it."""
    return GUEST_INFO.replace("cpu_type: Opteron_G2", f"cpu_type: {cpu_type}")


@pytest.fixture
def running(table, config_root):
    """The guest's cluster, as gnt-cluster info reports it, with hv1 master and hv2 a member."""
    (config_root / "var/lib/ganeti").mkdir(parents=True)
    (config_root / "var/lib/ganeti/config.data").write_text("{}")
    table.node_list.write_text("hv1.ams1.example.net\nhv2.ams1.example.net\n")
    table.answers[INFO] = (0, guest_info(), "")
    return table


def test_parameters_as_the_cluster_reports_them_plan_nothing():
    info = hostnode_ganeti.parse_cluster_info(GUEST_INFO)
    opts = hostnode_ganeti.options(AS_INITIALISED)
    assert hostnode_ganeti.parameter_changes(info, opts) == {}
    assert hostnode_ganeti.modify_argv({}) is None


def test_only_what_differs_is_modified_booleans_as_ganeti_prints_them():
    info = hostnode_ganeti.parse_cluster_info(GUEST_INFO)
    settings = {**AS_INITIALISED, "disk_parameters": {"drbd": {
        "resync-rate": 61440, "c-max-rate": 102400, "dynamic-resync": True}}}  # fmt: skip
    settings["hypervisor_parameters"] = {"kvm": {"cpu_type": "qemu64", "acpi": True}}
    changes = hostnode_ganeti.parameter_changes(info, hostnode_ganeti.options(settings))
    assert changes == {
        "hypervisor_parameters": {"kvm": {"cpu_type": {"old": "Opteron_G2", "new": "qemu64"}}},
        "disk_parameters": {"drbd": {"dynamic-resync": {"old": "False", "new": "true"},
                                     "resync-rate": {"old": "40960", "new": "61440"}}},
    }  # fmt: skip
    assert hostnode_ganeti.modify_argv(changes) == [
        "gnt-cluster", "modify", "--hypervisor-parameters=kvm:cpu_type=qemu64",
        "--disk-parameters=drbd:dynamic-resync=true,resync-rate=61440",
    ]  # fmt: skip


def test_a_parameter_the_cluster_does_not_report_names_the_field():
    info = hostnode_ganeti.parse_cluster_info(GUEST_INFO)
    settings = {**SETTINGS, "hypervisor_parameters": {"kvm": {"cpu_typ": "qemu64"}}}
    with pytest.raises(ValueError) as refused:
        hostnode_ganeti.parameter_changes(info, hostnode_ganeti.options(settings))
    assert str(refused.value) == (
        "hostnode:node:ganeti:hypervisor_parameters:kvm:cpu_typ: not a parameter gnt-cluster "
        "info reports"
    )


def test_before_the_init_there_is_nothing_to_modify(table):
    assert ganeti.modify_cluster(test=True) == {}
    assert table.calls == []


def test_the_state_predicts_the_modify_it_runs_then_nothing(running, monkeypatch):
    settings = {**SETTINGS, "disk_parameters": {"drbd": {"resync-rate": 61440}}}
    modify = [
        "gnt-cluster", "modify", "--hypervisor-parameters=kvm:cpu_type=Haswell-noTSX",
        "--disk-parameters=drbd:resync-rate=61440",
    ]  # fmt: skip
    monkeypatch.setitem(ganeti_state.__opts__, "test", True)
    predicted = ganeti_state.cluster_parameters("ganeti.ams1.example.net", settings)
    assert predicted["result"] is None and running.argvs() == [list(INFO)]
    assert predicted["changes"]["commands"] == [" ".join(modify)]
    assert predicted["changes"]["parameters"]["disk_parameters"] == {
        "drbd": {"resync-rate": {"old": "40960", "new": "61440"}}
    }
    (why,) = predicted["changes"]["cpu_model"]
    assert why == (
        "kvm:cpu_type Opteron_G2 -> Haswell-noTSX: the best model every node runs "
        "(hv1.ams1.example.net, hv2.ams1.example.net, hv3.ams1.example.net); an instance gets "
        "Haswell-noTSX when it next starts, a running one keeps Opteron_G2 until then and "
        "live-migrates only to nodes that run it"
    )
    assert why in predicted["comment"]
    monkeypatch.setitem(ganeti_state.__opts__, "test", False)
    applied = ganeti_state.cluster_parameters("ganeti.ams1.example.net", settings)
    assert applied["result"] is True and applied["changes"] == predicted["changes"]
    assert running.argvs()[-1] == modify
    modified = guest_info("Haswell-noTSX").replace("resync-rate: 40960", "resync-rate: 61440")
    running.answers[INFO] = (0, modified, "")
    again = ganeti_state.cluster_parameters("ganeti.ams1.example.net", settings)
    assert again["result"] is True and again["changes"] == {}


def test_a_lowered_cpu_model_names_the_nodes_that_cannot_run_the_old_one(running, mine):
    running.answers[INFO] = (0, guest_info("Cascadelake-Server-noTSX"), "")
    changes = ganeti.modify_cluster(AS_INITIALISED | {"hypervisor_parameters": {}}, test=True)
    assert changes["commands"] == [
        "gnt-cluster modify --hypervisor-parameters=kvm:cpu_type=Haswell-noTSX"
    ]
    (why,) = changes["cpu_model"]
    assert why.startswith(
        "kvm:cpu_type Cascadelake-Server-noTSX -> Haswell-noTSX: lowered, hv1.ams1.example.net "
        "lacks "
    )
    assert "avx512f" in why and "hv2.ams1.example.net" not in why
    assert running.argvs() == [list(INFO)]


def test_the_members_cpus_count_and_a_member_without_one_stops_the_change(running, mine):
    del mine.cpus["hv2.ams1.example.net"]  # a member, no longer in pillar's nodes
    settings = {**AS_INITIALISED, "nodes": ["hv3.ams1.example.net"], "hypervisor_parameters": {}}
    with pytest.raises(CommandExecutionError, match=r"mine: no hostnode_cpu from hv2\.ams1"):
        ganeti.modify_cluster(settings, test=True)


def test_a_cpu_model_pillar_sets_is_said_to_come_from_pillar(running):
    settings = {**AS_INITIALISED, "hypervisor_parameters": {"kvm": {"cpu_type": "kvm64"}}}
    assert ganeti.modify_cluster(settings, test=True)["cpu_model"] == [
        "kvm:cpu_type Opteron_G2 -> kvm64: set by "
        "hostnode:node:ganeti:hypervisor_parameters:kvm:cpu_type"
    ]
