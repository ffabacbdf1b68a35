{#- multipath.conf from pillar, the path beacon and the scheduled metrics file. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import storage_net with context %}
{%- set multipath = storage_net.multipath %}
{%- if multipath.config %}

hostnode-storage-net-multipath-conf:
  multipath.configured:
    - name: /etc/multipath.conf
    - config: {{ multipath.config | json }}
{%- endif %}
{%- if multipath.beacon.enabled is not none %}

hostnode-storage-net-multipath-beacon:
{%- if multipath.beacon.enabled %}
  beacon.present:
    - name: multipath
    - save: true
    - min_paths: {{ multipath.min_paths | json }}
    - interval: {{ multipath.beacon.interval | json }}
{%- else %}
  beacon.absent:
    - name: multipath
    - save: true
{%- endif %}
{%- endif %}

hostnode-storage-net-multipath-metrics:
{%- if multipath.metrics.enabled %}
  schedule.present:
    - name: hostnode-multipath-metrics
    - function: multipath.write_metrics
    - job_args: [{{ multipath.metrics.path | json }}]
    - job_kwargs: {min_paths: {{ multipath.min_paths | json }}}
    - seconds: {{ multipath.metrics.interval | json }}
    - persist: true
{%- else %}
  schedule.absent:
    - name: hostnode-multipath-metrics
{%- endif %}
