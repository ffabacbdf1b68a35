"""
An upgrade through ``saltutil.sync_all`` on a real salt-master and a real minion daemon, the master
laid out as docs/install.md says: the next job runs the new shared code with the new module, and
the grain and the beacon (both computed in the minion's main process, which imported the old
shared code at start) move to it as well, with no restart.

Each version of the served tree adds a probe to a copy of the checkout: a constant in a shared
utility (``saltext.hostnode.utils.validate``), a function of the ``beancounters`` module and a
grain that read it, and a wrapper of ``beancounters.events`` that adds the module's probe to the
beacon's events.
"""

import itertools
import time

import pytest

from support import FIXTURES, master_file_roots

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MINION = "upgrade.fra1.example.net"
UTILITY = "_utils/saltext/hostnode/utils/validate.py"
MODULE = "_modules/beancounters.py"
GRAIN = "_grains/hostnode_net.py"
# The versions differ in size too: Python trusts a cached .pyc whose source has the same size and
# the same mtime to the second.
VERSIONS = ("one", "version-two")

PROBES = {
    UTILITY: '\nVERSION_PROBE = "{version}"\n',
    MODULE: """
from saltext.hostnode.utils import validate as _probe_validate


def version_probe():
    return "module {version}", _probe_validate.VERSION_PROBE


_events = events


def events(previous=None, threshold=0.9, source=None):
    result = _events(previous, threshold, source)
    for event in result["events"]:
        event["probe"] = version_probe()
    return result
""",
    GRAIN: """
from saltext.hostnode.utils import validate as _probe_validate


def hostnode_version_probe():
    return {{"hostnode_version_probe": _probe_validate.VERSION_PROBE}}
""",
}

COUNTERS = (FIXTURES / "beancounters/forum-ct70160-failcnt.txt").read_text()


def serve(clone, originals, version):
    for path, probe in PROBES.items():
        (clone / path).write_text(originals[path] + probe.format(version=version))


def counters(source, failcnt):
    """The saved beancounters the beacon reads, with shmpages' failcnt set (atomically)."""
    lines = [
        f"{line.rsplit(' ', 1)[0]} {failcnt}" if line.startswith("shmpages") else line
        for line in COUNTERS.splitlines()
    ]
    draft = source.with_name(source.name + ".new")
    draft.write_text("\n".join(lines) + "\n")
    draft.replace(source)


@pytest.fixture(scope="module")
def fleet(salt_factories, tmp_path_factory):
    root = tmp_path_factory.mktemp("upgrade")
    clone, file_roots = master_file_roots(root)
    originals = {path: (clone / path).read_text() for path in PROBES}
    serve(clone, originals, VERSIONS[0])
    (root / "pillar").mkdir()
    source = root / "user_beancounters"
    counters(source, 0)
    master = salt_factories.salt_master_daemon(
        "upgrade-master",
        overrides={"file_roots": file_roots, "pillar_roots": {"base": [str(root / "pillar")]}},
    )
    # No interval: Salt counts a beacon's interval in loop_intervals (salt-factories sets 0.05 s)
    # while the minion runs its beacons once a second, so `interval: 1` would be one look in 20 s.
    beacons = {"beancounters": [{"source": str(source)}]}
    with master.started(start_timeout=120):
        minion = master.salt_minion_daemon(MINION, overrides={"beacons": beacons})
        with minion.started(start_timeout=180):
            yield master, master.salt_cli(timeout=120), clone, originals, source


def call(cli, *args):
    result = cli.run(*args, minion_tgt=MINION)
    assert result.returncode == 0, result.stderr
    return result.data


# shmpages' failcnt only grows, as the kernel's does.
FAILCNT = itertools.count(1)
BEACON_TAG = f"salt/beacon/{MINION}/beancounters/70160/shmpages/failcnt"


def beacon_probe(master, event_listener, source, version):
    """
    The probe of the first beacon event sent through the module of version. shmpages' failcnt
    grows twice a second until one reaches the master: the beacon looks once a second, and its
    first look after a sync only records (the refreshed beacons start with an empty __context__).
    """
    start = time.time()
    while time.time() < start + 30:
        counters(source, next(FAILCNT))
        time.sleep(0.5)
        sent = [
            event
            for event in event_listener.get_events([(master.id, BEACON_TAG)], after_time=start)
            if event.data["probe"][0] == f"module {version}"
        ]
        if sent:
            return min(sent, key=lambda event: event.stamp).data["probe"]
    pytest.fail(f"no {BEACON_TAG} event from module {version} within 30 s")


def probes(master, cli, event_listener, source, version):
    """What the next job, the grain and the beacon's next event read (module of version)."""
    return {
        "job": call(cli, "beancounters.version_probe"),
        "grain": call(cli, "grains.get", "hostnode_version_probe"),
        "beacon": beacon_probe(master, event_listener, source, version),
    }


def expected(version):
    return {
        "job": [f"module {version}", version],
        "grain": version,
        "beacon": [f"module {version}", version],
    }


def test_a_sync_takes_effect_on_the_next_job_grain_and_beacon(fleet, event_listener):
    master, cli, clone, originals, source = fleet
    call(cli, "saltutil.sync_all")
    assert probes(master, cli, event_listener, source, VERSIONS[0]) == expected(VERSIONS[0])

    serve(clone, originals, VERSIONS[1])
    synced = call(cli, "saltutil.sync_all")
    assert "modules.beancounters" in synced["modules"]
    assert "utils.saltext.hostnode.utils.validate" in synced["utils"]

    assert probes(master, cli, event_listener, source, VERSIONS[1]) == expected(VERSIONS[1])
