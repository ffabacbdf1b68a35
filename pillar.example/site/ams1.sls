# Site ams1: its own AnyIP prefixes, stable bond MACs, VLANs 100 and 200, a two-subnet SAN,
# and its Ceph cluster's OSD hosts.
hostnode:
  anyip:
    prefixes:
      - 203.0.113.0/25
      - 2001:db8:200::/64
  node:
    # /etc/hosts of every ams1 node: the Ganeti cluster name and the nodes of the site.
    hosts:
      ganeti.ams1.example.net: 10.1.0.10
      hv1.ams1.example.net: 10.1.0.11
      hv2.ams1.example.net: 10.1.0.12
      hv3.ams1.example.net: 10.1.0.13
      stor1.ams1.example.net: 10.1.0.21
      stor2.ams1.example.net: 10.1.0.22
    bridges:
      vlans: [100, 200]
    # ams1's own NTP servers (node.time): every node keeps its clock with chrony from them.
    time:
      servers: [ntp1.ams1.example.net, ntp2.ams1.example.net]
    # The site's Ganeti cluster (formed by salt-run state.orchestrate node.orchestrate).
    ganeti:
      cluster_name: ganeti.ams1.example.net
      master: hv1.ams1.example.net
      nodes: [hv2.ams1.example.net, hv3.ams1.example.net]
      master_netdev: br0100
      enabled_disk_templates: [plain, drbd]
      vg_name: xenvg
      drbd_usermode_helper: /bin/true
      nic_link: br0100
      # One node group per rack (its top-of-rack switch): Ganeti keeps an instance's DRBD
      # pair and its migrations inside one group.
      groups: [rack1, rack2]
      node_groups:
        hv1.ams1.example.net: rack1
        hv2.ams1.example.net: rack1
        hv3.ams1.example.net: rack2
      # DRBD resync within what the replication network spares (KiB/s).
      disk_parameters:
        drbd: {resync-rate: 61440, c-max-rate: 102400}
  # ams1 replaces NICs often: bond MACs derive from the node's machine-id, not from a NIC.
  bonding:
    bonds:
      bond0:
        mac: stable
  # ams1's SAN has two subnets, one portal in each, each reached by its own NIC.
  storage_net:
    subnets: [192.0.2.0/24, 198.51.100.0/24]
    iscsi:
      targets:
        ams1-san:
          target: iqn.2026-11.net.example:san
          portals:
            - {portal: 192.0.2.1, iface: ieth-a, netdev: stor-a}
            - {portal: 198.51.100.1, iface: ieth-b, netdev: stor-b}
          chap_pillar: hostnode_secrets:iscsi:ams1-san
    multipath:
      check: true
  ceph_osd:
    expected_fsid: 4c0e1e0a-6d5e-4a39-9a49-0d2c3e1b7f10
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
