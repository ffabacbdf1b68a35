{#- DESTRUCTIVE: drains and purges EVERY OSD of this host (under its CRUSH host bucket). Runs
    only when pillar hostnode:ceph_osd:hosts:<minion id>:purge_host names this host's CRUSH
    host; without it the state fails and nothing changes. Never part of init or clean. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import ceph_osd, host with context %}

hostnode-ceph-osd-purge-host:
  ceph_osd.host_purged:
    - confirm: {{ host.get('purge_host') | json }}
    - zap: {{ ceph_osd.zap_retired | json }}
    - timeout: {{ ceph_osd.drain_timeout | json }}
