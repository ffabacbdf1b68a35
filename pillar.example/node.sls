# The node formula (formulas/node) for every node: DRBD for Ganeti's mirrored disks and a
# sysctl profile. Sites list their hosts and VLANs (site/*.sls), roles what differs by role.
# Each node publishes the SSH keys a Ganeti join needs in the Salt mine (mine_functions from
# pillar, which Salt reads as it reads the minion's config): root's public key (on the master,
# the one gnt-cluster init makes) and sshd's host keys, so gnt-node add runs with host key
# checking on (docs/node-bootstrap.md, section 6), and its CPU (the grain hostnode_cpu): the
# cluster's KVM CPU model at gnt-cluster init is the best one every node runs (section 7).
mine_functions:
  ganeti.ssh_keys: []
  hostnode_cpu: [{mine_function: grains.get}, hostnode_cpu]
hostnode:
  node:
    kernel_modules:
      # As Ganeti documents it: enough minors for every instance disk, and no usermode helper
      # (Ganeti handles DRBD events itself).
      drbd:
        options:
          minor_count: 255
          usermode_helper: /bin/true
    sysctl:
      # Keys of the network namespace only, so `make demo` can apply them in its sandbox;
      # vm.* and kernel.* keys are the host's (see role/storage.sls).
      net.core.somaxconn: 8192
      net.ipv4.tcp_keepalive_time: 600
      net.ipv4.tcp_mtu_probing: 1
      # No global rp_filter or ARP keys here: on a node that gets storage_net, arpflux owns
      # them (and the node formula refuses them); strict rp_filter 1 drops multipath replies.
