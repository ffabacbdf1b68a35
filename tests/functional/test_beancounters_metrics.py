"""
The beancounters textfile read by the real node_exporter (Debian's prometheus-node-exporter,
textfile collector only, served on 127.0.0.1): every sample we write is served with its value, the
unlimited ones are absent, and node_exporter reports no textfile scrape error.
"""

import pytest

from support import CommandTable, fixture_text, load_module, prometheus_samples, salt_dunders

beancounters = load_module("modules", "beancounters")


@pytest.fixture
def configure_loader_modules(tmp_path):
    return {beancounters: salt_dunders(CommandTable(), tmp_path)}


def test_node_exporter_serves_what_write_metrics_wrote(tmp_path, node_exporter):
    directory, scrape = node_exporter
    source = tmp_path / "user_beancounters"
    source.write_text(fixture_text("beancounters", "forum-ct70160-failcnt.txt"))
    path = directory / "hostnode_beancounters.prom"
    written = beancounters.write_metrics(str(path), source=str(source))
    assert written == {"path": str(path), "samples": written["samples"]}
    served = prometheus_samples(scrape())
    assert served["node_textfile_scrape_error"] == 0
    ours = prometheus_samples(path.read_text())
    assert len(ours) == written["samples"]
    assert {key: served.get(key) for key in ours} == ours
    assert (
        served['hostnode_beancounter_failcnt_total{container="70160",resource="shmpages"}'] == 9569
    )
    assert 'hostnode_beancounter_limit{container="70160",resource="physpages"}' not in served
    assert not [p for p in directory.iterdir() if p.name != path.name]  # no stray temp file
