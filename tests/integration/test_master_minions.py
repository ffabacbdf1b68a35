"""
A real salt-master and its fleet (the session's, from conftest.py): the master serves this
checkout as file_roots, minions sync our modules with saltutil.sync_all, and each minion gets
its own pillar from pillar.example by its site (minion id) and role (grain).
"""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PREFIXES = {
    "hv1.fra1.example.net": ["198.51.100.0/24", "2001:db8:100::/64"],
    "stor1.fra1.example.net": ["198.51.100.0/24", "2001:db8:100::/64"],
    "hv1.ams1.example.net": ["203.0.113.0/25", "2001:db8:200::/64"],
    "hv2.ams1.example.net": ["203.0.113.0/25", "2001:db8:200::/64"],
    "stor1.ams1.example.net": ["203.0.113.0/25", "2001:db8:200::/64"],
}


def test_each_minion_predicts_its_own_prefixes(salt_cli):
    result = salt_cli.run("state.apply", "anyip", "test=True", minion_tgt="*")
    assert result.returncode == 0, result.stderr
    for minion_id, prefixes in PREFIXES.items():
        (state,) = result.data[minion_id].values()
        assert state["result"] is None, state["comment"]
        added = state["changes"]["routes"]["added"]
        assert added == prefixes, f"{minion_id} would add {added}"
        assert state["changes"]["file"]["backend"] == "ifupdown"
        for prefix in prefixes:
            assert f"local {prefix} dev lo" in state["changes"]["file"]["diff"]


def test_synced_grain_reports_the_backend(salt_cli):
    result = salt_cli.run("grains.get", "hostnode_net_backend", minion_tgt="*")
    assert result.data == {minion_id: "ifupdown" for minion_id in PREFIXES}


def test_the_hypervisor_role_names_its_san_nics(salt_cli):
    result = salt_cli.run("state.apply", "storage_net", "test=True", minion_tgt="*")
    assert result.returncode == 0, result.stderr
    plain = by_id(result.data["stor1.fra1.example.net"])
    storage = by_id(result.data["hv1.ams1.example.net"])
    arpflux = plain["hostnode-storage-net-arpflux"]
    assert arpflux["result"] in (True, None), arpflux["comment"]
    assert "stor-a" not in arpflux["changes"].get("file", {}).get("diff", "")
    arpflux = storage["hostnode-storage-net-arpflux"]
    assert arpflux["result"] is None, arpflux["comment"]
    diff = arpflux["changes"]["file"]["diff"]
    assert "+net.ipv4.conf.stor-a.rp_filter = 0" in diff
    assert "+net.ipv4.conf.stor-b.arp_ignore = 1" in diff


def test_each_site_logs_in_to_its_own_san(salt_cli):
    result = salt_cli.run("state.apply", "storage_net", "test=True", minion_tgt="*")
    fra1 = by_id(result.data["stor1.fra1.example.net"])
    ams1 = by_id(result.data["hv1.ams1.example.net"])
    # stor1 is no SAN client: its site names a SAN, but it neither logs in nor gets secrets.
    assert not any(sid.startswith("hostnode-storage-net-iscsi") for sid in fra1)
    san = ams1["hostnode-storage-net-iscsi-ams1-san"]
    assert san["result"] is None, san["comment"]
    assert sorted(san["changes"]) == [
        "192.0.2.1:3260 via ieth-a",
        "198.51.100.1:3260 via ieth-b",
    ]
    assert all(change["chap"] == "credentials set" for change in san["changes"].values())


def by_id(returns):
    return {key.split("_|-")[1]: value for key, value in returns.items()}
