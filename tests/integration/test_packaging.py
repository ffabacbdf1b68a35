"""
`pip install hostnode` (what `salt-pip install` does on a minion): Salt finds our modules, states
and grains through the salt.loader entry point, with no module_dirs and no sync; on the Salt of
the development venv, and, from the built wheel, in a fresh venv holding the oldest Salt that
setup.cfg declares (the pin of requirements-3006.lock), which the install must leave as it is.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from support import REPO

pytestmark = pytest.mark.slow
LOCK_3006 = REPO / "requirements-3006.lock"

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
def source(tmp_path_factory):
    """A copy of what the distribution ships (a build never writes into the checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in SHIPPED:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, source / name)
    return source


@pytest.fixture(scope="module")
def installed(source, tmp_path_factory):
    """hostnode built from a copy of its sources and installed into a folder of its own."""
    target = tmp_path_factory.mktemp("site-packages")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, str(source)], check=True, capture_output=True)
    return target


@pytest.fixture(scope="module")
def oldest_salt_venv(source, tmp_path_factory):
    """A fresh venv with the oldest declared Salt, then the built wheel installed into it."""
    (salt_pin,) = [line for line in LOCK_3006.read_text().splitlines()
                   if line.startswith("salt==")]  # fmt: skip
    venv = tmp_path_factory.mktemp("venv-oldest-salt")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(LOCK_3006), salt_pin], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist),
                    str(source)], check=True, capture_output=True)  # fmt: skip
    (wheel,) = dist.glob("hostnode-*.whl")
    subprocess.run([*pip, "-c", str(LOCK_3006), str(wheel)], check=True, capture_output=True)
    return venv, salt_pin.split("==")[1]


def salt_caller(salt_call_path, tmp_path, env):
    (tmp_path / "minion").write_text(
        f"id: packaged\nfile_client: local\nroot_dir: {tmp_path}/root\n"
        f"hostnode:\n  config_root: {tmp_path}/image\n"
    )
    salt_call = [str(salt_call_path), "--local", "-c", str(tmp_path), "--out=json"]

    def call(*args):
        result = subprocess.run(
            [*salt_call, *args], env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["local"]

    return call


@pytest.fixture
def salt_call(installed, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(installed))
    return salt_caller(REPO / ".venv/bin/salt-call", tmp_path, env)


def test_the_install_holds_one_namespace_package_and_its_entry_point(installed):
    top_level = {p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")}
    assert top_level - {"__pycache__"} == {"saltext"}
    assert not (installed / "saltext/__init__.py").exists()  # a namespace other saltexts share
    package = installed / "saltext/hostnode"
    for path in ("__init__.py", "utils/anyip.py", "modules/anyip.py", "states/anyip.py",
                 "grains/hostnode_net.py", "beacons/multipath.py"):  # fmt: skip
        assert (package / path).exists(), path
    entry_points = next(installed.glob("hostnode-*.dist-info")) / "entry_points.txt"
    assert "hostnode = saltext.hostnode" in entry_points.read_text()


def assert_our_modules_states_and_grains_load(salt_call):
    assert salt_call("anyip.random_address", "192.0.2.0/24").startswith("192.0.2.")
    assert salt_call("grains.get", "hostnode_net_backend") == "none"
    (state,) = salt_call(
        "state.single", "anyip.present", "192.0.2.0/24", "persist=False", "test=True"
    ).values()
    assert state["result"] in (None, True), state["comment"]


def test_salt_loads_modules_states_and_grains_from_the_installed_package(salt_call):
    assert_our_modules_states_and_grains_load(salt_call)


def test_the_wheel_installs_beside_the_oldest_salt_and_loads_through_its_entry_point(
    oldest_salt_venv, tmp_path
):
    venv, salt_version = oldest_salt_venv
    salt_call = salt_caller(venv / "bin/salt-call", tmp_path, dict(os.environ))
    assert salt_call("test.version") == salt_version
    assert_our_modules_states_and_grains_load(salt_call)


def test_a_pip_install_beside_a_synced_copy_is_refused_naming_both(installed, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(installed))
    synced = f"module_dirs:\n  - {REPO}\n"  # _utils of the checkout, as a synced extmods/utils
    (tmp_path / "minion").write_text(
        f"id: twice\nfile_client: local\nroot_dir: {tmp_path}/root\n{synced}"
    )
    result = subprocess.run(
        [str(REPO / ".venv/bin/salt-call"), "--local", "-c", str(tmp_path), "--out=json",
         "anyip.random_address", "192.0.2.0/24"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "hostnode is installed twice" in output, output
    assert str(installed / "saltext/hostnode") in output
    assert str(REPO / "_utils/saltext/hostnode") in output
