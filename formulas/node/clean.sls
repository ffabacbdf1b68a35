{#- Removes the node formula's files: its /etc/hosts block, modules-load.d, modprobe.d and
    sysctl.d files and the bridges' boot-time files. What is live stays until reboot (loaded
    modules, sysctl values, bridges); the hostname and the volume group are never undone. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}

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
