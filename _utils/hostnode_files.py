"""
Files that hostnode owns: read, diff and replace them atomically.

A managed file is written to a temporary file in the same directory, flushed, given its mode and
renamed over the old one, so a crash or a reboot never leaves half a file for the boot process to
read.
"""

import contextlib
import difflib
import os
import tempfile

from salt.exceptions import CommandExecutionError, SaltInvocationError


def read(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def read_source(path):
    """
    The text of a saved tool output given as ``source=``. A missing file is a
    SaltInvocationError naming ``source``; a file that is not UTF-8 text (binary noise) a
    CommandExecutionError naming the file, never a UnicodeDecodeError.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise SaltInvocationError(f"source: {path} does not exist") from None
    except IsADirectoryError:
        raise SaltInvocationError(f"source: {path} is a directory") from None
    except UnicodeDecodeError as exc:
        raise CommandExecutionError(f"{path}: not text (byte {exc.start} is not UTF-8)") from None


def diff(path, old, new):
    """A unified diff between two versions of a file (None means absent)."""
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=path if old is not None else "/dev/null",
        tofile=path if new is not None else "/dev/null",
    )
    return "".join(lines)


def replace(path, text, mode=0o644):
    """
    Write text to path atomically with mode (a temp file in the same directory, fsync, rename,
    then fsync of the directory so the rename survives a crash); text None removes the file.
    """
    directory = os.path.dirname(path)
    if text is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            _sync_directory(directory)
        return
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".hostnode-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def change(plan):
    """The ``changes`` entry of a planned file (``path``, ``backend``, ``old``, ``new``)."""
    return {
        "path": plan["path"],
        "backend": plan["backend"],
        "diff": diff(plan["path"], plan["old"], plan["new"]),
    }


def written(plan):
    """plan when its file now holds what it planned (None for no plan or another content)."""
    return plan if plan and read(plan["path"]) == plan["new"] else None
