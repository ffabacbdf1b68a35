{#- An OpenVZ hardware node: container limits, the failcnt beacon and the metrics file. #}
include:
  - .limits
  - .monitoring
