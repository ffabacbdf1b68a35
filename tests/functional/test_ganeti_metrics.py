"""
The Ganeti/DRBD textfile checked by promtool and read by the real node_exporter (Debian's
prometheus-node-exporter, textfile collector only, on 127.0.0.1): DRBD 8.4 minors, one of them
resyncing, with the N+1 counts of a real hcheck output and the findings of a gnt-cluster
verify-disks output by kind.
"""

import shutil
import subprocess

import pytest

from support import CommandTable, fixture_text, load_module, prometheus_samples, salt_dunders

ganeti = load_module("modules", "ganeti")


@pytest.fixture
def configure_loader_modules(tmp_path):
    return {ganeti: salt_dunders(CommandTable(), tmp_path)}


def _saved(tmp_path, tool, case):
    path = tmp_path / case
    path.write_text(fixture_text(tool, case).split("\n", 1)[1])  # without its source line
    return str(path)


def test_promtool_accepts_the_textfile(tmp_path):
    if shutil.which("promtool") is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    path = tmp_path / "hostnode_ganeti.prom"
    ganeti.write_metrics(
        str(path),
        source=_saved(tmp_path, "drbd", "status-verbose-outdated-unconnected.txt"),
        hcheck=_saved(tmp_path, "hcheck", "n1-failure-plain.txt"),
        verify_disks=_saved(tmp_path, "ganeti", "verify-disks-legacy-v2.0.0.txt"),
    )
    checked = subprocess.run(
        ["promtool", "check", "metrics"],
        input=path.read_text(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_node_exporter_serves_minor_states_resync_n_plus_1_and_verify_disks(
    tmp_path, node_exporter
):
    directory, scrape = node_exporter
    path = directory / "hostnode_ganeti.prom"
    written = ganeti.write_metrics(
        str(path),
        source=_saved(tmp_path, "drbd", "proc-drbd84-sync.txt"),
        hcheck=_saved(tmp_path, "hcheck", "n1-failure-machine.txt"),
        verify_disks=_saved(tmp_path, "ganeti", "verify-disks-missing-volumes-3.0.txt"),
    )
    served = prometheus_samples(scrape())
    ours = prometheus_samples(path.read_text())
    assert served["node_textfile_scrape_error"] == 0
    assert len(ours) == written["samples"]
    assert {key: served.get(key) for key in ours} == ours
    minor = 'minor="5",resource="",volume=""'
    states = (
        'connection="SyncSource",disk="UpToDate",minor="5",peer_disk="Inconsistent",'
        'peer_role="Secondary",resource="",role="Secondary",volume=""'
    )
    assert served[f"hostnode_ganeti_drbd_info{{{states}}}"] == 1
    assert served[f"hostnode_ganeti_drbd_degraded{{{minor}}}"] == 1
    assert served[f"hostnode_ganeti_drbd_out_of_sync_bytes{{{minor}}}"] == 335744 * 1024
    assert served[f"hostnode_ganeti_drbd_sync_ratio{{{minor}}}"] == 0.685
    assert served["hostnode_ganeti_hcheck_nodes_not_n1_happy"] == 4
    assert served["hostnode_ganeti_hcheck_need_rebalance"] == 1
    problems = "hostnode_ganeti_verify_disks_problems"
    assert served[f'{problems}{{kind="missing_volumes"}}'] == 2
    assert served[f'{problems}{{kind="node_error"}}'] == 1
    assert served[f'{problems}{{kind="activation_failed"}}'] == 0
