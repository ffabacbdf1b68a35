{#- The node bootstrap: the pillar checked first (hostnode-node-preflight: order 1 and
    failhard, so a refusal is one failed state and a real run stops there, before anything
    changes), then the node's name, hosts, kernel modules, sysctl profile and time sources
    (chrony, on every node), then the formulas its roles need (hostnode:node:role_formulas). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set formulas = salt['node.formulas'](node.role_formulas) %}
include:
  - .identity
  - .kernel
  - .time
{%- for formula in formulas %}
  - {{ formula }}
{%- endfor %}

hostnode-node-preflight:
  node.preflight:
    - settings: {{ node | json }}
    - formulas: {{ formulas | json }}
    - order: 1
    - failhard: true
