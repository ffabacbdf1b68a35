{#- Undoes what the formula made and nothing more: the formula writes no file, and its OSDs
    hold the cluster's data, so clean leaves them alone. Purging every OSD of this host is
    ceph_osd.purge_host, which needs the host named in pillar. #}

hostnode-ceph-osd-clean:
  test.show_notification:
    - text: >-
        ceph_osd.clean leaves this host's OSDs alone (they hold the cluster's data); to purge
        all of them apply ceph_osd.purge_host
