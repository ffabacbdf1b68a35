{#- Kernel modules with their options, then the sysctl profile (a module's keys exist once it
    is loaded). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}

hostnode-node-kernel-modules:
  node.kernel_modules:
    - modules: {{ node.kernel_modules | json }}

hostnode-node-sysctl:
  node.sysctl:
    - values: {{ node.sysctl | json }}
    - require:
      - node: hostnode-node-kernel-modules
