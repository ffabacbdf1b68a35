{#- The Ganeti packages of a hypervisor (hostnode:node:ganeti:install false skips them). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- if node.ganeti.install %}

hostnode-node-ganeti-packages:
  pkg.installed:
    - pkgs: {{ node.ganeti.packages | json }}
{%- endif %}
