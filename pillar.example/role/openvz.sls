# Role openvz (OpenVZ hardware nodes): containers' venet traffic is routed by the node.
hostnode:
  node:
    sysctl:
      net.ipv4.ip_forward: 1
      net.ipv4.conf.default.proxy_arp: 0
