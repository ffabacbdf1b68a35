{#- Kernel modules with their options, then the sysctl profile (a module's keys exist once it
    is loaded); on a node with bridges, br_netfilter and the bridge-nf keys of
    hostnode:node:bridges:netfilter are part of both (bridges.kernel_profile). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set formulas = salt['node.formulas'](node.role_formulas) %}
{%- set kernel = salt['bridges.kernel_profile'](node.bridges.netfilter, node.kernel_modules,
                                                 node.sysctl, formulas) %}

hostnode-node-kernel-modules:
  node.kernel_modules:
    - modules: {{ kernel.kernel_modules | json }}

hostnode-node-sysctl:
  node.sysctl:
    - values: {{ kernel.sysctl | json }}
    - require:
      - node: hostnode-node-kernel-modules
