# Role hypervisor (Ganeti/KVM): two dedicated SAN NICs, named here so they are tuned even
# before they have addresses, with reverse-path filtering off on them (the SAN answers from
# either portal); the login to the site's SAN targets (site/*.sls), whose CHAP secrets the
# top gives by minion id (secrets/<site>.sls), not with this role; the bridge ports' offloads;
# and the volume group for instance disks.
hostnode:
  node:
    sysctl:
      # Instances route through the node's bridges.
      net.ipv4.ip_forward: 1
    bridges:
      # GRO/GSO/TSO off on the bridge ports: the bridge forwards frames as they came, and
      # tcpdump on the host sees what is on the wire. Bridged traffic bypasses the host's
      # firewall chains (netfilter: false, the default).
      offloads: {gro: false, gso: false, tso: false}
    lvm:
      vg: xenvg
      # The disks are the host's own: list them per host, e.g. in a pillar file that the
      # top gives to one minion id only:
      #   devices:
      #     - /dev/disk/by-id/nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0R123456
      # The host's LVM filter (/etc/lvm/lvmlocal.conf) rejects the DRBD devices and this VG's
      # LVs by default, so the host never sees the VGs inside instance disks; more regexes of
      # devices it must never scan go under reject:
      #   filter:
      #     reject: ['^/dev/nbd']
  storage_net:
    iscsi:
      enabled: true
    arpflux:
      interfaces: [stor-a, stor-b]
      absent_ok: true
      values:
        rp_filter: 0
        arp_ignore: 1
        arp_announce: 2
