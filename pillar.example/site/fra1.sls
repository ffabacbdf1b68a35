# Site fra1: an EqualLogic-style group: one portal (the group IP) in the one SAN subnet,
# reached through both SAN NICs, which share that subnet. That is the ARP flux condition the
# arpflux part of storage_net tunes away; each session leaves by its own NIC (iscsiadm ifaces).
hostnode:
  storage_net:
    iscsi:
      targets:
        fra1-eql:
          target: iqn.2001-05.com.equallogic:0-af1ff6-fra1-vol1
          portals:
            - {portal: 10.20.0.10, iface: ieth-a, netdev: stor-a}
            - {portal: 10.20.0.10, iface: ieth-b, netdev: stor-b}
          chap_pillar: hostnode_secrets:iscsi:fra1-eql
    multipath:
      config:
        devices:
          - vendor: EQLOGIC
            product: 100E-00
            path_grouping_policy: multibus
            path_checker: tur
            failback: immediate
