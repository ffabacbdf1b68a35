import pytest
from salt.exceptions import SaltInvocationError

import hostnode_validate as validate


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            ["192.0.2.1/24"],
            r"prefixes\[0\]: '192.0.2.1/24' has host bits set \(did you mean 192.0.2.0/24",
        ),
        (["192.0.2.0/24", "eth0"], r"prefixes\[1\]: 'eth0' is not an IPv4 or IPv6 prefix"),
        (["192.0.2.0/33"], r"prefixes\[0\]: '192.0.2.0/33' is not"),
        ([24], r"prefixes\[0\]: expected a prefix"),
        (["::ffff:192.0.2.0/120"], r"prefixes\[0\]: .* mixes families"),
        ({"a": 1}, "prefixes: expected a list or a comma-separated string"),
    ],
)
def test_bad_prefixes_name_the_field(value, message):
    with pytest.raises(SaltInvocationError, match=message):
        validate.prefixes(value)


def test_family_must_match_every_prefix():
    with pytest.raises(
        SaltInvocationError, match=r"prefixes\[1\]: '2001:db8::/64' is IPv6 but family is inet"
    ):
        validate.prefixes(["192.0.2.0/24", "2001:db8::/64"], family="inet")
    with pytest.raises(SaltInvocationError, match="family: 'ipv4' is not one of inet, inet6"):
        validate.prefixes(["192.0.2.0/24"], family="ipv4")


def test_comma_separated_cli_strings_and_duplicates():
    networks = validate.prefixes("192.0.2.0/24, 2001:db8::/64,192.0.2.0/24")
    assert [str(n) for n in networks] == ["192.0.2.0/24", "2001:db8::/64"]
    assert [str(n) for n in validate.prefixes("192.0.2.9")] == ["192.0.2.9/32"]


@pytest.mark.parametrize("name", ["lo", "eth0", "eth0.100", "bond-storage", "enp3s0f1", "a" * 15])
def test_valid_interface_names(name):
    assert validate.interface_name(name) == name


@pytest.mark.parametrize("name", ["", "a" * 16, "eth0/1", "eth 0", "eth0:1", ".", "..", None, 5])
def test_invalid_interface_names(name):
    with pytest.raises(SaltInvocationError, match=r"device: .* is not a valid interface name"):
        validate.interface_name(name)


def test_choice_lists_what_is_allowed():
    with pytest.raises(
        SaltInvocationError, match="backend: 'wicked' is not one of ifupdown, netplan, networkd"
    ):
        validate.choice("wicked", ("netplan", "ifupdown", "networkd"), "backend")
