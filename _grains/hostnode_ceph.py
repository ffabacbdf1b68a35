"""
Grain ``hostnode_ceph_osds``: the OSDs activated on this host, read from their data directories
under /var/lib/ceph/osd (no call to the cluster or to ceph-volume)::

    hostnode_ceph_osds:
      "0": {cluster: ceph, osd_fsid: 838e6b24-..., cluster_fsid: 44cd092a-...,
            objectstore: bluestore, devices: [/dev/sdc], db_device: null}
"""

import os

OSD_ROOT = "/var/lib/ceph/osd"


def hostnode_ceph():
    """The OSDs of this host by id; no key at all when there are none."""
    osds = {}
    try:
        entries = sorted(os.listdir(OSD_ROOT))
    except OSError:
        return {}
    for entry in entries:
        cluster, _, osd_id = entry.rpartition("-")
        folder = os.path.join(OSD_ROOT, entry)
        if cluster and osd_id.isdigit() and os.path.exists(os.path.join(folder, "whoami")):
            osds[osd_id] = _osd(cluster, folder)
    return {"hostnode_ceph_osds": osds} if osds else {}


def _osd(cluster, folder):
    def read(name):
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                return handle.read().strip() or None
        except OSError:
            return None

    def target(name):
        path = os.path.join(folder, name)
        return os.path.realpath(path) if os.path.islink(path) else None

    return {
        "cluster": cluster,
        "osd_fsid": read("fsid"),
        "cluster_fsid": read("ceph_fsid"),
        "objectstore": read("type"),
        "devices": [device for device in [target("block")] if device],
        "db_device": target("block.db"),
    }
