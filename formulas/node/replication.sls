{#- The Ganeti replication (secondary) network's NIC, the one DRBD runs on: up, with the MTU of
    hostnode:node:ganeti:replication and this node's secondary IP (secondary_ips, with the
    prefix of replication:network), live and for the network backend of node.bridges
    (bridges:persist, bridges:backend). Before the join's don't-fragment ping (node.ganeti_join)
    runs over it. Nothing is managed while replication:nic is null. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}

hostnode-node-replication:
  bridges.replication:
    - name: {{ grains['id'] | json }}
    - settings: {{ node.ganeti | json }}
    - persist: {{ node.bridges.persist | json }}
    - backend: {{ node.bridges.backend | json }}
