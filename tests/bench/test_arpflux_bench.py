"""
Tuning the interfaces of a storage node (veths in a namespace) for multipath, 3 keys each, at
several sizes: writing /proc/sys directly (the limit; reading the same keys is the limit of a
no-op run), the arpflux.tune module call (not persisting, like the limit), the arpflux.tuned
state, and the same settings made with Salt's own sysctl.present, one state per interface and
key. Both states persist (sysctl.present into a file of the test's own, never the host's
/etc/sysctl.d) and go through state.template_str in one process. Our rows take the limit as
baseline; sysctl.present's take the state, so their ratio is how much faster the state is.
"""

import os

import benchlib
import pytest

pytestmark = [pytest.mark.bench, pytest.mark.netns]

SIZES = benchlib.sizes(full=[50, 200, 400], tiny=[5])
VALUES = {"rp_filter": 2, "arp_ignore": 1, "arp_announce": 2}
CONF = "/proc/sys/net/ipv4/conf"
EMPTY_SLS = "noop:\n  test.succeed_without_changes\n"
EMPTY_NOTE = "one test.succeed_without_changes state: what any state run costs here"


def tuned_sls(names):
    return (
        "arpflux-bench:\n  arpflux.tuned:\n"
        f"    - interfaces: [{', '.join(names)}]\n"
        "    - values: {rp_filter: 2, arp_ignore: 1, arp_announce: 2}\n"
    )


def sysctl_present_sls(names, config):
    return "".join(
        f"{name}-{key}:\n  sysctl.present:\n    - name: net.ipv4.conf.{name}.{key}\n"
        f"    - value: {value}\n    - config: {config}\n"
        for name in names
        for key, value in VALUES.items()
    )


def proc_write(names):
    for name in names:
        for key, value in VALUES.items():
            with open(os.path.join(CONF, name, key), "w") as handle:
                handle.write(str(value))


def proc_read(names):
    values = {}
    for name in names:
        for key in VALUES:
            with open(os.path.join(CONF, name, key)) as handle:
                values[name, key] = int(handle.read())
    return values


def tuned(node, names):
    with node.entered():
        return proc_read(names) == {(name, key): v for name in names for key, v in VALUES.items()}


@pytest.mark.parametrize("size", SIZES)
def test_tune_interfaces(netns_factory, loaders, config_root, tmp_path, size):
    names = [f"stor{i}" for i in range(size)]
    salts_config = tmp_path / "99-salt-bench.conf"
    persisted = [salts_config, config_root / "etc/sysctl.d/90-hostnode-arpflux.conf"]
    nodes = []

    def make_node():
        for path in persisted:
            path.unlink(missing_ok=True)
        node = netns_factory()
        links = "".join(f"link add stor{i} type veth peer name peer{i}\n" for i in range(size))
        node.exec(["ip", "-batch", "-"], stdin=links)
        nodes.append(node)
        return node

    def contender(action):
        first, again = benchlib.measure(make_node, action)
        assert tuned(nodes[-1], names)
        return first, again

    benchlib.record(f"arpflux.proc_write.{size}", contender(lambda: proc_write(names))[0])
    with nodes[-1].entered():
        benchlib.record(f"arpflux.proc_read.{size}", benchlib.samples(lambda: proc_read(names)))
    module = loaders.modules.arpflux
    first, again = contender(lambda: module.tune(names, values=VALUES, persist=False))
    benchlib.record(f"arpflux.tune.{size}", first, baseline=f"arpflux.proc_write.{size}")
    benchlib.record(f"arpflux.tune_noop.{size}", again, baseline=f"arpflux.proc_read.{size}")
    ours = tuned_sls(names)
    first, again = contender(lambda: benchlib.run_sls(loaders, ours))
    benchlib.record(f"arpflux.tuned.{size}", first, baseline=f"arpflux.proc_write.{size}")
    benchlib.record(f"arpflux.tuned_noop.{size}", again, baseline=f"arpflux.proc_read.{size}")
    empty = benchlib.samples(lambda: benchlib.run_sls(loaders, EMPTY_SLS))
    benchlib.record(f"arpflux.salt_state.{size}", empty, note=EMPTY_NOTE)
    salts = sysctl_present_sls(names, salts_config)
    first, again = contender(lambda: benchlib.run_sls(loaders, salts))
    benchlib.record(f"arpflux.sysctl_present.{size}", first, baseline=f"arpflux.tuned.{size}")
    benchlib.record(
        f"arpflux.sysctl_present_noop.{size}", again, baseline=f"arpflux.tuned_noop.{size}"
    )


def test_growth():
    """How each contender's time grows with the number of interfaces."""
    for contender in ("proc_write", "proc_read", "tune", "tune_noop", "tuned", "tuned_noop",
                      "sysctl_present", "sysctl_present_noop"):  # fmt: skip
        benchlib.growth(f"arpflux.{contender}")
