{#- One step of node.maintenance (formulas/node/maintenance.sls passes it as pillar
    hostnode_maintenance_step: {node, step, settings, osds}; see _states/maintenance.py). #}
{%- set step = salt['pillar.get']('hostnode_maintenance_step', {}) %}

hostnode-maintenance-{{ step.step }}:
  maintenance.step:
    - name: {{ step.node | json }}
    - step: {{ step.step | json }}
    - settings: {{ step.settings | json }}
    - osds: {{ step.osds | json }}
