"""The arpflux execution module over a copy of /proc/sys/net/ipv4/conf made from a fixture."""

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import arpflux as hostnode_arpflux
from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

arpflux = load_module("modules", "arpflux")
SYSCTL_FIXTURE = FIXTURES / "sysctl" / "net-ipv4-conf.txt"
ADDR_FIXTURE = FIXTURES / "ip" / "addr-storage-node.txt"


class Kernel(CommandTable):
    """cmd.run_all whose `sysctl -w` writes into the fake /proc tree, as the real one would."""

    def __init__(self, conf_dir):
        super().__init__({("ip", "-json", "addr", "show"): (0, ADDR_FIXTURE.read_text(), "")})
        self.conf_dir = conf_dir

    def __call__(self, argv, python_shell=False, stdin=None, **options):
        if argv[:3] == ["sysctl", "-q", "-w"]:
            for assignment in argv[3:]:
                name, value = assignment.split("=")
                interface, key = name.removeprefix("net.ipv4.conf.").rsplit(".", 1)
                (self.conf_dir / interface.replace("/", ".") / key).write_text(f"{value}\n")
        return super().__call__(argv, python_shell, stdin, **options)


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    conf_dir = tmp_path / "proc-conf"
    for interface, keys in hostnode_arpflux.parse_sysctl(SYSCTL_FIXTURE.read_text()).items():
        (conf_dir / interface).mkdir(parents=True)
        for key, value in keys.items():
            (conf_dir / interface / key).write_text(f"{value}\n")
    monkeypatch.setattr(arpflux, "CONF_DIR", str(conf_dir))
    return Kernel(conf_dir)


@pytest.fixture
def configure_loader_modules(kernel, config_root):
    return {arpflux: salt_dunders(kernel, config_root)}


def test_status_and_detect_from_saved_outputs_run_nothing(kernel):
    report = arpflux.status(interfaces="stor-a", source=str(SYSCTL_FIXTURE))
    assert report["stor-a"]["warnings"] == ["rp_filter: conf/all (1) overrides the interface's 0"]
    groups = arpflux.detect(source=str(ADDR_FIXTURE))
    assert groups[0]["interfaces"] == ["eth0.100", "stor-a", "stor-b"]
    assert kernel.calls == []


def test_live_read_matches_the_saved_output():
    assert arpflux.status() == hostnode_arpflux.status(
        hostnode_arpflux.parse_sysctl(fixture_text("sysctl", "net-ipv4-conf.txt"))
    )


def test_test_mode_predicts_and_runs_no_write(kernel, config_root):
    changes = arpflux.tune(auto=True, test=True)
    assert set(changes["sysctl"]) == {"eth0.100", "stor-a", "stor-b"}
    assert changes["sysctl"]["eth0.100"] == {
        "rp_filter": {"old": 0, "new": 2},
        "arp_ignore": {"old": 2, "new": 1},
        "arp_announce": {"old": 0, "new": 2},
    }
    assert kernel.argvs() == [["ip", "-json", "addr", "show"]]
    assert not (config_root / "etc").exists()


def test_tune_writes_everything_in_one_sysctl_call_in_a_safe_order(kernel, config_root):
    changes = arpflux.tune(interfaces=["stor-a", "stor-b"], values={"rp_filter": 0})
    (writes,) = [argv for argv in kernel.argvs() if argv[0] == "sysctl"]
    assert writes[:5] == [
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.conf.default.rp_filter=1",
        "net.ipv4.conf.eth0/100.rp_filter=1",
    ]
    assert writes[-1] == "net.ipv4.conf.all.rp_filter=0"
    assert changes["sysctl"]["all"] == {"rp_filter": {"old": 1, "new": 0}}
    persisted = (config_root / "etc/sysctl.d/90-hostnode-arpflux.conf").read_text()
    assert persisted.splitlines()[1:4] == [
        "# tuned: stor-a stor-b",
        "net.ipv4.conf.all.rp_filter = 0",
        "net.ipv4.conf.default.rp_filter = 1",
    ]
    assert arpflux.tune(interfaces=["stor-a", "stor-b"], values={"rp_filter": 0}) == {}


def test_absent_interfaces_are_persisted_only_when_allowed(kernel, config_root):
    with pytest.raises(SaltInvocationError, match=r"interfaces\[0\]: 'bond1' does not exist"):
        arpflux.tune(interfaces="bond1")
    changes = arpflux.tune(interfaces="bond1", absent_ok=True)
    assert "sysctl" not in changes
    assert arpflux.persisted() == {"bond1": {"rp_filter": 2, "arp_ignore": 1, "arp_announce": 2}}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "interfaces: give the interfaces to tune, or auto=True"),
        ({"interfaces": "all"}, r"interfaces\[0\]: 'all' is a template"),
        ({"interfaces": "eth0/1"}, r"interfaces\[0\]: 'eth0/1' is not a valid interface name"),
        ({"interfaces": "stor-a", "values": {"rp_filter": 3}}, r"values\.rp_filter: 3 is not one"),
        ({"interfaces": "stor-a", "values": {"rp_filter": True}}, r"values\.rp_filter: True"),
        ({"interfaces": "stor-a", "values": []}, "values: expected a mapping"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(kernel, arguments, message):
    with pytest.raises(SaltInvocationError, match=message):
        arpflux.tune(**arguments)
    assert kernel.calls == []


def test_a_failed_write_reports_the_error_and_what_did_change(kernel):
    def fail_after_first(argv, python_shell=False, stdin=None, **options):
        if argv[0] == "sysctl":
            kernel(argv[:4], python_shell, stdin)  # the kernel took the first assignment only
            return {"retcode": 255, "stdout": "", "stderr": "sysctl: permission denied", "pid": 1}
        return kernel(argv, python_shell, stdin, **options)

    arpflux.__salt__["cmd.run_all"] = fail_after_first
    with pytest.raises(CommandExecutionError, match="permission denied") as failure:
        arpflux.tune(interfaces="stor-a", persist=False)
    assert failure.value.info == {"sysctl": {"stor-a": {"rp_filter": {"old": 0, "new": 2}}}}


def test_a_tune_reads_only_the_keys_and_interfaces_in_question(kernel):
    (kernel.conf_dir / "eth0.100" / "rp_filter").write_text("unreadable\n")
    changes = arpflux.tune(interfaces="stor-a", persist=False)
    assert set(changes["sysctl"]) == {"stor-a"}


def test_a_write_that_succeeds_is_not_read_back(kernel):
    def sysctl_without_effect(argv, python_shell=False, stdin=None, **options):
        return {"retcode": 0, "stdout": "", "stderr": "", "pid": 1}

    arpflux.__salt__["cmd.run_all"] = sysctl_without_effect
    changes = arpflux.tune(interfaces="stor-a", persist=False)
    assert changes["sysctl"]["stor-a"]["rp_filter"] == {"old": 0, "new": 2}
