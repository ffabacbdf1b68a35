"""
Parsing `multipath -ll` of a large storage client: 2,000 maps of 4 paths each, made from the
guest's captured map (renamed per map, its path lines repeated), against splitting the same text
into words (the floor). Prints times and the ratio; `make bench`.
"""

import pytest
from benchlib import median_time

import hostnode_multipath
from support import fixture_text

pytestmark = pytest.mark.bench


def topology(count):
    header, size, group, first, last = fixture_text("multipath", "ll-two-paths.txt").splitlines()
    blocks = []
    for index in range(count):
        paths = [first.replace("7:0:0:0", f"7:0:{index}:{n}") for n in range(3)]
        blocks += [header.replace("mpatha", f"mpath{index}").replace("dm-0", f"dm-{index}"),
                   size, group, *paths, last]  # fmt: skip
    return "\n".join(blocks) + "\n"


def test_parse_2000_maps_of_4_paths():
    text = topology(2000)
    maps = hostnode_multipath.parse_ll(text)
    assert len(maps) == 2000 and all(len(m["groups"][0]["paths"]) == 4 for m in maps)
    ours = median_time(lambda: hostnode_multipath.health(hostnode_multipath.parse_ll(text)))
    floor = median_time(lambda: [line.split() for line in text.splitlines()])
    print(f"\nmultipath -ll 2000 maps x 4 paths, parse + health: {ours * 1000:.1f} ms "
          f"(split only: {floor * 1000:.1f} ms, {ours / floor:.1f}x)")  # fmt: skip
