{#- The storage network of a node: several NICs in the SAN's subnet that all work. #}
include:
  - .arpflux
