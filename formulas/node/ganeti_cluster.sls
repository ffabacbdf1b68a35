{#- On the pillar's master node only: the cluster initialised, then the other nodes members.
    Both states run their commands only when needed; test=True lists them. #}
{%- set ganeti = salt['pillar.get']('hostnode:node:ganeti', {}) %}
{%- if ganeti.get('master') and grains['id'] == ganeti.master %}

hostnode-ganeti-cluster:
  ganeti.cluster_initialized:
    - name: {{ ganeti.cluster_name | json }}

hostnode-ganeti-members:
  ganeti.node_member:
    - names: {{ ganeti.get('nodes', []) | json }}
    - require:
      - ganeti: hostnode-ganeti-cluster
{%- endif %}
