"""
Converging AnyIP prefixes (half IPv4, half IPv6) into an empty namespace, at several sizes:
raw `ip -batch` of the same routes (the limit), the anyip.converge module call and the
anyip.managed state (first and no-op runs), and the common `cmd.run` + `unless` idiom, one
state per prefix. Both Salt runs go through state.template_str in one process, so both pay the
same Salt overhead. Our rows take the limit as baseline; the idiom's take the state, so their
ratio is how much faster the state is.
"""

import ipaddress
import subprocess

import benchlib
import pytest

pytestmark = [pytest.mark.bench, pytest.mark.netns]

SIZES = benchlib.sizes(full=[1000, 3000, 10000], tiny=[10])
# The idiom forks two shells per prefix: it runs on a sample and is scaled to the size.
IDIOM_SAMPLE = 100
EMPTY_SLS = "noop:\n  test.succeed_without_changes\n"
EMPTY_NOTE = "one test.succeed_without_changes state: what any state run costs here"


def prefixes(count):
    v4 = ipaddress.ip_network("198.18.0.0/15").subnets(new_prefix=28)  # RFC 2544 bench range
    v6 = ipaddress.ip_network("2001:db8::/48").subnets(new_prefix=64)
    half = count // 2
    return [str(next(v4)) for _ in range(half)] + [str(next(v6)) for _ in range(count - half)]


def batch(routes):
    return "".join(f"route add local {p} dev lo table local\n" for p in routes)


def managed_sls(routes):
    return "anyip-bench:\n  anyip.managed:\n    - persist: false\n    - prefixes:\n" + "".join(
        f"      - {p}\n" for p in routes
    )


def idiom_sls(routes):
    """One cmd.run per prefix, skipped when `ip route show` of its family already lists it."""
    return "".join(
        f"anyip-{p}:\n  cmd.run:\n    - name: ip route add local {p} dev lo\n"
        f"    - unless: ip -{6 if ':' in p else 4} route show table local {p} | grep -q .\n"
        for p in routes
    )


def anyip_routes(node):
    routes = node.local_routes(4) | node.local_routes(6)
    return {dst for dst, protocol in routes if protocol != "kernel"}


@pytest.mark.parametrize("size", SIZES)
def test_converge_prefixes(netns_factory, loaders, size):
    routes = prefixes(size)
    nodes, results = [], []

    def make_node():
        nodes.append(netns_factory())
        return nodes[-1]

    def ip_batch():
        subprocess.run(["ip", "-batch", "-"], input=batch(routes), text=True, check=True)

    def converge():
        results.append(loaders.modules.anyip.converge(routes, mode="managed", persist=False))

    benchlib.record(f"anyip.ip_batch.{size}", benchlib.measure(make_node, ip_batch, again=False)[0])
    assert anyip_routes(nodes[-1]) == set(routes)
    first, again = benchlib.measure(make_node, converge)
    assert anyip_routes(nodes[-1]) == set(routes)
    assert len(results[0]["routes"]["added"]) == size and results[1] == {}
    benchlib.record(f"anyip.converge.{size}", first, baseline=f"anyip.ip_batch.{size}")
    benchlib.record(f"anyip.converge_noop.{size}", again, baseline=f"anyip.ip_batch.{size}")
    sls = managed_sls(routes)
    first, again = benchlib.measure(make_node, lambda: benchlib.run_sls(loaders, sls))
    assert anyip_routes(nodes[-1]) == set(routes)
    benchlib.record(f"anyip.managed.{size}", first, baseline=f"anyip.ip_batch.{size}")
    benchlib.record(f"anyip.managed_noop.{size}", again, baseline=f"anyip.ip_batch.{size}")
    empty = benchlib.samples(lambda: benchlib.run_sls(loaders, EMPTY_SLS))
    benchlib.record(f"anyip.salt_state.{size}", empty, note=EMPTY_NOTE)
    idiom(netns_factory, loaders, routes)


def idiom(netns_factory, loaders, routes):
    """
    cmd.run + unless on a sample of the routes, into a table that already holds half of the
    others (the mean size during a whole run: each `unless` reads the table), scaled to all.
    """
    size = len(routes)
    step = max(1, size // IDIOM_SAMPLE)
    sample = routes[::step]
    others = [p for p in routes if p not in set(sample)]
    held = others[::2]
    nodes = []

    def make_node():
        nodes.append(netns_factory())
        if held:
            nodes[-1].exec(["ip", "-batch", "-"], stdin=batch(held))
        return nodes[-1]

    sls = idiom_sls(sample)
    first, again = benchlib.measure(make_node, lambda: benchlib.run_sls(loaders, sls))
    assert anyip_routes(nodes[-1]) == set(sample) | set(held)
    scale = size / len(sample)
    note = (
        f"{len(sample)} of {size} states on a table holding {len(held)} routes, scaled x{scale:g}"
        if scale != 1
        else ""
    )
    benchlib.record(f"anyip.idiom.{size}", [s * scale for s in first],
                    baseline=f"anyip.managed.{size}", note=note)  # fmt: skip
    benchlib.record(f"anyip.idiom_noop.{size}", [s * scale for s in again],
                    baseline=f"anyip.managed_noop.{size}", note=note)  # fmt: skip


def test_growth():
    """How each contender's time grows with the number of prefixes."""
    for contender in ("ip_batch", "converge", "converge_noop", "managed", "managed_noop",
                      "idiom", "idiom_noop"):  # fmt: skip
        benchlib.growth(f"anyip.{contender}")
