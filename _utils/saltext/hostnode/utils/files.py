"""
Files that hostnode owns: read, diff and replace them atomically.

A managed file is written to a temporary file in the same directory, synced, given its mode and
renamed over the old one, so a crash or a reboot never leaves half a file for the boot process to
read.
"""

import contextlib
import difflib
import errno
import fcntl
import os
import re
import secrets

from salt.exceptions import CommandExecutionError, SaltInvocationError

# Temp files of the writer: a dot name that no boot-time reader of ours globs for (*.conf,
# *.yaml, *.network, *.prom, run-parts names of [a-zA-Z0-9_-]+).
TEMPORARY_PREFIX = ".hostnode-"


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


_LINE = re.compile(r"^[^'\"]*?\bline (\d+)\b")


def parse_source(path, parser, what):
    """
    parser(text) of the saved tool output given as ``source=``, read by read_source. source=
    reads any file the minion can (as root): a parse error is a CommandExecutionError naming
    path, what it is not, and the line when the parser's ValueError names one before quoting
    anything (``line N: ...``, ``<tool> line N: ...``: the parsers' conventions), but never the
    parser's message itself, which may quote the file
    (``iscsi.sessions source=/etc/shadow`` must not answer with shadow's first line).
    """
    text = read_source(path)
    try:
        return parser(text)
    except ValueError as exc:
        line = _LINE.match(str(exc))
        where = f": line {line[1]}" if line else ""
        raise CommandExecutionError(f"source: {path}{where}: not {what}") from None


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
    Write text to path atomically with mode; text None removes the file. Any failure (a
    read-only directory, a full filesystem) is a CommandExecutionError naming path, and path
    then holds its old content.

    The new content goes into an unnamed file of the same directory (``O_TMPFILE``; a dot file
    ``.hostnode-*`` where the filesystem has none), is synced, named ``.hostnode-*`` and renamed
    over path, then the directory is synced so the rename survives a crash. A writer killed
    before that rename leaves at most that dot file, still locked while its writer lives: the
    next write into the directory removes the unlocked ones (open-iscsi reads every file of a
    node record directory, dot files included).
    """
    directory = os.path.dirname(path)
    try:
        if text is None:
            _remove(path, directory)
        else:
            os.makedirs(directory, exist_ok=True)
            _clean(directory)
            _install(path, directory, text.encode("utf-8"), mode)
    except OSError as exc:
        raise CommandExecutionError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _remove(path, directory):
    with contextlib.suppress(FileNotFoundError):  # no directory: no file
        _clean(directory)
        os.unlink(path)
        _sync_directory(directory)


def _install(path, directory, data, mode):
    handle, temporary = _temporary(directory)
    try:
        _write_all(handle, data)
        os.fchmod(handle, mode)
        os.fsync(handle)
        if temporary is None:
            temporary = _name(handle, directory)
        os.replace(temporary, path)
    except BaseException:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        raise
    finally:
        os.close(handle)
    _sync_directory(directory)


def _temporary(directory):
    """An open file for the new content, locked until it is renamed: (fd, None) when unnamed,
    (fd, name) when the filesystem cannot make unnamed files."""
    try:
        handle, name = os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600), None
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR):
            raise
        name = _temporary_name(directory)
        handle = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle, name


def _temporary_name(directory):
    return os.path.join(directory, f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}")


def _name(handle, directory):
    name = _temporary_name(directory)
    # A dir_fd makes os.link call linkat(AT_SYMLINK_FOLLOW): the link is to the open file.
    folder = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(f"/proc/self/fd/{handle}", os.path.basename(name), dst_dir_fd=folder)
    finally:
        os.close(folder)
    return name


def _write_all(handle, data):
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]


def _clean(directory):
    """Remove the temp files of writers killed before their rename: those nobody has locked."""
    with os.scandir(directory) as entries:
        stale = [
            e.path
            for e in entries
            if e.name.startswith(TEMPORARY_PREFIX) and e.is_file(follow_symlinks=False)
        ]
    for name in stale:
        _remove_stale(name)


def _remove_stale(name):
    try:
        handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.path.samestat(os.fstat(handle), os.stat(name)):
            os.unlink(name)
    except (BlockingIOError, FileNotFoundError):
        pass  # a live writer's, or renamed in the meantime
    finally:
        os.close(handle)


def _sync_directory(directory):
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def plan(path, new, mode=0o644):
    """A plan making path hold new (None: no file), or None when it already does."""
    old = read(path)
    if old == new:
        return None
    return {"path": path, "backend": "files", "old": old, "new": new, "mode": mode}


def diffs(plans):
    """``{path: diff}`` of plans (None entries, files already as wanted, are skipped)."""
    return {p["path"]: diff(p["path"], p["old"], p["new"]) for p in plans if p}


def replace_planned(plans):
    """
    Write each of plans in order through ``replace``; ``{path: diff}`` of what was written. A
    failure raises CommandExecutionError whose ``info`` holds the diffs written before it.
    """
    done = []
    for planned in filter(None, plans):
        try:
            replace(planned["path"], planned["new"], planned["mode"])
        except CommandExecutionError as exc:
            raise CommandExecutionError(str(exc), info=diffs(done)) from None
        done.append(planned)
    return diffs(done)


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
