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


def test_a_host_without_devices_renders_nothing_but_retirement(loaders):
    pillar = {"hostnode": {"ceph_osd": {**PILLAR["hostnode"]["ceph_osd"], "retire": [7]}}}
    high = loaders.modules.state.show_sls("ceph_osd", pillar=pillar)
    assert "hostnode-ceph-osd-devices" not in high
    retire = arguments(high["hostnode-ceph-osd-retire"])
    assert retire["function"] == "absent" and retire["osd_ids"] == [7]
    assert retire["timeout"] == 1800 and retire["zap"] is False
