{#- Beancounter limits of the containers, from pillar. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import openvz with context %}

hostnode-openvz-limits:
  beancounters.limits:
    - containers: {{ openvz.limits | json }}
