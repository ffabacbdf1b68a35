# Ceph OSDs (formula formulas/ceph_osd), common to every site: LVM OSDs (a VG and LV per
# device, so an HDD's RocksDB can live on an NVMe partition). Each site names its cluster's
# fsid and its OSD hosts with their devices (site/*.sls); the formula is applied to nodes
# whose role needs it (role storage, see node.sls' role_formulas).
hostnode:
  ceph_osd:
    method: lvm
    dmcrypt: false
    # OSDs to take out of service on the host that has them, e.g. a failing disk:
    retire: []
