# Site fra1: VLAN 300 only, the common AnyIP prefixes (anyip.sls), one Ceph OSD host with
# SSDs only, and an EqualLogic-style group: one portal (the group IP) in the one SAN subnet,
# reached through both SAN NICs, which share that subnet. That is the ARP flux condition the
# arpflux part of storage_net tunes away; each session leaves by its own NIC (iscsiadm ifaces).
hostnode:
  node:
    hosts:
      ganeti.fra1.example.net: 10.2.0.10
      hv1.fra1.example.net: 10.2.0.11
      stor1.fra1.example.net: 10.2.0.21
    bridges:
      vlans: [300]
    # fra1's provider runs an NTP pool: three of its servers, preferred over Debian's pool.
    time:
      pools: [ntp.fra1.example.net]
      options: [iburst, prefer, maxsources 3]
    # The site's Ganeti cluster (formed by salt-run state.orchestrate node.orchestrate).
    ganeti:
      cluster_name: ganeti.fra1.example.net
      master: hv1.fra1.example.net
      master_netdev: br0300
      vg_name: xenvg
      nic_link: br0300
      # fra1's replication network: jumbo frames on a NIC of its own. Each node's secondary IP
      # (gnt-cluster init / gnt-node add --secondary-ip); node.replication brings repl0 up with
      # MTU 9000 and the node's secondary IP (/24), live and at boot; a node joins only after a
      # don't-fragment ping of 9000 bytes by repl0 reaches the master's.
      replication:
        network: 10.2.1.0/24
        nic: repl0
        mtu: 9000
      secondary_ips:
        hv1.fra1.example.net: 10.2.1.11
  ceph_osd:
    expected_fsid: 9b1d6c2e-3f4a-4e8b-a1c7-5d2e8f0a6b31
    method: raw
    hosts:
      stor1.fra1.example.net:
        devices:
          - {device: /dev/nvme1n1, device_class: ssd}
          - {device: /dev/nvme2n1, device_class: ssd}
  storage_net:
    subnets: [10.20.0.0/24]
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
