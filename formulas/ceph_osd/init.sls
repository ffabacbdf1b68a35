{#- This host's OSDs: its devices from pillar carry OSDs of the expected cluster, and the OSDs
    listed to retire for this host (hosts:<minion id>:retire) are drained and purged. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import ceph_osd, host with context %}
{%- if host.get('devices') %}

hostnode-ceph-osd-devices:
  ceph_osd.present:
    - devices: {{ host.devices | json }}
    - method: {{ host.get('method', ceph_osd.method) | json }}
    - dmcrypt: {{ host.get('dmcrypt', ceph_osd.dmcrypt) | json }}
    - expected_fsid: {{ ceph_osd.expected_fsid | json }}
{%- endif %}
{%- if host.get('retire') %}

hostnode-ceph-osd-retire:
  ceph_osd.absent:
    - osd_ids: {{ host.retire | json }}
    - zap: {{ ceph_osd.zap_retired | json }}
    - timeout: {{ ceph_osd.drain_timeout | json }}
{%- endif %}
