{#- salt-run state.orchestrate node.orchestrate [test=True]: highstate the site's Ganeti nodes,
    initialise the cluster on the pillar's master node unless it is initialised, then add the
    other nodes that are not members yet. The nodes come from the orchestration's pillar
    hostnode:node:ganeti (master, nodes). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set master = node.ganeti.master %}
{%- if master %}
{%- set members = [master] + node.ganeti.nodes %}

hostnode-orchestrate-highstate:
  salt.state:
    - tgt: {{ members | join(',') | json }}
    - tgt_type: list
    - highstate: true

hostnode-orchestrate-ganeti:
  salt.state:
    - tgt: {{ master | json }}
    - sls:
      - node.ganeti_cluster
    - require:
      - salt: hostnode-orchestrate-highstate
{%- endif %}
