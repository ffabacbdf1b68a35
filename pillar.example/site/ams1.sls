# Site ams1 announces its own prefixes; everything else comes from the defaults.
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
