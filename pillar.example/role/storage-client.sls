# Role storage-client: two dedicated SAN NICs, named here so they are tuned even before they
# have addresses, with reverse-path filtering off on them (the SAN answers from either portal);
# and the login to the site's SAN targets (site/*.sls), whose CHAP secrets this role gets.
hostnode:
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
