{#- The beancounters beacon and the scheduled metrics file, each enabled from pillar. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import openvz with context %}

hostnode-openvz-beacon:
{%- if openvz.beacon.enabled %}
  beacon.present:
    - name: beancounters
    - save: true
    - threshold: {{ openvz.beacon.threshold | json }}
    - interval: {{ openvz.beacon.interval | json }}
{%- else %}
  beacon.absent:
    - name: beancounters
    - save: true
{%- endif %}

hostnode-openvz-metrics:
{%- if openvz.metrics.enabled %}
  schedule.present:
    - name: hostnode-beancounters-metrics
    - function: beancounters.write_metrics
    - job_args: [{{ openvz.metrics.path | json }}]
    - seconds: {{ openvz.metrics.interval | json }}
    - persist: true
{%- else %}
  schedule.absent:
    - name: hostnode-beancounters-metrics
{%- endif %}
