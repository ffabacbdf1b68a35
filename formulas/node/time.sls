{#- chrony with the site's NTP sources (hostnode:node:time), in a sources file of its own that
    chronyd checks before it is installed; nothing while the site lists no servers or pools. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}
{%- set time = node.time %}
{%- set root = salt['config.get']('hostnode:config_root', '/') %}
{%- if time.servers or time.pools %}
{%- if time.install %}

hostnode-node-time-package:
  pkg.installed:
    - name: chrony
    - require_in:
      - file: hostnode-node-time-sources
{%- endif %}

hostnode-node-time-sources:
  file.managed:
    - name: {{ root | path_join('etc/chrony/sources.d/hostnode.sources') | json }}
    - source: salt://{{ tplroot }}/files/hostnode.sources.jinja
    - template: jinja
    - context:
        servers: {{ time.servers | json }}
        pools: {{ time.pools | json }}
        options: {{ time.options | json }}
    - mode: '0644'
    {#- chronyd's AppArmor profile lets it read /etc/chrony only: the checked copy goes there. #}
    - check_cmd: chronyd -p -f
    - tmp_dir: {{ root | path_join('etc/chrony') | json }}
{%- if time.service %}

hostnode-node-time-service:
  service.running:
    - name: chrony
    - enable: true
    - watch:
      - file: hostnode-node-time-sources
{%- endif %}
{%- endif %}
