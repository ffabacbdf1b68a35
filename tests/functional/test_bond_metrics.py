"""
The bond textfile checked by promtool and read by the real node_exporter (Debian's
prometheus-node-exporter, textfile collector only, on 127.0.0.1), for the guest's 802.3ad bond
without an LACP partner and an active-backup bond.
"""

import shutil
import subprocess

import pytest

from support import FIXTURES, CommandTable, load_module, prometheus_samples, salt_dunders

bond = load_module("modules", "bond")


@pytest.fixture
def configure_loader_modules(tmp_path):
    return {bond: salt_dunders(CommandTable(), tmp_path)}


@pytest.fixture
def proc_bonding(tmp_path, monkeypatch):
    proc = tmp_path / "proc-bonding"
    proc.mkdir()
    (proc / "bond0").write_text((FIXTURES / "bonding/802.3ad.txt").read_text())
    (proc / "bond1").write_text((FIXTURES / "bonding/active-backup-eth0-first.txt").read_text())
    monkeypatch.setattr(bond, "PROC_BONDING", str(proc))


def test_promtool_accepts_the_textfile(tmp_path, proc_bonding):
    if shutil.which("promtool") is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    path = tmp_path / "hostnode_bond.prom"
    bond.write_metrics(str(path), bonds="bond0,bond1")
    checked = subprocess.run(
        ["promtool", "check", "metrics"],
        input=path.read_text(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_node_exporter_serves_slaves_and_lacp_problems(proc_bonding, node_exporter):
    directory, scrape = node_exporter
    path = directory / "hostnode_bond.prom"
    written = bond.write_metrics(str(path), bonds=["bond0", "bond1"])
    served = prometheus_samples(scrape())
    ours = prometheus_samples(path.read_text())
    assert served["node_textfile_scrape_error"] == 0
    assert len(ours) == written["samples"]
    assert {key: served.get(key) for key in ours} == ours
    assert served['hostnode_bond_lacp_problems{bond="bond0",slave="eth1"}'] == 1
    assert served['hostnode_bond_lacp_problems{bond="bond0",slave=""}'] == 2
    assert served['hostnode_bond_slave_aggregator_id{bond="bond0",slave="eth1"}'] == 2
    assert served['hostnode_bond_slave_mii_up{bond="bond1",slave="eth0"}'] == 1
    assert served['hostnode_bond_slave_link_failures_total{bond="bond1",slave="eth1"}'] == 0
