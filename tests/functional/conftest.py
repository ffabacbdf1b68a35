"""Fixtures of the functional tests: the real node_exporter reading our textfiles."""

import shutil
import socket
import subprocess
import time
import urllib.request

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def node_exporter(tmp_path):
    """
    Debian's prometheus-node-exporter serving the textfiles of a temp directory on 127.0.0.1
    (textfile collector only); yields (directory, scrape). Skips when it is not installed.
    """
    if shutil.which("prometheus-node-exporter") is None:
        pytest.skip("prometheus-node-exporter (Debian package) is not installed")
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
