{#- AnyIP: exactly the pillar's prefixes are local on the device, live and after reboot. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import anyip with context %}

hostnode-anyip-routes:
  anyip.managed:
    - device: {{ anyip.device | json }}
    - prefixes: {{ anyip.prefixes | json }}
    - persist: {{ anyip.persist | json }}
    - backend: {{ anyip.backend | json }}
