{#- Removes hostnode's boot-time MAC files of the bonds; the live MAC stays until the bond is
    rebuilt, so no link flaps while cleaning. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import bonding with context %}
{%- for bond in bonding.bonds | sort %}

hostnode-bonding-{{ bond }}-mac-clean:
  bond.mac_unpinned:
    - name: {{ bond | json }}
{%- endfor %}
