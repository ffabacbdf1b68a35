# Site ams1: its own AnyIP prefixes, stable bond MACs and its two-subnet SAN.
hostnode:
  anyip:
    prefixes:
      - 203.0.113.0/25
      - 2001:db8:200::/64
  # ams1 replaces NICs often: bond MACs derive from the node's machine-id, not from a NIC.
  bonding:
    bonds:
      bond0:
        mac: stable
  # ams1's SAN has two subnets, one portal in each, each reached by its own NIC.
  storage_net:
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
