{#- What a Ganeti node needs from its own highstate: the packages (skippable from pillar with
    hostnode:node:ganeti:install false, for test sandboxes). #}
{%- set ganeti = salt['pillar.get']('hostnode:node:ganeti', {}) %}
{%- if ganeti.get('install', True) %}

hostnode-node-ganeti-packages:
  pkg.installed:
    - pkgs: {{ ganeti.get('packages', ['ganeti', 'drbd-utils', 'openssh-server']) | json }}
{%- endif %}
