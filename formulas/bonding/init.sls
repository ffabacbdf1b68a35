{#- Bonds: each bond's MAC pinned by its policy, live and after reboot. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import bonding with context %}
{%- for bond, settings in bonding.bonds | dictsort %}

hostnode-bonding-{{ bond }}-mac:
  bond.mac_pinned:
    - name: {{ bond | json }}
    - mac: {{ settings.get('mac', bonding.mac) | json }}
    - slaves: {{ settings.get('slaves', []) | json }}
    - seed: {{ settings.get('seed', bonding.seed) | json }}
    - persist: {{ bonding.persist | json }}
    - backend: {{ bonding.backend | json }}
{%- endfor %}
