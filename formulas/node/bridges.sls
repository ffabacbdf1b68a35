{#- A bridge per VLAN on the bond, with a pinned MAC and its port's offloads, live and for the
    network backend. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set bridges = node.bridges %}

hostnode-node-bridges:
  bridges.managed:
    - bond: {{ bridges.bond | json }}
    - vlans: {{ bridges.vlans | json }}
    - mac: {{ bridges.mac | json }}
    - offloads: {{ bridges.offloads | json }}
    - persist: {{ bridges.persist | json }}
    - backend: {{ bridges.backend | json }}
