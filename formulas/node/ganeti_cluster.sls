{#- On the pillar's master node only: the cluster initialised; on a running cluster, its
    hypervisor and disk parameters and its KVM CPU model brought to pillar's (gnt-cluster
    modify of what differs; a CPU model change says why); its node groups made and its members
    in their groups, then the other nodes members. Each state runs its commands only when
    needed; test=True lists them. node.orchestrate's init step applies the first alone. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set ganeti = node.ganeti %}
{%- if ganeti.master and grains['id'] == ganeti.master %}

hostnode-ganeti-cluster:
  ganeti.cluster_initialized:
    - name: {{ ganeti.cluster_name | json }}
    - settings: {{ ganeti | json }}

hostnode-ganeti-parameters:
  ganeti.cluster_parameters:
    - name: {{ ganeti.cluster_name | json }}
    - settings: {{ ganeti | json }}
    - require:
      - ganeti: hostnode-ganeti-cluster

hostnode-ganeti-groups:
  ganeti.node_groups:
    - name: {{ ganeti.cluster_name | json }}
    - settings: {{ ganeti | json }}
    - require:
      - ganeti: hostnode-ganeti-cluster

hostnode-ganeti-members:
  ganeti.node_member:
    - nodes: {{ ganeti.nodes | json }}
    - settings: {{ ganeti | json }}
    - require:
      - ganeti: hostnode-ganeti-groups
{%- endif %}
