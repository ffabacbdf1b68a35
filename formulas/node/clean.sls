{#- Removes the node formula's files: its /etc/hosts block, modules-load.d, modprobe.d and
    sysctl.d files, the bridges' and the replication NIC's boot-time files, chrony's sources
    file and the LVM filter (lvmlocal.conf). What is live stays until reboot (loaded modules,
    sysctl values, bridges, the replication NIC's MTU and address, the sources chronyd runs
    with); chrony stays installed, the hostname and the volume group
    are never undone. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set root = salt['config.get']('hostnode:config_root', '/') %}

hostnode-node-hosts-clean:
  node.hosts:
    - entries: {}

hostnode-node-kernel-modules-clean:
  node.kernel_modules:
    - modules: {}

hostnode-node-sysctl-clean:
  node.sysctl:
    - values: {}

hostnode-node-bridges-clean:
  bridges.managed:
    - bond: {{ node.bridges.bond | json }}
    - vlans: []
    - backend: {{ node.bridges.backend | json }}

hostnode-node-replication-clean:
  bridges.replication:
    - name: {{ grains['id'] | json }}
    - settings: {}
    - backend: {{ node.bridges.backend | json }}

hostnode-node-time-sources-clean:
  file.absent:
    - name: {{ root | path_join('etc/chrony/sources.d/hostnode.sources') | json }}
{%- if node.lvm.vg %}

hostnode-node-lvm-filter-clean:
  node_lvm.global_filter:
    - reject_drbd: false
    - reject_instance_disks: false
    - reject: []
{%- endif %}
