"""
The beancounters textfile read by the real node_exporter (Debian's prometheus-node-exporter,
textfile collector only, served on 127.0.0.1): every sample we write is served with its value, the
unlimited ones are absent, and node_exporter reports no textfile scrape error.
"""

import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from support import CommandTable, fixture_text, load_module, salt_dunders

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus-node-exporter") is None,
    reason="prometheus-node-exporter (Debian package) is not installed",
)
beancounters = load_module("modules", "beancounters")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def configure_loader_modules(tmp_path):
    return {beancounters: salt_dunders(CommandTable(), tmp_path)}


@pytest.fixture
def node_exporter(tmp_path):
    """node_exporter serving the textfiles of a temp directory; yields (directory, scrape)."""
    directory = tmp_path / "textfiles"
    directory.mkdir()
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        ["prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
         f"--collector.textfile.directory={directory}", f"--web.listen-address={address}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def scrape():
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
            return response.read().decode()

    try:
        for _ in range(100):
            try:
                scrape()
                break
            except OSError:
                time.sleep(0.1)
        yield directory, scrape
    finally:
        process.terminate()
        process.wait(timeout=10)


def samples(exposition):
    """{series: value} of a Prometheus text exposition (node_exporter reformats numbers)."""
    found = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            found[series] = float(value)
    return found


def test_node_exporter_serves_what_write_metrics_wrote(tmp_path, node_exporter):
    directory, scrape = node_exporter
    source = tmp_path / "user_beancounters"
    source.write_text(fixture_text("beancounters", "forum-ct70160-failcnt.txt"))
    path = directory / "hostnode_beancounters.prom"
    written = beancounters.write_metrics(str(path), source=str(source))
    assert written == {"path": str(path), "samples": written["samples"]}
    served = samples(scrape())
    assert served["node_textfile_scrape_error"] == 0
    ours = samples(path.read_text())
    assert len(ours) == written["samples"]
    assert {key: served.get(key) for key in ours} == ours
    assert (
        served['hostnode_beancounter_failcnt_total{container="70160",resource="shmpages"}'] == 9569
    )
    assert 'hostnode_beancounter_limit{container="70160",resource="physpages"}' not in served
    assert not [p for p in directory.iterdir() if p.name != path.name]  # no stray temp file
