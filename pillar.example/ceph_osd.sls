# Ceph OSDs (formula formulas/ceph_osd), common to every site: LVM OSDs (a VG and LV per
# device, so an HDD's RocksDB can live on an NVMe partition). Each site names its cluster's
# fsid and its OSD hosts with their devices (site/*.sls); the formula is applied to nodes
# whose role needs it (role storage, see node.sls' role_formulas).
#
# OSDs to take out of service (a failing disk) are listed under the host that has them, in
# the site's file, and only that host drains and purges them; an id under another CRUSH host
# is refused:
#
#   hostnode:
#     ceph_osd:
#       hosts:
#         stor1.ams1.example.net:
#           devices: [...]
#           retire: [7]
hostnode:
  ceph_osd:
    method: lvm
    dmcrypt: false
