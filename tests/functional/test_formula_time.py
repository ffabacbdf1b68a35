"""
node.time through Salt's own state compiler: rendered from defaults and pillar, then applied
for real under a config root (no package, no service: this machine runs no init system), its
sources file checked by the real chronyd (`chronyd -p -f`, the state's check_cmd) before it is
installed.
"""

import shutil
import subprocess

import pytest

from saltext.hostnode.utils import chrony

SOURCES = "etc/chrony/sources.d/hostnode.sources"
SITE = {"servers": ["ntp1.ams1.example.net", "10.1.0.2"], "pools": ["pool.ams1.example.net"]}


def states_of(high):
    return {
        sid: {k: v for k, v in body.items() if not k.startswith("__")} for sid, body in high.items()
    }


def pillar(**time):
    return {"hostnode": {"node": {"time": time}}}


def needs_chronyd():
    if shutil.which("chronyd") is None:
        pytest.skip("chronyd is not installed (Debian package chrony)")


def test_without_servers_or_pools_nothing_is_managed(loaders):
    assert loaders.modules.state.show_sls("node.time") == {}


def test_the_sites_sources_render_package_checked_file_and_service(loaders, config_root):
    high = states_of(loaders.modules.state.show_sls("node.time", pillar=pillar(**SITE)))
    assert sorted(high) == ["hostnode-node-time-package", "hostnode-node-time-service",
                            "hostnode-node-time-sources"]  # fmt: skip
    package = high["hostnode-node-time-package"]["pkg"]
    assert {"name": "chrony"} in package
    assert {"require_in": [{"file": "hostnode-node-time-sources"}]} in package
    sources = high["hostnode-node-time-sources"]["file"]
    assert {"name": str(config_root / SOURCES)} in sources
    assert {"check_cmd": "chronyd -p -f"} in sources
    assert {"tmp_dir": str(config_root / "etc/chrony")} in sources
    assert {"context": {**SITE, "options": ["iburst", "prefer"]}} in sources
    service = high["hostnode-node-time-service"]["service"]
    assert {"name": "chrony"} in service and {"enable": True} in service
    assert {"watch": [{"file": "hostnode-node-time-sources"}]} in service


def test_install_and_service_false_leave_the_sources_file_alone(loaders):
    settings = pillar(**SITE, install=False, service=False)
    high = states_of(loaders.modules.state.show_sls("node.time", pillar=settings))
    assert sorted(high) == ["hostnode-node-time-sources"]
    assert all("require" not in key for arg in high["hostnode-node-time-sources"]["file"]
               for key in arg)  # fmt: skip


def apply(loaders, **time):
    result = loaders.modules.state.sls(
        "node.time", pillar=pillar(**time, install=False, service=False)
    ).raw
    assert isinstance(result, dict), result
    (state,) = result.values()
    return state


def test_applied_the_file_is_what_chronyd_reads_and_a_second_run_changes_nothing(
    loaders, config_root
):
    needs_chronyd()
    (config_root / "etc/chrony/sources.d").mkdir(parents=True)  # the package's directories
    state = apply(loaders, **SITE, options=["iburst", "minpoll 4"])
    assert state["result"] is True, state
    written = config_root / SOURCES
    lines = [
        "server ntp1.ams1.example.net iburst minpoll 4",
        "server 10.1.0.2 iburst minpoll 4",
        "pool pool.ams1.example.net iburst minpoll 4",
    ]
    assert written.read_text() == (
        "# Managed by hostnode (formula node.time): the site's NTP sources; local edits are "
        "lost.\n" + "".join(f"{line}\n" for line in lines)
    ), "every line ends in a newline, as sources.d requires"
    parsed = subprocess.run(["chronyd", "-p", "-f", str(written)],
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert parsed.stdout.splitlines() == lines
    assert sorted(p.name for p in (config_root / "etc/chrony").rglob("*")) == [
        "hostnode.sources", "sources.d"
    ], "check_cmd's copy is gone"  # fmt: skip
    again = apply(loaders, **SITE, options=["iburst", "minpoll 4"])
    assert again["result"] is True and again["changes"] == {}


def test_a_file_chronyd_refuses_is_not_installed(loaders, config_root):
    # node.time alone, without the preflight of node/init.sls that refuses this option first
    needs_chronyd()
    (config_root / "etc/chrony/sources.d").mkdir(parents=True)
    state = apply(loaders, **SITE, options=["iburst 3"])
    assert state["result"] is False
    assert state["comment"].startswith("check_cmd execution failed")
    assert "Could not parse server directive at line 2" in state["comment"]
    assert not (config_root / SOURCES).exists()


SAMPLE_ARGUMENTS = {"a whole number": "4", "a number": "0.5", "a field type in hex (F323)": "F323"}


def chronyd_accepts(tmp_path, option):
    path = tmp_path / "option.sources"
    path.write_text(f"server ntp1.example.net {option}\n")
    return subprocess.run(["chronyd", "-p", "-f", str(path)], capture_output=True,
                          check=False).returncode == 0  # fmt: skip


def test_every_option_the_check_accepts_chronyd_accepts_and_an_unknown_one_neither(tmp_path):
    needs_chronyd()
    options = sorted(chrony.FLAGS) + sorted(
        f"{name} {SAMPLE_ARGUMENTS[kind]}" for name, (kind, _) in chrony.ARGUMENTS.items()
    )
    assert len(options) == 33
    refused = [o for o in options if not chronyd_accepts(tmp_path, chrony.option(o, "option"))]
    assert refused == []
    assert not chronyd_accepts(tmp_path, "ibrust")
    with pytest.raises(ValueError, match="'ibrust' is not a chrony server/pool option"):
        chrony.option("ibrust", "option")
