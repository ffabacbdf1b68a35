{#- Removes the beacon, the schedule and the metrics file; container limits stay as they are. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import openvz with context %}

hostnode-openvz-beacon-clean:
  beacon.absent:
    - name: beancounters
    - save: true

hostnode-openvz-metrics-clean:
  schedule.absent:
    - name: hostnode-beancounters-metrics

hostnode-openvz-metrics-file-clean:
  file.absent:
    - name: {{ openvz.metrics.path | json }}
