{#- Reactor SLS for salt/minion/*/start (the master's config: docs/node-bootstrap.md): a node's
    minion started, so its part of node.orchestrate runs for it alone: its highstate, then the
    init of its Ganeti cluster if it is the master, else its join (checked first: replication
    path, host keys from the mine). Both change nothing that is already right, so a restart
    of the minion changes nothing. `data` is the event's: `id` is the minion that started. #}
hostnode-node-join-{{ data['id'] }}:
  runner.state.orchestrate:
    - args:
      - mods: node.orchestrate
      - pillar:
          node: {{ data['id'] | json }}
