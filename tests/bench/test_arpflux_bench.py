"""
Tuning 200 interfaces (veths in a namespace) for multipath, in one run: arpflux.tuned against
the same settings made with Salt's own sysctl.present, one state per interface and key, both
persisting (sysctl.present into a file of the test's own, never the host's /etc/sysctl.d).
Both go through state.template_str in one process. Prints times and ratios; `make bench`.
"""

import pytest
from benchlib import ROUNDS, measure, run_sls

pytestmark = [pytest.mark.bench, pytest.mark.netns]

COUNT = 200
VALUES = {"rp_filter": 2, "arp_ignore": 1, "arp_announce": 2}


def storage_node(netns_factory):
    node = netns_factory()
    batch = "".join(f"link add stor{i} type veth peer name peer{i}\n" for i in range(COUNT))
    node.exec(["ip", "-batch", "-"], stdin=batch)
    return node


def tuned_sls(names):
    return (
        "arpflux-bench:\n  arpflux.tuned:\n"
        f"    - interfaces: [{', '.join(names)}]\n"
        "    - values: {rp_filter: 2, arp_ignore: 1, arp_announce: 2}\n"
    )


def sysctl_present_sls(names, config):
    return "".join(
        f"{name}-{key}:\n  sysctl.present:\n    - name: net.ipv4.conf.{name}.{key}\n"
        f"    - value: {value}\n    - config: {config}\n"
        for name in names
        for key, value in VALUES.items()
    )


def test_tune_200_interfaces(netns_factory, loaders, tmp_path):
    names = [f"stor{i}" for i in range(COUNT)]
    ours_sls = tuned_sls(names)
    salts_sls = sysctl_present_sls(names, tmp_path / "99-salt-bench.conf")

    def make_node():
        return storage_node(netns_factory)

    ours = measure(make_node, lambda: run_sls(loaders, ours_sls))
    salts = measure(make_node, lambda: run_sls(loaders, salts_sls))
    print(f"\ntune {COUNT} interfaces x {len(VALUES)} keys, median of {ROUNDS} rounds")
    print(f"{'':34}{'first run':>11}{'no-op run':>11}")
    print(f"{'arpflux.tuned (one state)':34}{ours[0]:10.3f}s{ours[1]:10.3f}s")
    label = f"sysctl.present ({COUNT * len(VALUES)} states)"
    print(f"{label:34}{salts[0]:10.3f}s{salts[1]:10.3f}s")
    print(
        f"arpflux.tuned is {salts[0] / ours[0]:.0f}x faster on the first run, "
        f"{salts[1] / ours[1]:.0f}x on a no-op run"
    )
    assert ours[0] < salts[0]
