{#- salt-run state.orchestrate node.maintenance pillar='{"hostnode_maintenance": {"targets":
        ["hv2.ams1.example.net", "stor1.ams1.example.net"], "reboot": true} }' [test=True]

    The maintenance of each target node, one at a time, in the order given (docs/maintenance.md;
    the pillar's keys and defaults: _utils/saltext/hostnode/utils/maintenance.py). Each target
    first answers maintenance.facts (the pillar checked, its Ganeti cluster, its OSDs): a node
    of a Ganeti cluster gets the Ganeti steps, run on the cluster's master (DRBD on each node of
    the cluster); a node with OSDs gets the Ceph steps, run on the node itself.
      gate     ganeti: DRBD UpToDate on every node of the cluster (first: verify-disks
               activates what it finds inactive), verify-disks clean, hcheck N+1 (where
               htools is installed); ceph: health, ok-to-stop of its OSDs
      drain    ganeti: drained, primaries migrated away (failed over when pillar allows);
               ceph: noout for its OSDs
      payload  each item of pillar payload on the node (an SLS, or a function), then with
               reboot the node restarts; with reboot (or wait_start, for a payload that
               restarts the minion itself) the run waits for its minion's start event
      return   ganeti: verify-disks until it exits 0 (activates its disks), undrained, DRBD
               resynced on every node; ceph: its OSDs up and in, noout unset
      after    the gates again (ceph: health within settle_timeout), then with rebalance hbal
    Every step requires the one before and is failhard: a failure stops the whole run, and the
    failed step's id names the node and where it stopped (docs/maintenance.md: resuming).
    Under test=True every step lists what it would run and nothing runs. The steps' states
    run concurrently with any other state run (concurrent: true): when the node's minion
    restarts, the reactor's node.orchestrate runs on it and on the master meanwhile, and a
    step must not fail for that (each step reads, then runs only Ganeti's and Ceph's own
    commands, which their daemons serialize). Salt 3008's queue: true would not do: it
    returns "Job queued" at once, which the orchestration reads as a failed step. #}
{%- set settings = salt['pillar.get']('hostnode_maintenance') %}
{%- set targets = settings.get('targets') if settings is mapping else None %}
{%- if not targets or targets is string or targets is not sequence %}

hostnode-maintenance-refused:
  test.fail_without_changes:
    - name: {{ ("hostnode_maintenance:targets: a list of minion ids, got " ~ targets) | json }}
    - failhard: true
{%- else %}
{%-   set facts = salt['saltutil.runner']('salt.execute',
                                         arg=[targets | join(','), 'maintenance.facts'],
                                         kwarg={'tgt_type': 'list', 'arg': [settings],
                                                'timeout': 120}) %}
{%-   set refused = [] %}
{%-   for node in targets if not (facts is mapping and facts.get(node) is mapping) %}
{%-     do refused.append(node ~ ": " ~ (facts.get(node, "no answer") if facts is mapping
                                           else facts)) %}
{%-   endfor %}
{%-   if refused %}

hostnode-maintenance-refused:
  test.fail_without_changes:
    - name: {{ ("maintenance.facts refused, nothing ran: " ~ refused | join("; ")) | json }}
    - failhard: true
{%-   else %}
{%-     set previous = [] %}
{%-     for node in targets %}
{%-       set fact = facts[node] %}
{%-       set ganeti, osds = fact.ganeti, fact.osds %}
{%-       set steps = [] %}
{%-       if ganeti %}
{%-         do steps.append(('gate-drbd', ganeti.nodes, 'drbd_gate')) %}
{%-         do steps.append(('gate-ganeti', ganeti.master, 'ganeti_gate')) %}
{%-       endif %}
{%-       if osds %}
{%-         do steps.append(('gate-ceph', node, 'ceph_gate')) %}
{%-       endif %}
{%-       if ganeti %}
{%-         do steps.append(('drain-ganeti', ganeti.master, 'ganeti_drain')) %}
{%-       endif %}
{%-       if osds %}
{%-         do steps.append(('drain-ceph', node, 'ceph_drain')) %}
{%-       endif %}
{%-       do steps.append(('payload', node, None)) %}
{%-       if ganeti %}
{%-         do steps.append(('return-ganeti', ganeti.master, 'ganeti_return')) %}
{%-         do steps.append(('return-drbd', ganeti.nodes, 'drbd_synced')) %}
{%-       endif %}
{%-       if osds %}
{%-         do steps.append(('return-ceph', node, 'ceph_return')) %}
{%-         do steps.append(('after-ceph', node, 'ceph_healthy')) %}
{%-       endif %}
{%-       if ganeti %}
{%-         do steps.append(('after-ganeti', ganeti.master, 'ganeti_gate')) %}
{%-         if fact.settings.rebalance %}
{%-           do steps.append(('rebalance', ganeti.master, 'rebalance')) %}
{%-         endif %}
{%-       endif %}
{%-       for name, tgt, step in steps %}
{%-         if step %}
{%-           set step_pillar = {'node': node, 'step': step, 'settings': fact.settings,
                                 'osds': osds} %}

hostnode-maintenance-{{ name }}-{{ node }}:
  salt.state:
    - tgt: {{ (tgt if tgt is string else tgt | join(',')) | json }}
    - concurrent: true
    - tgt_type: list
    - sls:
      - node.maintenance_step
    - pillar: {{ {'hostnode_maintenance_step': step_pillar} | json }}
    - failhard: true
{%-           if previous %}
    - require:
      - salt: {{ previous[-1] }}
{%-           endif %}
{%-           do previous.append('hostnode-maintenance-' ~ name ~ '-' ~ node) %}
{%-         else %}
{%-           for item in fact.settings.payload %}

hostnode-maintenance-payload-{{ loop.index }}-{{ node }}:
{%-             if item.sls is defined %}
  salt.state:
    - tgt: {{ node | json }}
    - sls:
      - {{ item.sls | json }}
{%-             else %}
  salt.function:
    - name: {{ item.function | json }}
    - tgt: {{ node | json }}
    - arg: {{ item.get('arg', []) | json }}
    - kwarg: {{ item.get('kwarg', {}) | json }}
{%-             endif %}
    - failhard: true
{%-             if previous %}
    - require:
      - salt: {{ previous[-1] }}
{%-             endif %}
{%-             do previous.append('hostnode-maintenance-payload-' ~ loop.index ~ '-' ~ node) %}
{%-           endfor %}
{%-           if fact.settings.reboot %}

hostnode-maintenance-reboot-{{ node }}:
  salt.function:
    - name: system.reboot
    - tgt: {{ node | json }}
    {#- in a minute: the minion answers first, and the wait below listens before it starts #}
    - kwarg: {at_time: 1}
    - failhard: true
    - require:
      - salt: {{ previous[-1] }}
{%-             do previous.append('hostnode-maintenance-reboot-' ~ node) %}
{%-           endif %}
{%-           if fact.settings.reboot or fact.settings.wait_start %}

hostnode-maintenance-back-{{ node }}:
  salt.wait_for_event:
    - name: salt/minion/{{ node }}/start
    - id_list:
      - {{ node | json }}
    - timeout: {{ fact.settings.start_timeout }}
    - failhard: true
    - require:
      - salt: {{ previous[-1] }}
{%-             do previous.append('hostnode-maintenance-back-' ~ node) %}
{%-           endif %}
{%-         endif %}
{%-       endfor %}
{%-     endfor %}
{%-   endif %}
{%- endif %}
