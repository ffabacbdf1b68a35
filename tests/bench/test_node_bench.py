"""
Our cost on a converged node against Salt's own: a no-op ``state.highstate`` of the sandbox node
(tests/sandbox_node.py: hypervisor hv1.ams1.example.net of pillar.example with every formula its
role runs on this kernel: identity, kernel, bridges, lvm, anyip, storage_net.arpflux) against
``state.apply`` of an empty SLS on the same minion, Salt's fixed cost of any state run (start,
loaders, grains, pillar). Both are whole ``bin/hostnode-call`` runs, timed from outside, their
rounds interleaved. Our overhead is (no-op - empty) / empty; the target is at most 50%.

Sizes: the node's VLANs, a bridge each (2 as in site ams1, then 16 and 64), the one part of a
node's pillar that grows from node to node.
"""

import contextlib
import shutil

import pytest
import yaml
from benchlib import FULL, growth, record, samples, sizes
from sandbox_node import Sandbox

from support import REPO

pytestmark = [pytest.mark.bench, pytest.mark.netns]

EMPTY_SLS = "hostnode_bench_empty"
# Whole salt-call runs on a shared 2-core machine vary by a second: more rounds than ROUNDS.
NODE_ROUNDS = 5 if FULL else 1


@contextlib.contextmanager
def sandbox(base, vlans):
    """A started sandbox node whose file_roots also serve an empty SLS."""
    node = Sandbox(base, vlans=range(100, 100 + vlans))
    extra = base / "file-roots"
    extra.mkdir(parents=True)
    (extra / f"{EMPTY_SLS}.sls").write_text("")
    (node.home / "minion.d").mkdir(parents=True)
    roots = [str(REPO / "formulas"), str(REPO / "formulas/top"), str(extra)]
    (node.home / "minion.d/bench.conf").write_text(yaml.safe_dump({"file_roots": {"base": roots}}))
    try:
        node.start()
        yield node
    finally:
        node.stop()


def highstate(node, changes):
    """Run state.highstate; every state must succeed, with changes or (changes=False) none."""
    code, result = node.call("state.highstate")
    assert code == 0, result
    assert all(state["result"] is True for state in result.values()), result
    changed = {s["__id__"] for s in result.values() if s["changes"]}
    assert bool(changed) == changes, changed


def empty_sls(node):
    _, result = node.call("state.apply", EMPTY_SLS)
    assert result == {}  # and exit code 2: Salt's retcode for a run without states


def test_noop_highstate_against_an_empty_sls(tmp_path):
    if shutil.which("nsenter") is None or shutil.which("pvcreate") is None:
        pytest.skip("needs nsenter (util-linux) and pvcreate (lvm2)")
    for vlans in sizes(full=[2, 16, 64], tiny=[2]):
        empty, noop = [], []
        with sandbox(tmp_path / f"vlans-{vlans}", vlans) as node:
            highstate(node, changes=True)
            for _ in range(NODE_ROUNDS):
                empty += samples(lambda: empty_sls(node), rounds=1)
                noop += samples(lambda: highstate(node, changes=False), rounds=1)
        record(f"node.empty_sls.{vlans}", empty)
        row = record(f"node.noop_highstate.{vlans}", noop, baseline=f"node.empty_sls.{vlans}")
        row["note"] = f"our overhead {row['ratio'] - 1:.0%} of Salt's fixed cost (target <= 50%)"
        print(f"\nnode, {vlans} VLANs: no-op highstate {row['median_s']:.2f} s, empty SLS "
              f"{row['median_s'] / row['ratio']:.2f} s: {row['note']}")  # fmt: skip
    growth("node.noop_highstate")
    growth("node.empty_sls")
