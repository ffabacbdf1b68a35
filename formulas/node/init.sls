{#- The node bootstrap: the pillar checked first (a refusal stops the whole highstate while it
    renders, before anything changes), then the node's name, hosts, kernel modules and sysctl
    profile, then the formulas its roles need (hostnode:node:role_formulas). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set formulas = salt['node.formulas'](node.role_formulas) %}
{%- do salt['node.preflight'](node, formulas) %}
include:
  - .identity
  - .kernel
{%- for formula in formulas %}
  - {{ formula }}
{%- endfor %}
