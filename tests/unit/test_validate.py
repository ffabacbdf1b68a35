import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from salt.exceptions import SaltInvocationError

from saltext.hostnode.utils import validate

# Forms ipaddress takes that the fast reading leaves to it: a netmask, a scope id.
SLOW_FORMS = ("192.0.2.0/255.255.255.0", "fe80::1%eth0")


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


@pytest.mark.parametrize(
    "text",
    ["192.0.2.0/24", "192.0.2.9", "0.0.0.0/0", "2001:DB8:100::/64", "::1", "::/0", "::1.2.3.4",
     "::ffff:192.0.2.0/120", "192.0.2.1/24", "192.0.2.0/33", "01.2.3.4/32", "192.0.2.0/+24",
     "192.0.2.0/", "192.0.2.0/255.255.255.0", "fe80::1%eth0", "1::00001/128", "eth0", ""],
)  # fmt: skip
def test_the_fast_reading_of_a_prefix_agrees_with_ipaddress(text):
    try:
        expected = ipaddress.ip_network(text, strict=True)
    except ValueError:
        expected = None
    network = validate.network_of(text)
    assert network in (None, expected)
    assert network is not None or text in SLOW_FORMS or expected is None


@given(st.ip_addresses(), st.integers(0, 128))
def test_every_canonical_prefix_reads_fast_and_the_same(address, length):
    network = ipaddress.ip_network(f"{address}/{min(length, address.max_prefixlen)}", strict=False)
    assert validate.network_of(str(network)) == network
    assert validate.network_of(str(network).upper()) == network


@given(st.ip_addresses(), st.integers(0, 128))
def test_the_fast_text_of_a_network_is_its_str(address, length):
    network = ipaddress.ip_network(f"{address}/{min(length, address.max_prefixlen)}", strict=False)
    assert validate.text_of(network) == str(network)


@pytest.mark.parametrize("text", ["::1.2.3.4/128", "::ffff:0:0/96", "::/0", "1::/16", "::1:0:0/96"])
def test_text_of_networks_that_inet_ntop_writes_otherwise(text):
    assert validate.text_of(ipaddress.ip_network(text)) == str(ipaddress.ip_network(text))
