"""
Our parsers on the largest inputs a node gives them, each against a floor no parser can beat
(splitting the same text into words, or json.loads of the same JSON), at three sizes for the
growth. Inputs are captured fixtures repeated under new names:

- ``multipath -ll``, 2,000 maps of 4 paths (the guest's map, its path line repeated), parsed and
  checked for health; multipathd's JSON of the same topology;
- ``/proc/user_beancounters`` of 1,000 containers of 24 resources (a published container's
  block under new ids);
- ``ceph-volume lvm list --format json`` with 200 OSDs (the guest's OSD, block and DB LVs, under
  new ids and fsids);
- ``/proc/net/bonding`` of a 16-slave 802.3ad bond (the guest's slave block renamed).

Target: each parser under 100 ms at its full size.
"""

import json
import uuid

import pytest
from benchlib import FULL, ROUNDS, growth, record, samples, sizes

from saltext.hostnode.utils import beancounters as hostnode_beancounters
from saltext.hostnode.utils import bond as hostnode_bond
from saltext.hostnode.utils import ceph as hostnode_ceph
from saltext.hostnode.utils import multipath as hostnode_multipath
from support import fixture_text

pytestmark = pytest.mark.bench

# A bond parses in microseconds: more rounds keep its median out of the timer's noise.
BOND_ROUNDS = ROUNDS * 30 if FULL else 1


MAPS = sizes(full=[500, 1000, 2000], tiny=[3])


def words(text):
    return [line.split() for line in text.splitlines()]


def compare(contender, floor, size, parse, text, rounds=ROUNDS):
    """Rows parsers.<floor>.<size> and parsers.<contender>.<size>, the floor the baseline."""
    record(f"parsers.{floor}.{size}", samples(lambda: floor_of(floor)(text), rounds))
    row = record(
        f"parsers.{contender}.{size}", samples(lambda: parse(text), rounds),
        baseline=f"parsers.{floor}.{size}",
    )  # fmt: skip
    print(f"\n{contender} {size}: {row['median_s'] * 1000:.2f} ms, {row['ratio']:.1f}x {floor}")


def floor_of(name):
    return json.loads if name.endswith("json_loads") else words


def fit(*contenders):
    for contender in contenders:
        growth(f"parsers.{contender}")


def multipath_ll(count):
    header, size, group, first, last = fixture_text("multipath", "ll-two-paths.txt").splitlines()
    blocks = []
    for index in range(count):
        paths = [first.replace("7:0:0:0", f"7:0:{index}:{n}") for n in range(3)]
        blocks += [header.replace("mpatha", f"mpath{index}").replace("dm-0", f"dm-{index}"),
                   size, group, *paths, last]  # fmt: skip
    return "\n".join(blocks) + "\n"


def multipathd_json(count):
    """multipathd's JSON of the guest's map, 2 paths repeated to 4, as count maps."""
    document = json.loads(fixture_text("multipath", "maps-json-healthy.txt"))
    (template,) = document["maps"]
    group = template["path_groups"][0]
    group["paths"] = group["paths"] * 2
    document["maps"] = [
        {**template, "name": f"mpath{index}", "sysfs": f"dm-{index}"} for index in range(count)
    ]
    return json.dumps(document, indent=3)


def test_multipath_ll_maps_of_4_paths():
    for maps in MAPS:
        text = multipath_ll(maps)
        parsed = hostnode_multipath.parse_ll(text)
        assert len(parsed) == maps and all(len(m["groups"][0]["paths"]) == 4 for m in parsed)
        compare("multipath_ll", "multipath_ll_split", maps,
                lambda t: hostnode_multipath.health(hostnode_multipath.parse_ll(t)),
                text)  # fmt: skip
    fit("multipath_ll", "multipath_ll_split")


def test_multipathd_json_maps_of_4_paths():
    for maps in MAPS:
        text = multipathd_json(maps)
        parsed = hostnode_multipath.parse_maps_json(text)
        assert len(parsed) == maps and all(len(m["groups"][0]["paths"]) == 4 for m in parsed)
        compare("multipathd_json", "multipathd_json_loads", maps,
                lambda t: hostnode_multipath.health(hostnode_multipath.parse_maps_json(t)),
                text)  # fmt: skip
    fit("multipathd_json", "multipathd_json_loads")


def user_beancounters(containers):
    lines = fixture_text("beancounters", "scout-container-9833.txt").splitlines()
    header, block = lines[:2], lines[2:]
    rows = []
    for ctid in range(101, 101 + containers):
        rows.append(block[0].replace("9833:", f"{ctid}:"))
        rows += block[1:]
    return "\n".join(header + rows) + "\n"


def test_beancounters_containers_of_24_resources():
    for containers in sizes(full=[250, 500, 1000], tiny=[3]):
        text = user_beancounters(containers)
        parsed = hostnode_beancounters.parse(text)
        # 24 rows per container, 4 of them dummy
        assert len(parsed) == containers and all(len(r) == 20 for r in parsed.values())
        compare("beancounters", "beancounters_split", containers, hostnode_beancounters.parse,
                text)  # fmt: skip
    fit("beancounters", "beancounters_split")


def ceph_volume_lvm_list(osds):
    """The guest's OSD (a block and a DB LV) as osds OSDs, each with an id and fsid of its own."""
    ((osd_id, volumes),) = json.loads(fixture_text("ceph-volume", "lvm-list-db.json")).items()
    template = json.dumps(volumes)
    fsid = volumes[0]["tags"]["ceph.osd_fsid"]
    listing = {}
    for index in range(osds):
        renamed = template.replace(fsid, str(uuid.uuid5(uuid.NAMESPACE_OID, str(index))))
        renamed = renamed.replace(f'"ceph.osd_id": "{osd_id}"', f'"ceph.osd_id": "{index}"')
        listing[str(index)] = json.loads(renamed.replace(f"ceph.osd_id={osd_id},",
                                                         f"ceph.osd_id={index},"))  # fmt: skip
    return json.dumps(listing, indent=4)


def test_ceph_volume_lvm_list_osds():
    for osds in sizes(full=[50, 100, 200], tiny=[3]):
        text = ceph_volume_lvm_list(osds)
        parsed = hostnode_ceph.parse_lvm_list(text)
        assert [osd["id"] for osd in parsed] == list(range(osds))
        assert len({osd["osd_fsid"] for osd in parsed}) == osds
        assert all(osd["db_device"] and osd["device_class"] == "hdd" for osd in parsed)
        compare("ceph_lvm_list", "ceph_lvm_list_json_loads", osds, hostnode_ceph.parse_lvm_list,
                text)  # fmt: skip
    fit("ceph_lvm_list", "ceph_lvm_list_json_loads")


def proc_net_bonding(slaves):
    """The guest's 802.3ad bond with slaves slaves: eth0's block under new names and MACs."""
    text = fixture_text("bonding", "802.3ad.txt")
    head, first, _ = text.split("Slave Interface: ")
    block = "Slave Interface: " + first
    mac = "52:54:00:12:34:01"
    renamed = [
        block.replace("eth0", f"eth{n}").replace(f"addr: {mac}", f"addr: {mac[:-5]}35:{n:02x}")
        for n in range(slaves)
    ]
    return head + "".join(renamed)


def test_bonding_slaves():
    for slaves in sizes(full=[4, 8, 16], tiny=[2]):
        text = proc_net_bonding(slaves)
        bond = hostnode_bond.parse_bonding(text)
        assert [s["name"] for s in bond["slaves"]] == [f"eth{n}" for n in range(slaves)]
        assert len({s["permanent_mac"] for s in bond["slaves"]}) == slaves
        assert bond["mode"] == "802.3ad" and bond["ad_info"]["aggregator_id"] == 1
        compare("bonding", "bonding_split", slaves, hostnode_bond.parse_bonding, text,
                BOND_ROUNDS)  # fmt: skip
    fit("bonding", "bonding_split")
