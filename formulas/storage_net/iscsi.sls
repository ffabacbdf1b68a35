{#- One iscsi.logged_in per target of pillar, after multipath.conf is in place. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import storage_net with context %}
{%- set iscsi = storage_net.iscsi %}
include:
  - .multipath

{%- for id, target in (iscsi.targets if iscsi.enabled else {}) | dictsort %}
{%- set settings = dict(iscsi.settings) %}
{%- do settings.update(target.get('settings', {})) %}

hostnode-storage-net-iscsi-{{ id }}:
  iscsi.logged_in:
    - name: {{ target.target | json }}
    - portals: {{ target.portals | json }}
    - chap_pillar: {{ target.get('chap_pillar') | json }}
    - startup: {{ target.get('startup', iscsi.startup) | json }}
    - login_timeout: {{ target.get('login_timeout', iscsi.login_timeout) | json }}
    - login_retries: {{ target.get('login_retries', iscsi.login_retries) | json }}
    - settings: {{ settings | json }}
    - require:
      - sls: {{ tplroot }}.multipath
{%- endfor %}
