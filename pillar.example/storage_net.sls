# Storage network (formula formulas/storage_net): tune every interface that shares an IPv4
# subnet with another, with the values multipath to a SAN needs.
hostnode:
  storage_net:
    arpflux:
      auto: true
      values:
        rp_filter: 2
        arp_ignore: 1
        arp_announce: 2
