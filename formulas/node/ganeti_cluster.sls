{#- On the pillar's master node only: the cluster initialised, then the other nodes members.
    Both states run their commands only when needed; test=True lists them. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set ganeti = node.ganeti %}
{%- if ganeti.master and grains['id'] == ganeti.master %}

hostnode-ganeti-cluster:
  ganeti.cluster_initialized:
    - name: {{ ganeti.cluster_name | json }}
    - settings: {{ ganeti | json }}

hostnode-ganeti-members:
  ganeti.node_member:
    - nodes: {{ ganeti.nodes | json }}
    - settings: {{ ganeti | json }}
    - require:
      - ganeti: hostnode-ganeti-cluster
{%- endif %}
