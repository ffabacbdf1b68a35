# OpenVZ hardware nodes (formula formulas/openvz), given to nodes with the grain role openvz.
hostnode:
  openvz:
    limits:
      101:
        tcpsndbuf: "1720320:2703360"    # the classic failing resource: raise it
        tcprcvbuf: "1720320:2703360"
        numproc: 400
      102:
        privvmpages: "262144:294912"
    beacon:
      enabled: true
      threshold: 0.9
      interval: 60
    metrics:
      enabled: true
      path: /var/lib/prometheus/node-exporter/hostnode_beancounters.prom
      interval: 60
