{#- On a node that is to join the pillar's Ganeti cluster (not on its master): its replication
    path checked first (a don't-fragment ping of the pillar's MTU to the master's secondary
    IP; a failure refuses the node and changes nothing), then root's authorized_keys given the
    master's root key from the Salt mine. node.orchestrate applies it after the master's init. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set ganeti = node.ganeti %}
{%- if ganeti.master and grains['id'] != ganeti.master %}

hostnode-ganeti-joinable:
  ganeti.node_joinable:
    - name: {{ grains['id'] | json }}
    - settings: {{ ganeti | json }}
{%- endif %}
