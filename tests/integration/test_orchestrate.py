"""
The Ganeti orchestration (formulas/node/orchestrate.sls) from the session's real master over
its fleet (conftest.py): ams1's cluster is hv1 (its master) and hv2, fra1's is hv1 alone; the
storage nodes are in none.

Under test=True it lists `gnt-cluster init` for each master only and `gnt-node add` for the
others; after an init (simulated: what a real `gnt-cluster init` leaves on the master, its
config.data and ssconf node list, under the master minion's config root) it lists only the
nodes that are not members; once all are, it lists no command.
"""

import json
import pathlib

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AMS1, FRA1 = "hv1.ams1.example.net", "hv1.fra1.example.net"
ADD_HV2 = "gnt-node add --no-ssh-key-check hv2.ams1.example.net"
INIT_AMS1 = (
    "gnt-cluster init --no-etc-hosts --master-netdev=br0100 --enabled-hypervisors=kvm "
    "--enabled-disk-templates=plain,drbd --vg-name=xenvg --drbd-usermode-helper=/bin/true "
    "--nic-parameters=link=br0100 --hypervisor-parameters=kvm:initrd_path=,kernel_path= "
    "ganeti.ams1.example.net"
)
INIT_FRA1 = (
    "gnt-cluster init --no-etc-hosts --master-netdev=br0300 --enabled-hypervisors=kvm "
    "--enabled-disk-templates=plain --vg-name=xenvg --nic-parameters=link=br0300 "
    "--hypervisor-parameters=kvm:initrd_path=,kernel_path= ganeti.fra1.example.net"
)


@pytest.fixture
def orchestrate(master, salt_cli):
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
def config_roots(minions):
    return {f.id: pathlib.Path(f.config["hostnode"]["config_root"]) for f in minions}


def initialised(config_root, members):
    """What gnt-cluster init (and gnt-node add) leave on the master that the plan reads."""
    ganeti = config_root / "var/lib/ganeti"
    ganeti.mkdir(parents=True, exist_ok=True)
    (ganeti / "config.data").write_text("{}\n")
    (ganeti / "ssconf_node_list").write_text("".join(f"{m}\n" for m in members))


def planned(steps):
    """{master: [commands]} of the orchestration's cluster steps (a step without changes: [])."""
    found = {}
    for step in steps.values():
        master = step["__id__"].removeprefix("hostnode-orchestrate-ganeti-")
        if master == step["__id__"]:
            continue
        assert step["result"] is not False, json.dumps(step, indent=1)[:3000]
        states = step["changes"].get("ret", {}).get(master, {})
        found[master] = [c for s in states.values() for c in s["changes"].get("commands", [])]
    return found


def test_the_steps_of_each_cluster_in_order(orchestrate):
    steps = orchestrate()
    order = [s["__id__"] for s in sorted(steps.values(), key=lambda s: s["__run_num__"])]
    assert order == [
        f"hostnode-orchestrate-highstate-{AMS1}", f"hostnode-orchestrate-ganeti-{AMS1}",
        f"hostnode-orchestrate-highstate-{FRA1}", f"hostnode-orchestrate-ganeti-{FRA1}",
    ]  # fmt: skip
    highstated = steps[next(k for k in steps if f"highstate-{AMS1}" in k)]["changes"]["ret"]
    assert sorted(highstated) == [AMS1, "hv2.ams1.example.net"]


def test_test_mode_lists_init_for_the_masters_and_add_for_the_others(orchestrate, config_roots):
    for root in config_roots.values():
        assert not (root / "var/lib/ganeti").exists()
    assert planned(orchestrate()) == {AMS1: [INIT_AMS1, ADD_HV2], FRA1: [INIT_FRA1]}


def test_after_an_init_only_the_missing_nodes_then_nothing(orchestrate, config_roots):
    initialised(config_roots[AMS1], [AMS1])
    assert planned(orchestrate()) == {AMS1: [ADD_HV2], FRA1: [INIT_FRA1]}
    initialised(config_roots[AMS1], [AMS1, "hv2.ams1.example.net"])
    initialised(config_roots[FRA1], [FRA1])
    assert planned(orchestrate()) == {AMS1: [], FRA1: []}
