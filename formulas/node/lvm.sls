{#- The host's LVM filter (DRBD devices and the instance disks' LVs never scanned), then the
    volume group for instance disks on pillar-listed devices (checked before any change). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- if node.lvm.vg %}

hostnode-node-lvm-filter:
  node_lvm.global_filter:
    - vg: {{ node.lvm.vg | json }}
    - reject_drbd: {{ node.lvm.filter.reject_drbd | json }}
    - reject_instance_disks: {{ node.lvm.filter.reject_instance_disks | json }}
    - reject: {{ node.lvm.filter.reject | json }}
{%- endif %}
{%- if node.lvm.vg and node.lvm.devices %}

hostnode-node-lvm-vg:
  node_lvm.volume_group:
    - name: {{ node.lvm.vg | json }}
    - devices: {{ node.lvm.devices | json }}
{%- endif %}
