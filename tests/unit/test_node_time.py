"""The node formula's time sources (hostnode:node:time): checked before anything changes."""

import pytest
import yaml
from salt.exceptions import CommandExecutionError

from saltext.hostnode.utils import chrony
from support import REPO, load_module

FIELD = "hostnode:node:time"
DEFAULTS = yaml.safe_load((REPO / "formulas/node/parameters/defaults.yaml").read_text())["node"]


def time(**settings):
    return {**DEFAULTS["time"], **settings}


def test_the_defaults_manage_nothing_and_pass():
    assert chrony.sources(DEFAULTS["time"], FIELD) == {
        "servers": [], "pools": [], "options": ["iburst", "prefer"]
    }  # fmt: skip


def test_hosts_and_options_as_chrony_reads_them():
    settings = time(servers=["ntp1.ams1.example.net", "10.1.0.2", "2001:db8::123"],
                    pools=["pool.ntp.example.org."],
                    options=["iburst", "minpoll  4", "maxdelay 0.3", "offset -0.001",
                             "extfield F323"])  # fmt: skip
    assert chrony.sources(settings, FIELD) == {
        "servers": ["ntp1.ams1.example.net", "10.1.0.2", "2001:db8::123"],
        "pools": ["pool.ntp.example.org."],
        "options": ["iburst", "minpoll 4", "maxdelay 0.3", "offset -0.001", "extfield F323"],
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (time(servers=["-p"]), f"{FIELD}:servers:0: '-p' is not a host name or IP address"),
        (
            time(servers=["ntp1", "10.1.0.300"]),
            f"{FIELD}:servers:1: '10.1.0.300' is not a host name or IP address",
        ),
        (
            time(pools=["ntp.example.net iburst"]),
            f"{FIELD}:pools:0: 'ntp.example.net iburst' is not a host name or IP address",
        ),
        (time(servers=[123]), f"{FIELD}:servers:0: 123 is not a host name or IP address"),
        (
            time(servers="ntp1.example.net"),
            f"{FIELD}:servers: expected a list, got 'ntp1.example.net'",
        ),
        (
            time(options=["iburst", "ibrust"]),
            f"{FIELD}:options:1: 'ibrust' is not a chrony server/pool option (known: ",
        ),
        (time(options=["iburst 3"]), f"{FIELD}:options:0: iburst takes no argument"),
        (time(options=["minpoll"]), f"{FIELD}:options:0: minpoll takes a whole number"),
        (time(options=["minpoll 4.5"]), f"{FIELD}:options:0: minpoll takes a whole number"),
        (time(options=["maxdelay 0.3;"]), f"{FIELD}:options:0: maxdelay takes a number"),
        (
            time(options=[{"minpoll": 4}]),
            f"{FIELD}:options:0: {{'minpoll': 4}} is not a chrony source option",
        ),
        (time(install="yes"), f"{FIELD}:install: 'yes' is not true or false"),
        (time(service=None), f"{FIELD}:service: None is not true or false"),
        (["ntp1.example.net"], f"{FIELD}: expected a mapping of servers, pools, options"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_key(settings, message):
    with pytest.raises(ValueError) as refused:
        chrony.sources(settings, FIELD)
    assert str(refused.value).startswith(message)


def test_every_setting_of_the_defaults_is_one_the_check_knows():
    assert tuple(DEFAULTS["time"]) == chrony.SETTINGS


@pytest.fixture
def node():
    module = load_module("modules", "node")
    module.__pillar__ = {}
    module.__opts__ = {"id": "hv1.ams1.example.net"}
    module.__salt__ = {}
    return module


def test_preflight_refuses_a_bad_time_source_naming_the_key(node):
    settings = {**DEFAULTS, "time": time(servers=["ntp1.example.net", "ntp 2"])}
    with pytest.raises(CommandExecutionError) as refused:
        node.preflight(settings)
    assert str(refused.value) == (
        "pillar refused, nothing changed: "
        f"{FIELD}:servers:1: 'ntp 2' is not a host name or IP address"
    )


def test_preflight_passes_the_sites_time_sources_and_a_pillar_without_them(node):
    assert node.preflight({**DEFAULTS, "time": time(pools=["ntp.fra1.example.net"])}) is True
    assert node.preflight({"fqdn": "hv1.ams1.example.net"}) is True
