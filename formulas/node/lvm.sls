{#- The volume group for instance disks on pillar-listed devices (checked before any change). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- if node.lvm.vg and node.lvm.devices %}

hostnode-node-lvm-vg:
  node_lvm.volume_group:
    - name: {{ node.lvm.vg | json }}
    - devices: {{ node.lvm.devices | json }}
{%- endif %}
