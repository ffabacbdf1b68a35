"""
The fleet at scale on one machine: ``salt -L <minions> state.highstate test=True`` from the
session's real salt-master (tests/conftest.py: formulas/ and pillar.example) to 2, 5 and 10
minions of this case's own (under make test, 1 of the session's), the fleet test's two sites
times two roles repeated under new host numbers (hv11.ams1, stor11.ams1, hv11.fra1, ...,
hv13.ams1). Rows: the wall time of the salt command, against ``test.ping`` of the same minions
(Salt's round trip); the note holds the peak memory while it ran, RSS and PSS summed over the
process trees of the master and of the targeted minions. Target: 10 minions complete on this
2-core machine.
"""

import contextlib
import functools
import threading

import psutil
import pytest
from benchlib import FULL, growth, record, samples, sizes

from support import MINIONS, fleet_minion_root

pytestmark = [pytest.mark.bench, pytest.mark.integration]

SIZES = sizes(full=[2, 5, 10], tiny=[1])
MIB = 1024 * 1024


def fleet_ids(count):
    """count minion ids, MINIONS' four (host number 1) repeated with host numbers 11, 12, ..."""
    templates = list(MINIONS.items())
    fleet = {}
    for index in range(count):
        template, grains = templates[index % len(templates)]
        host, domain = template.split(".", 1)
        fleet[f"{host.rstrip('0123456789')}{11 + index // len(templates)}.{domain}"] = grains
    return fleet


@pytest.fixture
def fleet(request):
    """
    make bench: this case's own minions; make test: one of the session's minions, started and
    synced once for the integration tests too (tiny and quick).
    """
    if FULL:
        return request.getfixturevalue("own_fleet")
    request.getfixturevalue("salt_cli")  # synced before our highstate, as they expect
    return request.getfixturevalue("minions")[:1]


@pytest.fixture
def own_fleet(master, tmp_path):
    """The minions of the largest size, started one after the other (each takes ~5 s)."""
    started = []
    try:
        for minion_id, grains in fleet_ids(max(SIZES)).items():
            root = fleet_minion_root(tmp_path / minion_id, minion_id)
            overrides = {"hostnode": {"config_root": str(root)}, "grains": grains}
            factory = master.salt_minion_daemon(minion_id, overrides=overrides)
            factory.start(start_timeout=180)
            started.append(factory)
        yield started
    finally:
        for factory in started:
            factory.terminate()


def tree_memory(pid):
    """RSS and PSS of pid and all its descendants, in bytes (0, 0 when it is gone)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    rss = pss = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            memory = process.memory_full_info()
            rss, pss = rss + memory.rss, pss + memory.pss
    return rss, pss


class PeakMemory(threading.Thread):
    """
    While in its with block, sampled every half second: the peak RSS and PSS summed over each
    group's process trees, ``{group: [rss, pss]}`` in bytes. Summed RSS counts the pages that
    forked processes share once per process; PSS shares them out.
    """

    def __init__(self, groups):
        super().__init__(daemon=True)
        self.groups = groups
        self.peak = {name: [0, 0] for name in groups}
        self.done = threading.Event()

    def sample(self):
        for name, pids in self.groups.items():
            sums = [sum(values) for values in zip(*map(tree_memory, pids), strict=True)]
            self.peak[name] = [max(pair) for pair in zip(self.peak[name], sums, strict=True)]

    def run(self):
        while not self.done.wait(0.5):
            self.sample()

    def __enter__(self):
        self.sample()
        self.start()
        return self

    def __exit__(self, *_):
        self.done.set()
        self.join()
        self.sample()


def highstate_test(cli, ids):
    """state.highstate test=True on ids: each must answer with its rendered states."""
    result = cli.run("-L", "state.highstate", "test=True", minion_tgt=",".join(ids), _timeout=900)
    # salt-factories unwraps the answer of a single minion
    returned = result.data if len(ids) > 1 else {ids[0]: result.data}
    assert set(returned) == set(ids), result.stderr
    unrendered = {i: r for i, r in returned.items() if not isinstance(r, dict)}
    assert not unrendered, unrendered


def ping(cli, ids):
    result = cli.run("-L", "test.ping", minion_tgt=",".join(ids), _timeout=120)
    returned = result.data if len(ids) > 1 else {ids[0]: result.data}
    assert returned == dict.fromkeys(ids, True), result.stderr


def test_highstate_test_of_the_fleet(master, fleet):
    cli = master.salt_cli(timeout=900)
    ids = [factory.id for factory in fleet]
    if FULL:
        highstate_test(cli, ids)  # warm up: modules synced, formulas in every minion's cache
    for count in SIZES:
        targets = ids[:count]
        groups = {"master": [master.pid], "minions": [f.pid for f in fleet[:count]]}
        record(f"fleet.test_ping.{count}", samples(functools.partial(ping, cli, targets)))
        with PeakMemory(groups) as memory:
            seconds = samples(functools.partial(highstate_test, cli, targets))
        (master_rss, master_pss), (minions_rss, minions_pss) = (
            [value / MIB for value in memory.peak[group]] for group in ("master", "minions")
        )
        note = (f"peak RSS (PSS): master {master_rss:.0f} ({master_pss:.0f}) MiB, {count} "
                f"minions {minions_rss:.0f} ({minions_pss:.0f}) MiB, "
                f"{minions_pss / count:.0f} MiB PSS each")  # fmt: skip
        row = record(f"fleet.highstate_test.{count}", seconds,
                     baseline=f"fleet.test_ping.{count}", note=note)  # fmt: skip
        print(f"\nhighstate test=True, {count} minions: {row['median_s']:.2f} s; {note}")
    growth("fleet.highstate_test")
    growth("fleet.test_ping")
