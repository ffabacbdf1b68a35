"""The anyip execution module with cmd.run_all replaced by a table of real captured outputs."""

import json

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from support import FIXTURES, CommandTable, fixture_text, load_module, salt_dunders

anyip = load_module("modules", "anyip")

READ = ["ip", "-details", "-json", "route", "show", "table", "all", "type", "local"]
BATCH = ["ip", "-batch", "-"]
TABLE = fixture_text("ip", "local-routes-anyip.json")


def with_route(table, dst, dev="lo"):
    routes = json.loads(table)
    routes.append({"type": "local", "dst": dst, "dev": dev, "table": "local", "flags": []})
    return json.dumps(routes)


@pytest.fixture
def commands():
    return CommandTable({tuple(READ): (0, TABLE, "")})


@pytest.fixture
def configure_loader_modules(commands, config_root):
    return {anyip: salt_dunders(commands, config_root)}


def test_list_reads_both_families_in_one_dump_and_only_anyip_routes(commands):
    assert anyip.list_() == [
        {"prefix": "192.0.2.9/32", "device": "lo", "family": "inet", "protocol": "static"},
        {"prefix": "203.0.113.0/25", "device": "lo", "family": "inet", "protocol": "boot"},
        {"prefix": "203.0.113.128/26", "device": "veth0", "family": "inet", "protocol": "boot"},
        {"prefix": "2001:db8:200::/64", "device": "lo", "family": "inet6", "protocol": "boot"},
    ]
    assert commands.argvs() == [READ]


def test_list_from_a_saved_file_runs_nothing(commands):
    source = str(FIXTURES / "ip" / "local-table-anyip.txt")
    routes = anyip.list_(device="lo", family="inet6", kernel=True, source=source)
    assert [r["prefix"] for r in routes] == ["::1/128", "2001:db8:200::/64"]
    assert commands.calls == []


def test_a_fresh_namespace_has_no_anyip_routes(commands):
    commands.answers[tuple(READ)] = (0, fixture_text("ip", "local-routes-fresh.json"), "")
    assert anyip.list_() == []
    assert [r["prefix"] for r in anyip.list_(kernel=True, family="inet6")] == ["::1/128"]


def test_unreadable_output_is_a_clear_error(commands):
    commands.answers[tuple(READ)] = (0, "Error: garbage", "")
    with pytest.raises(
        CommandExecutionError, match="cannot read the local routing table: ip route JSON"
    ):
        anyip.list_()


def test_test_mode_predicts_and_changes_nothing(commands, config_root):
    changes = anyip.converge(
        ["203.0.113.0/25", "198.51.100.0/24"], mode="managed", backend="networkd", test=True
    )
    assert changes["routes"] == {
        "added": ["198.51.100.0/24"],
        "removed": ["192.0.2.9/32", "2001:db8:200::/64"],
    }
    path = str(config_root / "etc/systemd/network/10-hostnode-anyip-lo.network")
    assert changes["file"]["path"] == path
    assert "+Destination=198.51.100.0/24\n" in changes["file"]["diff"]
    assert commands.argvs() == [READ]
    assert not (config_root / "etc").exists()


def test_apply_reads_once_runs_one_batch_and_writes_the_file(commands, config_root):
    changes = anyip.converge(["198.51.100.0/24"], mode="present", backend="networkd")
    assert commands.calls == [
        (READ, None),
        (BATCH, "route add local 198.51.100.0/24 dev lo table local\n"),
    ]
    assert changes["routes"] == {"added": ["198.51.100.0/24"], "removed": []}
    written = config_root / "etc/systemd/network/10-hostnode-anyip-lo.network"
    assert "Destination=198.51.100.0/24" in written.read_text()


def test_nothing_to_do_returns_empty_changes_and_runs_no_batch(commands):
    assert anyip.converge(["203.0.113.0/25", "2001:db8:200::/64"], persist=False) == {}
    assert BATCH not in commands.argvs()


def test_present_keeps_prefixes_persisted_earlier(commands, config_root):
    anyip.converge(["203.0.113.0/25"], backend="networkd")
    anyip.converge(["198.51.100.0/24"], backend="networkd")
    assert anyip.persisted(backend="networkd")["prefixes"] == ["198.51.100.0/24", "203.0.113.0/25"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"prefixes": ["192.0.2.1/24"]}, r"prefixes\[0\]: '192.0.2.1/24' has host bits set"),
        (
            {"prefixes": ["192.0.2.0/24"], "device": "nosuchdev0"},
            "device: 'nosuchdev0' does not exist",
        ),
        ({"prefixes": ["192.0.2.0/24"], "device": "eth0/1"}, "device: 'eth0/1' is not a valid"),
        ({"prefixes": ["192.0.2.0/24"], "mode": "exact"}, "mode: 'exact' is not one of"),
        ({"prefixes": ["192.0.2.0/24"], "backend": "wicked"}, "backend: 'wicked' is not one of"),
    ],
)
def test_bad_input_changes_nothing(commands, arguments, message):
    with pytest.raises(SaltInvocationError, match=message):
        anyip.converge(**arguments)
    assert BATCH not in commands.argvs()


def test_without_a_detectable_backend_persisting_asks_for_one(commands):
    with pytest.raises(SaltInvocationError, match="backend: no network backend found under"):
        anyip.converge(["198.51.100.0/24"])
    assert commands.calls == []


def test_a_failed_batch_reads_the_table_again_and_reports_what_did_change(commands):
    commands.answers[tuple(READ)] = [(0, TABLE, ""), (0, with_route(TABLE, "198.51.100.0/24"), "")]
    commands.answers[tuple(BATCH)] = (
        1,
        "",
        "RTNETLINK answers: No such device\nCommand failed -:2",
    )
    with pytest.raises(CommandExecutionError, match="No such device") as failure:
        anyip.converge(["198.51.100.0/24", "2001:db8:9::/64"], persist=False)
    assert failure.value.info == {"routes": {"added": ["198.51.100.0/24"], "removed": []}}
    assert commands.argvs() == [READ, BATCH, READ]


def test_random_addresses_are_distinct_and_bounded():
    addresses = anyip.random_addresses("192.0.2.0/30", count=4)
    assert addresses == ["192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"]
    with pytest.raises(SaltInvocationError, match="count: 5 is more than the 4 addresses"):
        anyip.random_addresses("192.0.2.0/30", count=5)
    with pytest.raises(SaltInvocationError, match=r"prefix: '192\.0\.2\.1/30' has host bits set"):
        anyip.random_address("192.0.2.1/30")
