{#- Undoes the formula: logs out of the pillar's targets and deletes their node records (stop
    what uses the disks first), removes multipath.conf, the beacon, the schedule and the
    metrics file, and hostnode's sysctl.d file (live sysctls are left as they are). The beacon
    is left alone when multipath:beacon:enabled is null, as in the formula. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import storage_net with context %}
{%- set root = salt['config.get']('hostnode:config_root', '/') %}
{%- for id, target in (storage_net.iscsi.targets if storage_net.iscsi.enabled else {}) | dictsort %}

hostnode-storage-net-iscsi-{{ id }}-clean:
  iscsi.logged_out:
    - name: {{ target.target | json }}
{%- endfor %}
{%- if storage_net.multipath.config %}

hostnode-storage-net-multipath-conf-clean:
  file.absent:
    - name: {{ root | path_join('etc/multipath.conf') }}
{%- endif %}
{%- if storage_net.multipath.beacon.enabled is not none %}

hostnode-storage-net-multipath-beacon-clean:
  beacon.absent:
    - name: multipath
    - save: true
{%- endif %}

hostnode-storage-net-multipath-metrics-clean:
  schedule.absent:
    - name: hostnode-multipath-metrics

hostnode-storage-net-multipath-metrics-file-clean:
  file.absent:
    - name: {{ storage_net.multipath.metrics.path | json }}

hostnode-storage-net-arpflux-clean:
  file.absent:
    - name: {{ root | path_join('etc/sysctl.d/90-hostnode-arpflux.conf') }}
