"""
The iscsi states over stand-in execution functions: ``watch`` re-logs in through mod_watch, called
with the arguments Salt's state compiler gives it, and a failed login is never hidden by it.
"""

import pytest
import salt.state
import salt.utils.args
from salt.exceptions import CommandExecutionError

from support import load_module

iscsi_state = load_module("states", "iscsi")
TARGET = "iqn.2026-11.net.example:san"
PORTALS = [{"portal": "192.0.2.1", "iface": "ieth-a", "netdev": "stor-a"}, "198.51.100.1"]
RELOGGED = {"192.0.2.1:3260 via ieth-a": {"session": "re-logged in"}}


class Calls:
    """Stand-ins for iscsi.login and iscsi.relogin that note their arguments."""

    def __init__(self):
        self.seen = []
        self.login_error = None

    def login(self, *args, test=False):
        self.seen.append(("login", args, test))
        if self.login_error:
            raise self.login_error
        return {}

    def relogin(self, *args, test=False):
        self.seen.append(("relogin", args, test))
        return RELOGGED


@pytest.fixture
def calls():
    return Calls()


@pytest.fixture
def configure_loader_modules(calls):
    return {
        iscsi_state: {
            "__salt__": {"iscsi.login": calls.login, "iscsi.relogin": calls.relogin},
            "__opts__": {"test": False},
        }
    }


def watched_low(**arguments):
    """The low chunk Salt's state compiler hands mod_watch (salt/state.py, call_chunk)."""
    return {"state": "iscsi", "__id__": "san", "__sls__": "storage", "__env__": "base",
            "name": TARGET, "fun": "mod_watch", "sfun": "logged_in", "order": 10000,
            "watch": [{"file": "/etc/iscsi/iscsid.conf"}],
            "__reqs__": {"watch": [{"state": "file", "__id__": "/etc/iscsi/iscsid.conf"}]},
            **arguments}  # fmt: skip


def call_like_salt(low):
    """format_call as salt.state.State.call does it; warnings would show in the state return."""
    cdata = salt.utils.args.format_call(
        iscsi_state.mod_watch, low, expected_extra_kws=salt.state.STATE_INTERNAL_KEYWORDS
    )
    assert "warnings" not in cdata, cdata["warnings"]
    return iscsi_state.mod_watch(*cdata["args"], **cdata["kwargs"])


def test_watch_re_logs_in_on_the_portals_of_the_state(calls):
    low = watched_low(portals=PORTALS, chap_pillar="storage:chap", startup="automatic",
                      login_timeout=5, login_retries=2, settings={"a": 1})  # fmt: skip
    ret = call_like_salt(low)
    assert ret["result"] is True and ret["changes"] == RELOGGED
    assert calls.seen == [("relogin", (TARGET, ["192.0.2.1", "198.51.100.1"], 5, 2), False)]


def test_watch_in_test_mode_predicts_the_re_login(calls):
    iscsi_state.__opts__["test"] = True
    ret = call_like_salt(watched_low(portals=PORTALS))
    assert ret["result"] is None and ret["changes"] == RELOGGED
    assert calls.seen == [("relogin", (TARGET, ["192.0.2.1", "198.51.100.1"], 10, 1), True)]


def test_watch_on_logged_out_does_nothing(calls):
    ret = call_like_salt(watched_low(sfun="logged_out", delete_records=True))
    assert ret["result"] is True and ret["changes"] == {} and calls.seen == []


def test_a_failed_login_asks_salt_to_skip_the_watch(calls):
    calls.login_error = CommandExecutionError("1 portal(s) failed: ...", info={})
    ret = iscsi_state.logged_in(TARGET, PORTALS)
    assert ret["result"] is False and ret["skip_watch"] is True
    calls.login_error = None
    assert "skip_watch" not in iscsi_state.logged_in(TARGET, PORTALS)
