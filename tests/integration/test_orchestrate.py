"""
The Ganeti orchestration (formulas/node/orchestrate.sls) from the session's real master over
its fleet (conftest.py) and a third hypervisor of ams1 started here: ams1's cluster is hv1 (its
master), hv2 and hv3 in two node groups (rack1: hv1, hv2; rack2: hv3), fra1's is hv1 alone;
the storage nodes are in none.

Each node publishes real SSH keys (ssh-keygen under its config root) and its CPU (the grain
hostnode_cpu) through the real mine (pillar mine_functions). Under test=True the orchestration
lists `gnt-cluster init` for each master, with the KVM CPU model the cluster's nodes share,
each group add and assign once, and `gnt-node add` once for each other node (into its group),
after their host keys go into the master's Ganeti known_hosts. After an init (simulated: what
a real `gnt-cluster init` leaves on the master, its config.data and ssconf node list, under
the master minion's config root) the cluster's parameters and the groups are read with
Ganeti's own tools, which this machine lacks: the step says so and adds no node, on fra1 too.
A node that publishes no host key refuses the add step: no node is added.
"""

import json
import pathlib
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AMS1, FRA1 = "hv1.ams1.example.net", "hv1.fra1.example.net"
HV2, HV3 = "hv2.ams1.example.net", "hv3.ams1.example.net"
ADD_HV2 = f"gnt-node add --node-group=rack1 {HV2}"
ADD_HV3 = f"gnt-node add --node-group=rack2 {HV3}"
GROUPS_AMS1 = ["gnt-group add rack1", "gnt-group add rack2", f"gnt-group assign-nodes rack1 {AMS1}"]
INIT_AMS1 = (
    "gnt-cluster init --no-etc-hosts --master-netdev=br0100 --enabled-hypervisors=kvm "
    "--enabled-disk-templates=plain,drbd --vg-name=xenvg --drbd-usermode-helper=/bin/true "
    "--nic-parameters=link=br0100 "
    "--hypervisor-parameters=kvm:cpu_type={model},initrd_path=,kernel_path= "
    "--disk-parameters=drbd:c-max-rate=102400,resync-rate=61440 ganeti.ams1.example.net"
)
INIT_FRA1 = (
    "gnt-cluster init --no-etc-hosts --master-netdev=br0300 --enabled-hypervisors=kvm "
    "--enabled-disk-templates=plain --vg-name=xenvg --nic-parameters=link=br0300 "
    "--secondary-ip=10.2.1.11 "
    "--hypervisor-parameters=kvm:cpu_type={model},initrd_path=,kernel_path= "
    "ganeti.fra1.example.net"
)


def publish_keys(salt_cli, roots, nodes, host=True):
    """Real host keys (ssh-keygen) under each node's config root, or none; then mine.update."""
    for node in nodes:
        ssh = roots[node] / "etc/ssh"
        ssh.mkdir(parents=True, exist_ok=True)
        for key in ssh.glob("ssh_host_*"):
            key.unlink()
        if host:
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            str(ssh / "ssh_host_ed25519_key")], check=True)  # fmt: skip
    for node in nodes:
        updated = salt_cli.run("mine.update", minion_tgt=node)
        assert updated.returncode == 0, updated.stderr


@pytest.fixture(scope="module")
def model(salt_cli, hv3):
    """The KVM CPU model every minion here runs (one host: all share its CPU), as the cluster
    master computes it from the mine (each minion publishes hostnode_cpu)."""
    for node in (AMS1, HV2, HV3, FRA1):
        assert salt_cli.run("mine.update", minion_tgt=node).returncode == 0
    chosen = salt_cli.run("ganeti.common_cpu_model", minion_tgt=AMS1)
    assert chosen.returncode == 0, chosen.stderr
    return chosen.data["model"]


@pytest.fixture
def orchestrate(master, salt_cli, hv3):
    cli = master.salt_run_cli(timeout=600)

    def run():
        result = cli.run("state.orchestrate", "node.orchestrate", "test=True")
        # The highstate steps predict failures here (no bond0 on this machine: test_fleet.py);
        # test=True still shows the cluster steps, which do not depend on them.
        assert isinstance(result.data, dict), result.stderr
        (steps,) = result.data["data"].values()
        return steps

    return run


@pytest.fixture
def config_roots(minions, hv3, salt_cli, model):
    """Each minion's config root, with no Ganeti cluster on it; hv2 and hv3 publish keys."""
    roots = {f.id: pathlib.Path(f.config["hostnode"]["config_root"]) for f in [*minions, hv3]}
    for root in roots.values():
        shutil.rmtree(root / "var/lib/ganeti", ignore_errors=True)
    publish_keys(salt_cli, roots, [HV2, HV3])
    return roots


def initialised(config_root, members):
    """What gnt-cluster init (and gnt-node add) leave on the master that the plan reads."""
    ganeti = config_root / "var/lib/ganeti"
    ganeti.mkdir(parents=True, exist_ok=True)
    (ganeti / "config.data").write_text("{}\n")
    (ganeti / "ssconf_node_list").write_text("".join(f"{m}\n" for m in members))


def planned(steps, kind="ganeti"):
    """{master: [commands]} of the orchestration's init or ganeti steps (no changes: [])."""
    found = {}
    for step in steps.values():
        master = step["__id__"].removeprefix(f"hostnode-orchestrate-{kind}-")
        if master == step["__id__"]:
            continue
        assert step["result"] is not False, json.dumps(step, indent=1)[:3000]
        states = step["changes"].get("ret", {}).get(master, {})
        found[master] = [c for s in states.values() for c in s["changes"].get("commands", [])]
    return found


def test_the_steps_of_each_cluster_in_order(orchestrate, config_roots):
    steps = orchestrate()
    order = [s["__id__"] for s in sorted(steps.values(), key=lambda s: s["__run_num__"])]
    assert order == [
        *(f"hostnode-orchestrate-{step}-{AMS1}"
          for step in ("highstate", "cpus", "init", "mine", "join", "ganeti")),
        *(f"hostnode-orchestrate-{step}-{FRA1}" for step in ("highstate", "cpus", "ganeti")),
    ]  # fmt: skip
    highstated = steps[f"salt_|-hostnode-orchestrate-highstate-{AMS1}_|-hostnode-orchestrate-"
                       f"highstate-{AMS1}_|-state"]["changes"]["ret"]  # fmt: skip
    assert sorted(highstated) == [AMS1, HV2, HV3]
    joined = next(s for s in steps.values() if s["__id__"].startswith("hostnode-orchestrate-join"))
    assert sorted(joined["changes"]["ret"]) == [HV2, HV3]
    for node in (HV2, HV3):  # before the init, the master has no root key to publish yet
        (state,) = joined["changes"]["ret"][node].values()
        assert state["changes"] == {
            "authorized_keys": f"the root key {AMS1} makes at gnt-cluster init"
        }


def test_three_nodes_one_init_and_each_group_and_add_once_after_its_host_keys(
    orchestrate, config_roots, model
):
    steps = orchestrate()
    init_ams1, init_fra1 = INIT_AMS1.format(model=model), INIT_FRA1.format(model=model)
    assert planned(steps, "init") == {AMS1: [init_ams1]}
    # test=True: the init is not done, so the last step predicts it as well
    assert planned(steps) == {AMS1: [init_ams1, *GROUPS_AMS1, ADD_HV2, ADD_HV3], FRA1: [init_fra1]}
    ganeti = steps[f"salt_|-hostnode-orchestrate-ganeti-{AMS1}_|-hostnode-orchestrate-ganeti-"
                   f"{AMS1}_|-state"]["changes"]["ret"][AMS1]  # fmt: skip
    (members,) = [s for s in ganeti.values() if s["__id__"] == "hostnode-ganeti-members"]
    for node in (HV2, HV3):
        key = (config_roots[node] / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2]
        assert f"+{node} {' '.join(key)}\n" in members["changes"]["known_hosts"]


def test_after_an_init_groups_need_ganetis_tools_and_no_node_is_added(
    orchestrate, config_roots, model
):
    initialised(config_roots[AMS1], [AMS1])
    initialised(config_roots[FRA1], [FRA1])
    steps = orchestrate()
    assert planned(steps, "init") == {AMS1: []}
    ganeti = steps[f"salt_|-hostnode-orchestrate-ganeti-{AMS1}_|-hostnode-orchestrate-ganeti-"
                   f"{AMS1}_|-state"]  # fmt: skip
    by_id = {s["__id__"]: s for s in ganeti["changes"]["ret"][AMS1].values()}
    assert by_id["hostnode-ganeti-groups"]["result"] is False
    assert by_id["hostnode-ganeti-groups"]["comment"].startswith("gnt-group is not installed")
    assert by_id["hostnode-ganeti-members"]["result"] is False  # its requisite failed
    assert by_id["hostnode-ganeti-members"]["changes"] == {}
    assert by_id["hostnode-ganeti-parameters"]["result"] is False
    assert by_id["hostnode-ganeti-parameters"]["comment"].startswith("gnt-cluster is not installed")
    (fra1,) = [s for s in steps.values() if s["__id__"] == f"hostnode-orchestrate-ganeti-{FRA1}"]
    fra1_by_id = {s["__id__"]: s for s in fra1["changes"]["ret"][FRA1].values()}
    assert fra1_by_id["hostnode-ganeti-parameters"]["result"] is False
    assert all(s["changes"] == {} for s in fra1_by_id.values())


def test_a_node_without_host_keys_in_the_mine_refuses_the_add(orchestrate, config_roots, salt_cli):
    publish_keys(salt_cli, config_roots, [HV3], host=False)
    steps = orchestrate()
    (step,) = [s for s in steps.values() if s["__id__"] == f"hostnode-orchestrate-ganeti-{AMS1}"]
    assert step["result"] is False
    (members,) = [s for s in step["changes"]["ret"][AMS1].values()
                  if s["__id__"] == "hostnode-ganeti-members"]  # fmt: skip
    assert members["result"] is False and members["changes"] == {}
    assert members["comment"] == (
        f"{HV3}: no SSH host key in the Salt mine (ganeti.ssh_keys): not added, nothing changed"
    )
