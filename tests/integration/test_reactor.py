"""
The zero-touch join's trigger: a real salt-master of its own, configured with the reactor lines
docs/node-bootstrap.md gives (and `test: True`, so the orchestration only predicts), and one
minion starting. Its start event fires formulas/node/reactor/minion_start.sls, which runs
node.orchestrate for that minion alone: fra1's master hv1 gets its highstate and its cluster's
init, and nothing else is targeted.
"""

import time

import pytest

from support import REPO, documented_reactor, fleet_minion_root, master_file_roots

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FRA1 = "hv1.fra1.example.net"


@pytest.fixture
def reactor_master(salt_factories, tmp_path):
    _, file_roots = master_file_roots(tmp_path / "srv")
    overrides = {"file_roots": file_roots, "pillar_roots": {"base": [str(REPO / "pillar.example")]},
                 "reactor": documented_reactor(), "test": True}  # fmt: skip
    factory = salt_factories.salt_master_daemon("hostnode-reactor-master", overrides=overrides)
    with factory.started(start_timeout=120):
        yield factory


def test_a_starting_minion_is_orchestrated_alone(reactor_master, event_listener, tmp_path):
    root = fleet_minion_root(tmp_path / "root", FRA1)
    overrides = {"hostnode": {"config_root": str(root)}, "grains": {"roles": ["hypervisor"]}}
    minion = reactor_master.salt_minion_daemon(FRA1, overrides=overrides)
    start = time.time()
    with minion.started(start_timeout=180):
        pattern = [(reactor_master.id, "salt/run/*/ret")]
        deadline = start + 300
        while time.time() < deadline:
            done = [e for e in event_listener.get_events(pattern, after_time=start)
                    if e.data.get("fun") == "runner.state.orchestrate"]  # fmt: skip
            if done:
                break
            time.sleep(2)
        else:
            pytest.fail("the reactor ran no orchestration within 300 s of the minion's start")
    (event,) = done
    (steps,) = event.data["return"]["data"].values()
    ids = sorted((s["__run_num__"], s["__id__"]) for s in steps.values())
    assert [i for _, i in ids] == [
        f"hostnode-orchestrate-highstate-{FRA1}", f"hostnode-orchestrate-cpus-{FRA1}",
        f"hostnode-orchestrate-ganeti-{FRA1}",
    ]  # fmt: skip
    (ganeti,) = [s for s in steps.values() if s["__id__"].endswith(f"ganeti-{FRA1}")]
    assert ganeti["result"] is None, ganeti
    (states,) = ganeti["changes"]["ret"].values()
    commands = [c for s in states.values() for c in s["changes"].get("commands", [])]
    assert len(commands) == 1 and commands[0].startswith("gnt-cluster init ")
    assert "--secondary-ip=10.2.1.11" in commands[0]
    assert "kvm:cpu_type=" in commands[0]  # from the grain the minion published once synced
    assert not (root / "var/lib/ganeti").exists()
