{#- salt-run state.orchestrate node.orchestrate [pillar='{"tgt": "*.ams1.example.net"}'] [test=True]

    Forms every Ganeti cluster that the targeted minions' pillar declares (default tgt: all
    minions; tgt_type: glob), as each answers ganeti.declared_cluster: a cluster is the minion
    whose pillar hostnode:node:ganeti:master names itself, with the nodes that pillar lists. For each: highstate the master and its
    nodes, then apply node.ganeti_cluster on the master (gnt-cluster init unless initialised,
    then gnt-node add of each node that is not a member). Both steps change nothing that is
    already right. A real run stops a cluster at a failed highstate; test=True lists what every
    step would do, the cluster step included. #}
{%- set tgt = salt['pillar.get']('tgt', '*') %}
{%- set tgt_type = salt['pillar.get']('tgt_type', 'glob') %}
{%- set declared = salt['saltutil.runner']('salt.execute',
                                          arg=[tgt, 'ganeti.declared_cluster'],
                                          kwarg={'tgt_type': tgt_type}) %}
{%- if declared is not mapping %}
{{- raise("node.orchestrate: the minions' pillar could not be read: " ~ declared) }}
{%- endif %}
{%- set masters = [] %}
{%- for minion, ganeti in declared | dictsort if ganeti is mapping and ganeti.master == minion %}
{%- do masters.append(minion) %}

hostnode-orchestrate-highstate-{{ minion }}:
  salt.state:
    - tgt: {{ ([minion] + (ganeti.nodes or [])) | join(',') | json }}
    - tgt_type: list
    - highstate: true

hostnode-orchestrate-ganeti-{{ minion }}:
  salt.state:
    - tgt: {{ minion | json }}
    - sls:
      - node.ganeti_cluster
{%- if not opts.test %}
    - require:
      - salt: hostnode-orchestrate-highstate-{{ minion }}
{%- endif %}
{%- endfor %}
{%- if not masters %}

hostnode-orchestrate-no-cluster:
  test.show_notification:
    - text: {{ ("no minion of " ~ tgt ~ " is the master of a Ganeti cluster in its pillar"
               ~ " (hostnode:node:ganeti:master)") | json }}
{%- endif %}
