"""The runner never takes a guest that did not report for one that passed."""

import guest
import pytest

pytestmark = pytest.mark.vm


def test_a_guest_that_never_boots_reports_no_exit_code(tmp_path):
    missing = guest.qemu_missing()
    if missing:
        pytest.skip(f"qemu cannot run here: {missing}")
    image = tmp_path / "image"
    image.mkdir()
    for name in ("rootfs.img", "vmlinuz", "initrd.img"):
        (image / name).write_bytes(b"")  # qemu cannot boot this
    result = guest.run(image, "exit 0\n", tmp_path / "results", timeout=60)
    assert result.code is None
    assert result.log == ""


def test_the_exit_line_is_read_from_the_console_only_as_written_by_the_guest_init():
    assert guest.EXIT_LINE.search("[   5.1] x\nHOSTNODE-JOB-EXIT=3\n")[1] == "3"
    assert guest.EXIT_LINE.search("HOSTNODE-JOB-EXIT=\n") is None
