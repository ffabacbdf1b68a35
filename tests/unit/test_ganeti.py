"""Ganeti: the parsers, the init and add-node plans by exact argv, the module and its states."""

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

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
    "--nic-parameters=link=br0100", "--hypervisor-parameters=kvm:initrd_path=,kernel_path=",
    "ganeti.ams1.example.net",
]  # fmt: skip
LIST = ("gnt-node", "list", "--no-headers", "--separator=|", "-o",
        "name,pip,sip,master_candidate,offline,drained")  # fmt: skip
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
    assert hostnode_ganeti.init_argv(hostnode_ganeti.options(SETTINGS)) == INIT
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


def test_add_plans_only_non_members():
    wanted = ["hv2.ams1.example.net", "hv3.ams1.example.net"]
    assert hostnode_ganeti.plan_add(["hv1.ams1.example.net"], wanted) == [
        ["gnt-node", "add", "--no-ssh-key-check", "hv2.ams1.example.net"],
        ["gnt-node", "add", "--no-ssh-key-check", "hv3.ams1.example.net"],
    ]
    assert hostnode_ganeti.plan_add(["HV2.ams1.example.net"], wanted) == [
        ["gnt-node", "add", "--no-ssh-key-check", "hv3.ams1.example.net"]
    ]
    assert hostnode_ganeti.plan_add(["hv1.ams1.example.net", *wanted], wanted) == []


class GanetiTable(CommandTable):
    """
    gnt-cluster init writes config.data and the ssconf node list as the real one does; gnt-node
    add makes a member (the master rewrites its ssconf node list).
    """

    def __init__(self, config_root):
        super().__init__({LIST: (0, MASTER_ONLY, "")})
        self.config_data = config_root / "var/lib/ganeti/config.data"
        self.node_list = config_root / "var/lib/ganeti/ssconf_node_list"
        self.cluster_name = config_root / "var/lib/ganeti/ssconf_cluster_name"

    def __call__(self, argv, python_shell=False, stdin=None, **options):
        result = super().__call__(argv, python_shell, stdin, **options)
        if argv[:2] == ["gnt-cluster", "init"]:
            if self.config_data.exists():
                return {"retcode": 1, "stdout": "", "stderr": "Cluster is already initialised",
                        "pid": 1}  # fmt: skip
            self.config_data.parent.mkdir(parents=True)
            self.config_data.write_text("{}")
            self.node_list.write_text("hv1.ams1.example.net\n")
            self.cluster_name.write_text(argv[-1])
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
    dunders["__salt__"]["ganeti.init_cluster"] = ganeti.init_cluster
    dunders["__salt__"]["ganeti.add_node"] = ganeti.add_node
    return {ganeti: dunders, ganeti_state: {**dunders, "__opts__": {"test": False}}}


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


def test_node_member_adds_only_the_missing_then_nothing(table, monkeypatch):
    ganeti.init_cluster()
    monkeypatch.setitem(ganeti_state.__opts__, "test", True)
    predicted = ganeti_state.node_member("members")
    adds = [
        "gnt-node add --no-ssh-key-check hv2.ams1.example.net",
        "gnt-node add --no-ssh-key-check hv3.ams1.example.net",
    ]
    assert predicted["changes"] == {"commands": adds} and predicted["result"] is None
    monkeypatch.setitem(ganeti_state.__opts__, "test", False)
    applied = ganeti_state.node_member("members")
    assert applied["changes"] == predicted["changes"] and applied["result"] is True
    assert ganeti_state.node_member("members")["changes"] == {}
    assert [a for a in table.argvs() if a[:2] == ["gnt-node", "add"]] == [
        cmd.split() for cmd in adds
    ]


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
