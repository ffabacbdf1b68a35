"""
node_lvm.global_filter against the real lvm2 of this host: LVM's own tools check the rendered
lvmconfig (and compile its filter), refuse a bad regex and a broken current file, and read the
written file as lvmlocal.conf (an LVM_SYSTEM_DIR holding a copy of the host's lvm.conf): the
merged configuration has our global_filter, and a physical volume on a loop device the filter
rejects is no longer listed while another one still is. The host's /etc/lvm is never written.
(Volume groups inside logical volumes need device-mapper: tests/vm/test_guest_ceph_lvm.py.)
"""

import os
import shutil
import subprocess

import pytest
from salt.exceptions import CommandExecutionError

from support import load_module, salt_dunders

node_lvm = load_module("modules", "node_lvm")
pytestmark = pytest.mark.skipif(
    not shutil.which("lvmconfig") or os.geteuid() != 0,
    reason="needs root and lvm2 (package lvm2)",
)
LVM_ENV = {**os.environ, "LVM_SUPPRESS_FD_WARNINGS": "1"}


def run_all(argv, python_shell=False, stdin=None, **_options):
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60,
                          env=LVM_ENV)  # fmt: skip
    return {"retcode": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "pid": 1}


@pytest.fixture
def configure_loader_modules(config_root):
    return {node_lvm: salt_dunders(run_all, config_root)}


def lvm(argv, system_dir):
    env = {**LVM_ENV, "LVM_SYSTEM_DIR": str(system_dir)}
    return subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout


@pytest.fixture
def loops(tmp_path):
    """Two loop devices over sparse files, each a physical volume; removed afterwards."""
    if not shutil.which("losetup"):
        pytest.skip("needs losetup (util-linux)")
    devices = []
    try:
        for name in ("a", "b"):
            image = tmp_path / f"{name}.img"
            image.write_bytes(b"")
            os.truncate(image, 16 << 20)
            attach = ["losetup", "--find", "--show", str(image)]
            devices.append(subprocess.run(attach, capture_output=True, text=True,
                                          check=True).stdout.strip())  # fmt: skip
        subprocess.run(["pvcreate", "-qq", *devices], check=True, env=LVM_ENV)
        yield devices
    finally:
        if devices:
            subprocess.run(["pvremove", "-qq", "-ff", "-y", *devices], check=False, env=LVM_ENV)
        for device in devices:
            subprocess.run(["losetup", "-d", device], check=False)


def test_the_real_lvm_checks_the_filter_and_reads_the_written_file(config_root, loops, tmp_path):
    before = os.stat("/etc/lvm").st_mtime_ns
    rejected, kept = loops
    changes = node_lvm.global_filter("xen-vg", reject=[f"^{rejected}$"])
    path = config_root / "etc/lvm/lvmlocal.conf"
    assert list(changes["files"]) == [str(path)]

    system_dir = tmp_path / "etc-lvm"
    system_dir.mkdir()
    shutil.copy("/etc/lvm/lvm.conf", system_dir)
    selection = ["-S", f"pv_name={rejected}||pv_name={kept}"]
    pvs = ["pvs", "--noheadings", "-o", "pv_name", *selection]
    assert sorted(lvm(pvs, system_dir).split()) == sorted([rejected, kept])  # pvs sorts by name
    shutil.copy(path, system_dir / "lvmlocal.conf")
    merged = lvm(["lvmconfig", "--mergedconfig", "devices/global_filter",
                  "devices/use_devicesfile"], system_dir)  # fmt: skip
    assert merged.splitlines() == [
        'global_filter=["r|^/dev/drbd|","r|^/dev/xen-vg/|","r|^/dev/mapper/xen--vg-[^-]|",'
        f'"r|^{rejected}$|"]',
        "use_devicesfile=0",
    ]
    assert lvm(pvs, system_dir).split() == [kept], "the rejected PV is still listed"
    assert node_lvm.global_filter("xen-vg", reject=[f"^{rejected}$"]) == {}
    assert os.stat("/etc/lvm").st_mtime_ns == before


def test_the_real_lvm_refuses_a_bad_regex_and_a_broken_file(config_root):
    path = config_root / "etc/lvm/lvmlocal.conf"
    with pytest.raises(CommandExecutionError, match=r"missing '\)' in regular expression"):
        node_lvm.global_filter("xenvg", reject=["^/dev/(nbd"])
    assert not path.exists()
    path.parent.mkdir(parents=True)
    broken = 'devices {\n global_filter = [ "r|x|",\n}\n'
    path.write_text(broken)
    with pytest.raises(CommandExecutionError, match=r"LVM cannot read it \(exit 3: Parse error"):
        node_lvm.global_filter("xenvg")
    assert path.read_text() == broken


def test_debians_own_lvmlocal_conf_is_taken_over(config_root):
    if not os.path.exists("/etc/lvm/lvmlocal.conf"):
        pytest.skip("this host's lvm2 has no /etc/lvm/lvmlocal.conf to start from")
    path = config_root / "etc/lvm/lvmlocal.conf"
    path.parent.mkdir(parents=True)
    shutil.copy("/etc/lvm/lvmlocal.conf", path)
    assert node_lvm.global_filter("xenvg")
    assert path.read_text().startswith(f"# {node_lvm.HEADER}\n")
