"""
Parsing the topology of a large storage client, 2,000 maps of 4 paths each: `multipath -ll`
made from the guest's captured map (renamed per map, its path lines repeated) against splitting
the same text into words, and multipathd's JSON made the same way against json.loads alone (the
floors). Prints times and the ratios; `make bench`.
"""

import json

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


def maps_json(count):
    """multipathd's JSON of the guest's map, 2 paths repeated to 4, as `count` maps."""
    document = json.loads(fixture_text("multipath", "maps-json-healthy.txt"))
    (template,) = document["maps"]
    group = template["path_groups"][0]
    group["paths"] = group["paths"] * 2
    document["maps"] = [
        {**template, "name": f"mpath{index}", "sysfs": f"dm-{index}"} for index in range(count)
    ]
    return json.dumps(document, indent=3)


def test_parse_2000_maps_of_4_paths_from_multipathd_json():
    text = maps_json(2000)
    maps = hostnode_multipath.parse_maps_json(text)
    assert len(maps) == 2000 and all(len(m["groups"][0]["paths"]) == 4 for m in maps)
    ours = median_time(lambda: hostnode_multipath.health(hostnode_multipath.parse_maps_json(text)))
    floor = median_time(lambda: json.loads(text))
    print(f"\nmultipathd maps json 2000 maps x 4 paths, parse + health: {ours * 1000:.1f} ms "
          f"(json.loads only: {floor * 1000:.1f} ms, {ours / floor:.1f}x)")  # fmt: skip
