{#- Removes every AnyIP route of the device and hostnode's boot-time file for it. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import anyip with context %}

hostnode-anyip-clean:
  anyip.managed:
    - device: {{ anyip.device | json }}
    - prefixes: []
    - persist: {{ anyip.persist | json }}
    - backend: {{ anyip.backend | json }}
