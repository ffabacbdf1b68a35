{#- salt-run state.orchestrate node.orchestrate [pillar='{"tgt": "*.ams1.example.net"}'] [test=True]
    salt-run state.orchestrate node.orchestrate pillar='{"node": "hv2.ams1.example.net"}'

    Forms every Ganeti cluster that the targeted minions' pillar declares (default tgt: all
    minions; tgt_type: glob), as each answers ganeti.declared_cluster: a cluster is the minion
    whose pillar hostnode:node:ganeti:master names itself, with the nodes that pillar lists.
    With pillar `node` (one minion id: what formulas/node/reactor/minion_start.sls passes) only
    that node's part: its highstate, then the init of its cluster when it is the master, else
    its join. For each cluster, in order:
      highstate   of the master and its nodes (with `node`: that node only);
      cpus        mine.update of the same minions (their hostnode_cpu grain, synced by the
                  highstate: the init's kvm:cpu_type is the model all the cluster's nodes run);
      init        node.ganeti_cluster's init alone on the master (gnt-cluster init unless
                  initialised; it makes the root key the master logs in with);
      mine        mine.update of the master and the joining nodes (that key, their host keys);
      join        node.ganeti_join on the joining nodes (the don't-fragment ping to the
                  master's secondary IP, then the master's root key authorized);
      ganeti      node.ganeti_cluster on the master for the joining nodes (a running
                  cluster's parameters and CPU model as pillar and its nodes' CPUs want them,
                  a change of model named with its reason; the node groups and the members'
                  groups, the joining nodes' host keys from the mine into Ganeti's
                  known_hosts, then gnt-node add of each non-member into its group; a node
                  that cannot run the cluster's CPU model is named in the step's comment).
    init, mine and join exist only where nodes join (without them, ganeti is the init). Each step
    requires the one before: a real run stops a cluster at a failure, and a refused join adds
    no node. Under test=True the highstate does not gate the rest (it predicts failures of
    what only a real run makes); every other step lists what it would do. #}
{%- set only = salt['pillar.get']('node') %}
{%- if only and only is not string %}
{{- raise("node.orchestrate: pillar node: one minion id, got " ~ only) }}
{%- endif %}
{%- if only %}
{#- a minion that has just started has not synced hostnode's modules yet, and its mine holds
    no hostnode_cpu grain before that: what test=True predicts for the init needs it. The calls
    wait for their answer (salt.execute returns after its timeout, the master's 5 s by
    default, whether the minion is done or not: a sync of a busy node takes longer) #}
{%-   for fun in ['saltutil.sync_all', 'mine.update'] %}
{%-     do salt['saltutil.runner']('salt.execute', arg=[only, fun],
                                   kwarg={'tgt_type': 'list', 'timeout': 600}) %}
{%-   endfor %}
{%- endif %}
{%- set tgt = only or salt['pillar.get']('tgt', '*') %}
{%- set tgt_type = 'list' if only else salt['pillar.get']('tgt_type', 'glob') %}
{%- set declared = salt['saltutil.runner']('salt.execute',
                                          arg=[tgt, 'ganeti.declared_cluster'],
                                          kwarg={'tgt_type': tgt_type, 'timeout': 120}) %}
{%- if declared is not mapping %}
{{- raise("node.orchestrate: the minions' pillar could not be read: " ~ declared) }}
{%- endif %}
{%- set clusters = {} %}
{%- for minion, ganeti in declared | dictsort if ganeti is mapping and ganeti.master %}
{%-   if only %}
{%-     do clusters.update({ganeti.master: [] if minion == ganeti.master else [minion]}) %}
{%-   elif ganeti.master == minion %}
{%-     do clusters.update({minion: ganeti.nodes or []}) %}
{%-   endif %}
{%- endfor %}
{%- for master, joining in clusters | dictsort %}

hostnode-orchestrate-highstate-{{ master }}:
  salt.state:
    - tgt: {{ ([only] if only else [master] + joining) | join(',') | json }}
    - tgt_type: list
    - highstate: true

hostnode-orchestrate-cpus-{{ master }}:
  salt.function:
    - name: mine.update
    - tgt: {{ ([only] if only else [master] + joining) | join(',') | json }}
    - tgt_type: list
{%-   if not opts.test %}
    - require:
      - salt: hostnode-orchestrate-highstate-{{ master }}
{%-   endif %}
{%-   set last = 'cpus' %}
{%-   if joining %}

hostnode-orchestrate-init-{{ master }}:
  salt.state:
    - tgt: {{ master | json }}
    - sls:
      - node.ganeti_cluster
    - exclude:
      - id: hostnode-ganeti-parameters
      - id: hostnode-ganeti-groups
      - id: hostnode-ganeti-members
    - require:
      - salt: hostnode-orchestrate-cpus-{{ master }}

hostnode-orchestrate-mine-{{ master }}:
  salt.function:
    - name: mine.update
    - tgt: {{ ([master] + joining) | join(',') | json }}
    - tgt_type: list
    - require:
      - salt: hostnode-orchestrate-init-{{ master }}

hostnode-orchestrate-join-{{ master }}:
  salt.state:
    - tgt: {{ joining | join(',') | json }}
    - tgt_type: list
    - sls:
      - node.ganeti_join
    - require:
      - salt: hostnode-orchestrate-mine-{{ master }}
{%-     set last = 'join' %}
{%-   endif %}

hostnode-orchestrate-ganeti-{{ master }}:
  salt.state:
    - tgt: {{ master | json }}
    - sls:
      - node.ganeti_cluster
    - pillar: {hostnode: {node: {ganeti: {nodes: {{ joining | json }}}}}}
    - require:
      - salt: hostnode-orchestrate-{{ last }}-{{ master }}
{%- endfor %}
{%- if not clusters %}

hostnode-orchestrate-no-cluster:
  test.show_notification:
    - text: {{ ("no minion of " ~ tgt ~ " is in a Ganeti cluster its pillar declares"
               ~ " (hostnode:node:ganeti:master)") | json }}
{%- endif %}
