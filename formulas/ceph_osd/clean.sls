{#- Retires every OSD activated on this host (grain hostnode_ceph_osds), each drained until the
    cluster says its data is safe elsewhere, then purged; the devices are not wiped. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import ceph_osd with context %}
{%- set osds = grains.get('hostnode_ceph_osds', {}) %}
{%- if osds %}

hostnode-ceph-osd-clean:
  ceph_osd.absent:
    - osd_ids: {{ osds | list | map('int') | list | json }}
    - timeout: {{ ceph_osd.drain_timeout | json }}
{%- endif %}
