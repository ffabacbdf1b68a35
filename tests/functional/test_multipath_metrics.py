"""
The multipath textfile read by the real node_exporter (Debian's prometheus-node-exporter,
textfile collector only, on 127.0.0.1), for a healthy map and one with a failed path.
"""

import pytest

from support import CommandTable, fixture_text, load_module, prometheus_samples, salt_dunders

multipath = load_module("modules", "multipath")


@pytest.fixture
def configure_loader_modules(tmp_path):
    return {multipath: salt_dunders(CommandTable(), tmp_path)}


def test_node_exporter_serves_map_and_path_states(tmp_path, node_exporter):
    directory, scrape = node_exporter
    source = tmp_path / "multipath-ll.txt"
    source.write_text(
        fixture_text("multipath", "ll-two-paths.txt").replace(
            "6:0:0:0 sdb 8:16 active ready running", "6:0:0:0 sdb 8:16 failed faulty running"
        )
    )
    path = directory / "hostnode_multipath.prom"
    written = multipath.write_metrics(str(path), min_paths=2, source=str(source))
    served = prometheus_samples(scrape())
    ours = prometheus_samples(path.read_text())
    assert served["node_textfile_scrape_error"] == 0
    assert len(ours) == written["samples"]
    assert {key: served.get(key) for key in ours} == ours
    assert served['hostnode_multipath_map_failed_paths{map="mpatha"}'] == 1
    assert served['hostnode_multipath_map_healthy{map="mpatha"}'] == 0
    assert served['hostnode_multipath_path_failed{group="0",map="mpatha",path="sdb"}'] == 1
    states = 'checker="faulty",device_state="running",dm_state="failed"'
    assert (
        served[f'hostnode_multipath_path_info{{{states},group="0",map="mpatha",path="sdb"}}'] == 1
    )
