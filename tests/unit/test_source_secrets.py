"""
``source=`` reads any file the minion can, as root: a file that is not the tool's output (here
a shadow-like file) gives an error naming the file and the line, never the file's content, for
every read function of every module (multipath -ll skips what is not a map: no maps).
"""

import pytest
from salt.exceptions import CommandExecutionError

from support import CommandTable, load_module, salt_dunders

SECRET = "root:$y$j9T$8wzSECRETHASHq1:19700:0:99999:7:::"
READS = [
    ("anyip", "list_", {}),
    ("arpflux", "detect", {}),
    ("arpflux", "status", {}),
    ("beancounters", "read", {}),
    ("beancounters", "failures", {}),
    ("beancounters", "near_limit", {}),
    ("beancounters", "events", {}),
    ("bond", "info", {"bond": "bond0"}),
    ("ceph_osd", "list_", {}),
    ("ceph_osd", "tree", {}),
    ("ceph_osd", "inventory", {}),
    ("ganeti", "cluster_info", {}),
    ("ganeti", "nodes", {}),
    ("ganeti", "members", {}),
    ("iscsi", "discover", {}),
    ("iscsi", "nodes", {}),
    ("iscsi", "sessions", {}),
    ("iscsi", "ifaces", {}),
    ("multipath", "maps", {}),
    ("multipath", "health", {}),
    ("multipath", "events", {}),
]


@pytest.mark.parametrize(("stem", "function", "kwargs"), READS, ids=str)
def test_a_parse_error_names_the_file_not_its_content(tmp_path, stem, function, kwargs):
    module = load_module("modules", stem)
    table = CommandTable()
    for name, value in salt_dunders(table, tmp_path).items():
        setattr(module, name, value)
    source = tmp_path / "shadow"
    source.write_text(SECRET + "\ndaemon:*:19700:0:99999:7:::\n")
    try:
        answer = repr(getattr(module, function)(source=str(source), **kwargs))
    except CommandExecutionError as exc:
        assert str(exc).startswith(f"source: {source}")
        answer = str(exc)[len(f"source: {source}") :]
    assert "SECRET" not in answer and "root" not in answer and "daemon" not in answer
    assert table.calls == []
