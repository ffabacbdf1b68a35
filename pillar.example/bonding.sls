# Bonds of every node (formula formulas/bonding): the MAC of bond0 no longer depends on which
# NIC the hardware enslaves first.
hostnode:
  bonding:
    bonds:
      bond0:
        slaves: [eth0, eth1]     # the configured order: first-slave takes eth0's permanent MAC
        mode: 802.3ad
        miimon: 100
        updelay: 5
        downdelay: 5
        mac: first-slave
    persist: true
    # backend: ifupdown   # ifupdown | netplan | networkd; detected when left out
