"""
Converging 1000 AnyIP prefixes (500 IPv4, 500 IPv6) into an empty namespace, three ways, in one
run: raw `ip -batch` of the same routes (the floor), the anyip.managed state, and the common
`cmd.run` + `unless` idiom, one state per prefix. Both Salt runs go through state.template_str
in one process, so both pay the same Salt overhead. Prints times and ratios; `make bench`.
"""

import ipaddress
import subprocess

import pytest
from benchlib import ROUNDS, measure, run_sls

pytestmark = [pytest.mark.bench, pytest.mark.netns]

COUNT = 1000
# The idiom forks two shells per prefix; it runs on a sample and is scaled to COUNT.
IDIOM_SAMPLE = 100


def prefixes(count):
    v4 = ipaddress.ip_network("198.18.0.0/15").subnets(new_prefix=28)  # RFC 2544 bench range
    v6 = ipaddress.ip_network("2001:db8::/48").subnets(new_prefix=64)
    half = count // 2
    return [str(next(v4)) for _ in range(half)] + [str(next(v6)) for _ in range(count - half)]


def managed_sls(routes):
    return "anyip-bench:\n  anyip.managed:\n    - persist: false\n    - prefixes:\n" + "".join(
        f"      - {p}\n" for p in routes
    )


def idiom_sls(routes):
    return "".join(
        f"anyip-{p}:\n  cmd.run:\n    - name: ip route add local {p} dev lo\n"
        f"    - unless: ip route show table local {p} | grep -q .\n"
        for p in routes
    )


def test_converge_1000_prefixes(netns_factory, loaders):
    routes = prefixes(COUNT)
    batch = "".join(f"route add local {p} dev lo table local\n" for p in routes)
    managed, idiom = managed_sls(routes), idiom_sls(routes[:IDIOM_SAMPLE])
    scale = COUNT / IDIOM_SAMPLE

    def raw():
        subprocess.run(["ip", "-batch", "-"], input=batch, text=True, check=True)

    def module():
        loaders.modules.anyip.converge(routes, mode="managed", persist=False)

    raw_first, _ = measure(netns_factory, raw, again=False)
    rows = [
        ("ip -batch (raw, the floor)", raw_first, None),
        ("anyip.converge (module call)", *measure(netns_factory, module)),
        (
            "anyip.managed (state.template_str)",
            *measure(netns_factory, lambda: run_sls(loaders, managed)),
        ),
        (
            "  of which Salt's cost of any state run",
            *measure(
                netns_factory, lambda: run_sls(loaders, "noop:\n  test.succeed_without_changes\n")
            ),
        ),
    ]
    idiom_first, idiom_again = measure(netns_factory, lambda: run_sls(loaders, idiom))
    rows.append(
        (
            f"cmd.run + unless ({IDIOM_SAMPLE} states x{scale:g})",
            idiom_first * scale,
            idiom_again * scale,
        )
    )

    print(f"\nconverge {COUNT} AnyIP prefixes into an empty namespace, median of {ROUNDS} rounds")
    print(f"{'':42}{'first run':>11}{'no-op run':>11}{'first/raw':>11}")
    for name, first, again in rows:
        again_text = f"{again:10.3f}s" if again is not None else f"{'-':>11}"
        print(f"{name:42}{first:10.3f}s{again_text}{first / raw_first:10.1f}x")
    state_first = rows[2][1]
    print(f"anyip.managed is {rows[-1][1] / state_first:.0f}x faster than cmd.run + unless")
    assert state_first < rows[-1][1]
