# Storage network (formula formulas/storage_net): the node's SAN NICs tuned against ARP flux,
# multipath.conf, and the iSCSI sessions of each target on every portal. Sites name their
# SAN (site/*.sls); each site's CHAP secrets live in secrets/<site>.sls, served by minion id
# to that site's SAN clients only.
hostnode:
  storage_net:
    arpflux:
      auto: true
      values:
        rp_filter: 2
        arp_ignore: 1
        arp_announce: 2
    iscsi:
      startup: automatic
      login_timeout: 10
      login_retries: 1
      settings:
        # Seconds I/O waits for a lost path before multipath fails it over to another.
        node.session.timeo.replacement_timeout: 15
    multipath:
      config:
        defaults:
          user_friendly_names: true
          find_multipaths: "off"
          polling_interval: 5
        blacklist:
          devnode: ["^(ram|loop|fd|md|sr|vd)[0-9a-z]*"]
      min_paths: 2
      beacon:
        enabled: true
        interval: 10
      metrics:
        enabled: false
