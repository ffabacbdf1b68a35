"""
An upgrade through ``saltutil.sync_all`` on a real salt-master and a real minion daemon, the master
laid out as docs/install.md says: the next job runs the new shared code with the new module, and
the grain and the beacon (both computed in the minion's main process, which imported the old
shared code at start) move to it as well, with no restart.

Each version of the served tree adds a probe to a copy of the checkout: a constant in a shared
utility (``saltext.hostnode.utils.validate``), a function of the ``beancounters`` module and a
grain that read it, and a wrapper of ``beancounters.events`` that marks the beacon's events.
"""

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
        event["probe"] = _probe_validate.VERSION_PROBE
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
    """The saved beancounters the beacon reads, with shmpages' failcnt set."""
    lines = [
        f"{line.rsplit(' ', 1)[0]} {failcnt}" if line.startswith("shmpages") else line
        for line in COUNTERS.splitlines()
    ]
    source.write_text("\n".join(lines) + "\n")


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
    beacons = {"beancounters": [{"source": str(source)}, {"interval": 1}]}
    with master.started(start_timeout=120):
        minion = master.salt_minion_daemon(MINION, overrides={"beacons": beacons})
        with minion.started(start_timeout=180):
            yield master, master.salt_cli(timeout=120), clone, originals, source


def call(cli, *args):
    result = cli.run(*args, minion_tgt=MINION)
    assert result.returncode == 0, result.stderr
    return result.data


def beacon_event(master, event_listener, source, failcnt):
    """Raise shmpages' failcnt in the saved counters; the beacon's event for it."""
    start = time.time()
    counters(source, failcnt)
    tag = f"salt/beacon/{MINION}/beancounters/70160/shmpages/failcnt"
    matched = event_listener.wait_for_events([(master.id, tag)], timeout=60, after_time=start)
    assert matched.found_all_events, f"no {tag} event within 60 s"
    return matched.matches[-1].data


def test_a_sync_takes_effect_on_the_next_job_grain_and_beacon(fleet, event_listener):
    master, cli, clone, originals, source = fleet
    call(cli, "saltutil.sync_all")
    assert call(cli, "beancounters.version_probe") == ["module one", "one"]
    assert call(cli, "grains.get", "hostnode_version_probe") == "one"

    serve(clone, originals, VERSIONS[1])
    synced = call(cli, "saltutil.sync_all")
    assert "modules.beancounters" in synced["modules"]
    assert "utils.saltext.hostnode.utils.validate" in synced["utils"]

    assert call(cli, "beancounters.version_probe") == ["module version-two", "version-two"]
    assert call(cli, "grains.get", "hostnode_version_probe") == "version-two"
