# AnyIP prefixes of every node (formula formulas/anyip). Each prefix becomes
# `ip route add local <prefix> dev lo` and is persisted for the node's network backend.
hostnode:
  anyip:
    device: lo
    prefixes:
      - 198.51.100.0/24
      - 2001:db8:100::/64
    persist: true
    # backend: netplan   # ifupdown | netplan | networkd; detected when left out
