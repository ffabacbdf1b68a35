{#- Fails the run when a multipath map lacks paths once the sessions are up (maps take a few
    seconds to form after a login, hence the retries). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import storage_net with context %}
{%- set logs_in = storage_net.iscsi.enabled and storage_net.iscsi.targets %}
include:
  - .iscsi

hostnode-storage-net-multipath-healthy:
  multipath.healthy:
    - min_paths: {{ storage_net.multipath.min_paths | json }}
    - min_maps: {{ 1 if logs_in else 0 }}
    - retry:
        attempts: 10
        interval: 3
        until: true
{%- if logs_in %}
    {#- a requisite on an SLS without states (no targets) would fail the run #}
    - require:
      - sls: {{ tplroot }}.iscsi
{%- endif %}
