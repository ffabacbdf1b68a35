"""
Every row of the bad-input catalogue (catalogue.py): the call fails with our own error naming
the field or the line, and what the row lists as unchanged is unchanged.
"""

import hashlib
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml
from catalogue import CASES, CHAP_SECRET, DISK, LOOP, README, formula_rounds, render_readme
from salt.exceptions import CommandExecutionError, SaltInvocationError
from saltfactories.utils.functional import Loaders

from support import REPO, CommandTable, iscsi_sandbox, load_module, minion_overrides, salt_dunders

OURS = (CommandExecutionError, SaltInvocationError)
STEMS = sorted({case.module for case in CASES if case.kind in ("source", "call", "state")})
MODULES = {stem: load_module("modules", stem) for stem in STEMS}
STATES = {
    stem: load_module("states", stem)
    for stem in sorted({case.module for case in CASES if case.kind == "state"})
}
FUNCTIONS = {"list": "list_"}


def cases(*kinds):
    return [pytest.param(case, id=case.id) for case in CASES if case.kind in kinds]


def function_of(module, case):
    return getattr(module, FUNCTIONS.get(case.function, case.function))


def files_under(root):
    """{relative path: sha256} of every file under root."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def seeded_root(config_root):
    """A config root holding what a node has: an ifupdown interfaces file."""
    (config_root / "etc/network").mkdir(parents=True)
    (config_root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")
    return config_root


@pytest.fixture
def commands():
    return CommandTable()


def execution_functions():
    """__salt__ of the states: every public function of our execution modules."""
    found = {}
    for stem, module in MODULES.items():
        aliases = getattr(module, "__func_alias__", {})
        for name, value in vars(module).items():
            if callable(value) and not name.startswith("_") and value.__module__ == module.__name__:
                found[f"{stem}.{aliases.get(name, name)}"] = value
    return found


@pytest.fixture
def configure_loader_modules(commands, seeded_root, tmp_path):
    dunders = {}
    for module in MODULES.values():
        dunders[module] = {
            **salt_dunders(commands, seeded_root),
            "__opts__": {"id": "hv1.ams1.example.net", "test": False, "cachedir": str(tmp_path)},
            "__pillar__": {},
            "__grains__": {},
            "__context__": {},
        }
    salt = {**salt_dunders(commands, seeded_root)["__salt__"], **execution_functions()}
    for module in STATES.values():
        dunders[module] = {"__salt__": salt, "__opts__": {"test": False}, "__pillar__": {}}
    return dunders


def test_the_catalogue_has_at_least_60_distinct_cases():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


def test_the_readme_table_is_current():
    assert README.read_text() == render_readme(), "run: python tests/reliability/catalogue.py"


@pytest.mark.parametrize("case", cases("source"))
def test_a_bad_saved_output_is_our_error_naming_the_line(case, commands, seeded_root, tmp_path):
    saved = tmp_path / "saved-output"
    saved.write_bytes(case.content)
    before = files_under(seeded_root)
    function = function_of(MODULES[case.module], case)
    with pytest.raises(OURS) as raised:
        function(source=str(saved), **case.kwargs)
    assert case.error in str(raised.value)
    assert commands.calls == []
    assert files_under(seeded_root) == before


@pytest.mark.parametrize("case", cases("call"))
def test_a_bad_argument_is_refused_before_anything_changes(case, commands, seeded_root):
    before = files_under(seeded_root)
    function = function_of(MODULES[case.module], case)
    with pytest.raises(SaltInvocationError) as raised:
        function(**case.kwargs)
    assert case.error in str(raised.value)
    assert [tuple(argv) for argv in commands.argvs()] == list(case.reads)[: len(commands.calls)]
    assert files_under(seeded_root) == before


@pytest.mark.parametrize("case", cases("state"))
def test_a_bad_state_argument_fails_the_state_before_anything_changes(case, commands, seeded_root):
    before = files_under(seeded_root)
    ret = getattr(STATES[case.module], case.function)(**case.kwargs)
    assert ret["result"] is False, ret
    assert case.error in ret["comment"]
    assert ret["changes"] == {}
    assert commands.calls == []
    assert files_under(seeded_root) == before


# --- For real, over open-iscsi's node database ------------------------------------------

TARGET = "iqn.2026-11.net.example:san"
NODEDB_JOB = r"""
set -u
mount --bind "$ETC_ISCSI" /etc/iscsi
iscsiadm -m node -o new -T "$TARGET" -p 192.0.2.1:3260,1 > /dev/null
records() { find /etc/iscsi -type f -exec sha256sum {} + | sort; }
records > "$OUT/before.txt"
while read -r id args; do
  eval "set -- $args"
  "$REPO/bin/hostnode-call" --out=json state.single "$@" > "$OUT/$id.json"
done < "$OUT/calls.txt"
records > "$OUT/after.txt"
"""


def nodedb_argv(case):
    """state.single arguments of a nodedb row, shell-quoted for the job."""
    args = [case.target, TARGET] + [f"{key}={json.dumps(value)}" for key, value in
                                    case.kwargs.items()]  # fmt: skip
    return " ".join(shlex.quote(arg) for arg in args)


@pytest.fixture(scope="module")
def nodedb(tmp_path_factory):
    """All nodedb rows in one private mount namespace: {id: state return}, before, after."""
    work = tmp_path_factory.mktemp("nodedb")
    etc_iscsi, out, pillar = iscsi_sandbox(work)
    secrets = {"spaced": {"username": "lab", "password": f"{CHAP_SECRET} x"},
               "typo": {"username": "lab", "password": CHAP_SECRET, "metod": "CHAP"}}  # fmt: skip
    (pillar / "secrets.sls").write_text(yaml.safe_dump({"secrets": secrets}))
    (out / "calls.txt").write_text(
        "".join(f"{case.id} {nodedb_argv(case)}\n" for case in CASES if case.kind == "nodedb")
    )
    host_before = files_under(pathlib.Path("/etc/iscsi"))
    env = {**os.environ, "ETC_ISCSI": str(etc_iscsi), "OUT": str(out), "REPO": str(REPO),
           "TARGET": TARGET, "HOSTNODE_HOME": str(work / "salt"), "HOSTNODE_VENV": sys.prefix,
           "HOSTNODE_PILLAR": str(pillar)}  # fmt: skip
    subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", NODEDB_JOB],
                   env=env, check=True, timeout=600)  # fmt: skip
    assert files_under(pathlib.Path("/etc/iscsi")) == host_before, "the host's /etc/iscsi changed"
    return out


@pytest.mark.slow
@pytest.mark.parametrize("case", cases("nodedb"))
def test_a_bad_iscsi_argument_leaves_the_node_records_as_they_were(case, nodedb):
    text = (nodedb / f"{case.id}.json").read_text()
    (ret,) = json.loads(text)["local"].values()
    assert ret["result"] is False
    assert case.error in ret["comment"]
    assert ret["changes"] == {}
    assert CHAP_SECRET not in text
    before = (nodedb / "before.txt").read_text()
    assert "192.0.2.1,3260,1" in before  # the record the job made is there to be kept
    assert (nodedb / "after.txt").read_text() == before


# --- For real, in a network namespace --------------------------------------------------------


@pytest.fixture
def node(netns):
    """A sandbox node with ARP flux (two veths in one subnet) and an AnyIP route on lo."""
    netns.ip("link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b")
    for name, address in (("veth-a", "198.51.100.1/24"), ("veth-b", "198.51.100.2/24")):
        # no IPv6 on the veths: its link-local addresses and routes come and go on their own
        netns.exec(["sysctl", "-q", "-w", f"net.ipv6.conf.{name}.disable_ipv6=1"])
        netns.ip("addr", "add", address, "dev", name)
        netns.ip("link", "set", name, "up")
    netns.ip("route", "add", "local", "203.0.113.0/25", "dev", "lo", "table", "local")
    netns.wait_for_carrier("veth-a", "veth-b")
    netns.exec(["sysctl", "-q", "-w", "net.ipv4.conf.veth-a.arp_ignore=2"])
    return netns


def snapshot(namespace, root):
    """Routes of every table, links with their MACs, IPv4 sysctls, files under root."""
    routes = [namespace.ip("-json", f"-{v}", "route", "show", "table", "all").stdout for v in "46"]
    routes = [sorted(json.loads(text or "[]"), key=json.dumps) for text in routes]
    sysctls = namespace.exec(["grep", "-r", ".", "/proc/sys/net/ipv4/conf"], check=False).stdout
    return {
        "routes": routes,
        "links": json.loads(namespace.ip("-json", "link", "show").stdout),
        "sysctls": sorted(sysctls.splitlines()),
        "files": files_under(root),
    }


@pytest.fixture(scope="module")
def live_root(tmp_path_factory):
    return tmp_path_factory.mktemp("live-config-root")


@pytest.fixture(scope="module")
def live_loaders(salt_factories, live_root):
    """One set of Salt loaders over this checkout for all live rows (building one takes s)."""
    factory = salt_factories.salt_minion_daemon(
        f"reliability-{uuid.uuid4().hex[:8]}", overrides=minion_overrides(live_root)
    )
    return Loaders(factory.config.copy())


@pytest.fixture
def live_seeded_root(live_root):
    shutil.rmtree(live_root)
    (live_root / "etc/network").mkdir(parents=True)
    (live_root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")
    return live_root


@pytest.fixture
def loop_disk(tmp_path):
    """A 16 MiB loop device holding ext4; yields (device, checksum of its content)."""
    if shutil.which("losetup") is None or shutil.which("mkfs.ext4") is None:
        pytest.skip("needs losetup and mkfs.ext4")
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * (16 << 20))
    subprocess.run(["mkfs.ext4", "-q", str(image)], check=True)
    argv = ["losetup", "-f", "--show", str(image)]
    found = subprocess.run(argv, check=False, capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip(f"no loop device: {found.stderr.strip()}")
    device = found.stdout.strip()
    yield device, lambda: hashlib.sha256(pathlib.Path(device).read_bytes()).hexdigest()
    subprocess.run(["losetup", "-d", device], check=False)


def with_disk(value, device):
    """The row's arguments with the loop device in place of its placeholder."""
    return json.loads(json.dumps(value).replace(json.dumps(LOOP)[1:-1], device))


@pytest.mark.netns
@pytest.mark.parametrize("case", cases("live"))
def test_a_bad_argument_changes_nothing_on_a_real_node(
    case, node, live_loaders, live_seeded_root, request
):
    kwargs, disk = case.kwargs, lambda: None
    if DISK in case.unchanged:
        device, disk = request.getfixturevalue("loop_disk")
        kwargs = with_disk(kwargs, device)
    before = snapshot(node, live_seeded_root), disk()
    function = live_loaders.modules[case.target]
    with node.entered(), pytest.raises(SaltInvocationError) as raised:
        function(**kwargs)
    assert case.error in str(raised.value)
    assert (snapshot(node, live_seeded_root), disk()) == before


ROUNDS = {case.id: tuple(round_) for round_ in formula_rounds() for case in round_}
_applied = {}


def applied(round_, namespace, hostnode_call, root, pillar):
    """
    state.apply of every SLS of the round with their pillars merged, once per round: the
    return code, the output, and the node's snapshots before and after.
    """
    key = tuple(case.id for case in round_)
    if key not in _applied:
        merged = {key: value for case in round_ for key, value in case.pillar.items()}
        pillar.mkdir()
        (pillar / "top.sls").write_text("base:\n  '*':\n    - bad\n")
        (pillar / "bad.sls").write_text(yaml.safe_dump({"hostnode": merged}))
        before = snapshot(namespace, root)
        sls = ",".join(dict.fromkeys(case.target for case in round_))
        code, result = hostnode_call(
            namespace, "state.apply", sls, pillar=pillar, minion_id="hv1.ams1.example.net"
        )
        _applied[key] = code, json.dumps(result), before, snapshot(namespace, root)
    return _applied[key]


@pytest.mark.netns
@pytest.mark.slow
@pytest.mark.parametrize("case", cases("formula"))
def test_a_malformed_pillar_fails_the_formula_naming_the_key(
    case, node, hostnode_call, seeded_root, tmp_path
):
    code, output, before, after = applied(
        ROUNDS[case.id], node, hostnode_call, seeded_root, tmp_path / "pillar"
    )
    assert code != 0
    assert case.error in output, output
    assert after == before
