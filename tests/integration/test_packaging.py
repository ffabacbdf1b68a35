"""
`pip install hostnode` (what `salt-pip install` does on a minion): Salt finds our modules, states
and grains through the salt.loader entry point, with no module_dirs and no sync.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from support import REPO

pytestmark = pytest.mark.slow

SHIPPED = (
    "setup.cfg",
    "pyproject.toml",
    "README.md",
    "_modules",
    "_states",
    "_grains",
    "_utils",
    "_beacons",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """hostnode built from a copy of its sources and installed into a folder of its own."""
    source = tmp_path_factory.mktemp("source")
    for name in SHIPPED:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, source / name)
    target = tmp_path_factory.mktemp("site-packages")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, str(source)], check=True, capture_output=True)
    return target


@pytest.fixture
def salt_call(installed, tmp_path):
    (tmp_path / "minion").write_text(
        f"id: packaged\nfile_client: local\nroot_dir: {tmp_path}/root\n"
        f"hostnode:\n  config_root: {tmp_path}/image\n"
    )
    env = dict(os.environ, PYTHONPATH=str(installed))
    salt_call = [str(REPO / ".venv/bin/salt-call"), "--local", "-c", str(tmp_path), "--out=json"]

    def call(*args):
        result = subprocess.run(
            [*salt_call, *args], env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["local"]

    return call


def test_the_wheel_holds_the_loader_dirs_and_the_utils(installed):
    assert (installed / "hostnode_salt/modules/anyip.py").exists()
    assert (installed / "hostnode_salt/states/anyip.py").exists()
    assert (installed / "hostnode_anyip.py").exists()
    entry_points = next(installed.glob("hostnode-*.dist-info")) / "entry_points.txt"
    assert "hostnode = hostnode_salt" in entry_points.read_text()


def test_salt_loads_modules_states_and_grains_from_the_installed_package(salt_call):
    assert salt_call("anyip.random_address", "192.0.2.0/24").startswith("192.0.2.")
    assert salt_call("grains.get", "hostnode_net_backend") == "none"
    (state,) = salt_call(
        "state.single", "anyip.present", "192.0.2.0/24", "persist=False", "test=True"
    ).values()
    assert state["result"] in (None, True), state["comment"]
