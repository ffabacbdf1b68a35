"""
The multipath beacon through Salt's real cmd.run_all, against a multipathd (or a multipath -ll)
that never answers: a stub on PATH that sleeps. The beacon comes back within its timeout with a
``timeout`` event instead of holding the minion's main loop.
"""

import time

import pytest

from support import load_module

beacon = load_module("beacons", "multipath")
HANG = "#!/bin/sh\nexec /bin/sleep 60\n"


@pytest.mark.parametrize(
    ("stubs", "command"),
    [
        (("multipathd", "multipath"), "multipathd show daemon"),
        (("multipath",), "multipath -ll"),
    ],
)
def test_a_hung_command_is_a_timeout_event_not_a_hang(
    loaders, tmp_path, monkeypatch, stubs, command
):
    for name in stubs:
        (tmp_path / name).write_text(HANG)
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    beacon.__salt__ = loaders.modules
    beacon.__context__ = {}
    config = [{"timeout": 1}]
    assert beacon.validate(config)[0] is True
    started = time.monotonic()
    found = beacon.beacon(config)
    assert time.monotonic() - started < 10
    assert found == [{"tag": "timeout", "command": command, "timeout": 1}]
    assert beacon.__context__ == {("hostnode_multipath_beacon", None): None}
