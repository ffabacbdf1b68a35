"""The one atomic writer (hostnode_files.replace)."""

import os
import stat

import pytest
from salt.exceptions import CommandExecutionError

from saltext.hostnode.utils import files as hostnode_files


def test_replace_writes_with_its_mode_and_syncs_file_and_directory(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "etc/hostnode.conf"
    hostnode_files.replace(str(path), "old\n", 0o600)
    hostnode_files.replace(str(path), "new\n", 0o600)
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["hostnode.conf"]
    assert synced == [False, True, False, True]


def test_replace_with_none_removes_the_file_and_syncs_the_directory(tmp_path, monkeypatch):
    path = tmp_path / "gone.conf"
    path.write_text("x")
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)))
    hostnode_files.replace(str(path), None)
    hostnode_files.replace(str(path), None)
    assert not path.exists()
    assert synced == [True]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "kept.conf"
    path.write_text("old\n")

    def fail(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(CommandExecutionError, match=f"{path}: cannot write: No space left"):
        hostnode_files.replace(str(path), "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.conf"]
