"""The ceph_osd formula rendered by Salt's own state compiler from its defaults and pillar."""

import yaml

from support import REPO

PILLAR = yaml.safe_load((REPO / "pillar.example/ceph_osd.sls").read_text())
SITE = yaml.safe_load((REPO / "pillar.example/site/ams1.sls").read_text())


def arguments(body):
    merged = {}
    for item in body["ceph_osd"]:
        merged.update(item if isinstance(item, dict) else {"function": item})
    return merged


def test_each_host_gets_its_own_devices(loaders):
    """This minion plays stor2 of site ams1: its entry of `hosts` is the one rendered."""
    settings = {**PILLAR["hostnode"]["ceph_osd"], **SITE["hostnode"]["ceph_osd"]}
    hosts = {loaders.opts["id"]: settings["hosts"]["stor2.ams1.example.net"]}
    pillar = {"hostnode": {"ceph_osd": {**settings, "hosts": hosts}}}
    high = loaders.modules.state.show_sls("ceph_osd", pillar=pillar)
    present = arguments(high["hostnode-ceph-osd-devices"])
    assert present["function"] == "present" and present["method"] == "lvm"
    assert present["expected_fsid"] == "4c0e1e0a-6d5e-4a39-9a49-0d2c3e1b7f10"
    assert [d["device_class"] for d in present["devices"]] == ["hdd", "hdd", "ssd"]
    assert present["devices"][0]["db_device"] == "/dev/nvme0n1p1"
    assert "hostnode-ceph-osd-retire" not in high


def test_a_host_retires_only_its_own_listed_osds(loaders):
    """Retirement is per host: stor2's list is not this minion's business."""
    own = {"retire": [7]}
    hosts = {loaders.opts["id"]: own, "stor2.ams1.example.net": {"retire": [9]}}
    pillar = {"hostnode": {"ceph_osd": {**PILLAR["hostnode"]["ceph_osd"], "hosts": hosts}}}
    high = loaders.modules.state.show_sls("ceph_osd", pillar=pillar)
    assert "hostnode-ceph-osd-devices" not in high
    retire = arguments(high["hostnode-ceph-osd-retire"])
    assert retire["function"] == "absent" and retire["osd_ids"] == [7]
    assert retire["timeout"] == 1800 and retire["zap"] is False
    others = {"hostnode": {"ceph_osd": {"hosts": {"stor2.ams1.example.net": {"retire": [9]}}}}}
    high = loaders.modules.state.show_sls("ceph_osd", pillar=others)
    assert "hostnode-ceph-osd-retire" not in high


def test_the_old_common_retire_list_is_refused_saying_where_it_moved(loaders):
    pillar = {"hostnode": {"ceph_osd": {"retire": [7]}}}
    refused = loaders.modules.state.show_sls("ceph_osd", pillar=pillar)
    assert isinstance(refused, list), refused
    assert ("hostnode:ceph_osd:retire: moved to hostnode:ceph_osd:hosts:<minion id>:retire"
            in " ".join(refused))  # fmt: skip


def test_clean_leaves_the_osds_alone_and_purging_them_is_named(loaders):
    hosts = {loaders.opts["id"]: {"devices": ["/dev/sdc"], "retire": [7]}}
    pillar = {"hostnode": {"ceph_osd": {"hosts": hosts}}}
    clean = loaders.modules.state.show_sls("ceph_osd.clean", pillar=pillar)
    assert [arguments_of(body) for body in clean.values()] == ["test"]
    purge = loaders.modules.state.show_sls("ceph_osd.purge_host", pillar=pillar)
    state = arguments(purge["hostnode-ceph-osd-purge-host"])
    assert state["function"] == "host_purged" and state["confirm"] is None
    hosts[loaders.opts["id"]]["purge_host"] = "stor1"
    purge = loaders.modules.state.show_sls("ceph_osd.purge_host", pillar=pillar)
    assert arguments(purge["hostnode-ceph-osd-purge-host"])["confirm"] == "stor1"


def arguments_of(body):
    """The state module of a rendered state."""
    return next(key for key in body if not key.startswith("__"))
