# Ceph OSDs (formula formulas/ceph_osd) of a small 3-node cluster: each node has two HDDs whose
# RocksDB lives on a partition of its NVMe SSD, and one SSD-only OSD. The fsid guards against a
# ceph.conf that points at another cluster.
hostnode:
  ceph_osd:
    expected_fsid: 4c0e1e0a-6d5e-4a39-9a49-0d2c3e1b7f10
    method: lvm
    hosts:
      stor1.ams1.example.net:
        devices:
          - {device: /dev/sda, db_device: /dev/nvme0n1p1, device_class: hdd}
          - {device: /dev/sdb, db_device: /dev/nvme0n1p2, device_class: hdd}
          - {device: /dev/sdc, device_class: ssd}
      stor2.ams1.example.net:
        devices:
          - {device: /dev/sda, db_device: /dev/nvme0n1p1, device_class: hdd}
          - {device: /dev/sdb, db_device: /dev/nvme0n1p2, device_class: hdd}
          - {device: /dev/sdc, device_class: ssd}
      stor3.ams1.example.net:
        devices:
          - {device: /dev/sda, db_device: /dev/nvme0n1p1, device_class: hdd}
          - {device: /dev/sdb, db_device: /dev/nvme0n1p2, device_class: hdd}
          - {device: /dev/sdc, device_class: ssd}
    # OSDs to take out of service on the host that has them, e.g. a failing disk:
    retire: []
