"""
A real salt-master and two minions: the master serves this checkout as file_roots (the way a
user installs hostnode from gitfs or a clone), minions sync our modules with saltutil.sync_all,
and each minion gets its own pillar from pillar.example (one with the ams1 site override).
"""

import shutil

import pytest

from support import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MINIONS = {
    "node1.fra1.example.net": ["198.51.100.0/24", "2001:db8:100::/64"],
    "node2.ams1.example.net": ["203.0.113.0/25", "2001:db8:200::/64"],
}

# node2 has the storage-client role (pillar.example/role/storage-client.sls).
GRAINS = {"node2.ams1.example.net": {"roles": ["storage-client"]}}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """What a user puts in the master's file_roots: the extension dirs and the formulas."""
    root = tmp_path_factory.mktemp("file-roots")
    for name in ("_modules", "_states", "_grains", "_utils", "_beacons", "formulas"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def master(salt_factories, served):
    overrides = {
        "file_roots": {"base": [str(served / "formulas"), str(served)]},
        "pillar_roots": {"base": [str(REPO / "pillar.example")]},
    }
    factory = salt_factories.salt_master_daemon("hostnode-master", overrides=overrides)
    with factory.started(start_timeout=120):
        yield factory


@pytest.fixture(scope="module")
def minions(master, tmp_path_factory):
    started = []
    for minion_id in MINIONS:
        root = tmp_path_factory.mktemp(minion_id)
        (root / "etc/network").mkdir(parents=True)
        (root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")
        overrides = {"hostnode": {"config_root": str(root)}, "grains": GRAINS.get(minion_id, {})}
        factory = master.salt_minion_daemon(minion_id, overrides=overrides)
        factory.start(start_timeout=120)
        started.append(factory)
    yield started
    for factory in started:
        factory.terminate()


@pytest.fixture(scope="module")
def salt_cli(master, minions):
    cli = master.salt_cli(timeout=120)
    synced = cli.run("saltutil.sync_all", minion_tgt="*")
    assert synced.returncode == 0, synced.stderr
    for minion_id in MINIONS:
        assert "modules.anyip" in synced.data[minion_id]["modules"]
    return cli


def test_each_minion_predicts_its_own_prefixes(salt_cli):
    result = salt_cli.run("state.apply", "anyip", "test=True", minion_tgt="*")
    assert result.returncode == 0, result.stderr
    for minion_id, prefixes in MINIONS.items():
        (state,) = result.data[minion_id].values()
        assert state["result"] is None, state["comment"]
        added = state["changes"]["routes"]["added"]
        assert added == prefixes, f"{minion_id} would add {added}"
        assert state["changes"]["file"]["backend"] == "ifupdown"
        for prefix in prefixes:
            assert f"local {prefix} dev lo" in state["changes"]["file"]["diff"]


def test_synced_grain_reports_the_backend(salt_cli):
    result = salt_cli.run("grains.get", "hostnode_net_backend", minion_tgt="*")
    assert result.data == {minion_id: "ifupdown" for minion_id in MINIONS}


def test_the_storage_client_role_names_its_san_nics(salt_cli):
    result = salt_cli.run("state.apply", "storage_net", "test=True", minion_tgt="*")
    assert result.returncode == 0, result.stderr
    (plain,) = result.data["node1.fra1.example.net"].values()
    (storage,) = result.data["node2.ams1.example.net"].values()
    assert plain["result"] in (True, None), plain["comment"]
    assert "stor-a" not in plain["changes"].get("file", {}).get("diff", "")
    assert storage["result"] is None, storage["comment"]
    diff = storage["changes"]["file"]["diff"]
    assert "+net.ipv4.conf.stor-a.rp_filter = 0" in diff
    assert "+net.ipv4.conf.stor-b.arp_ignore = 1" in diff
