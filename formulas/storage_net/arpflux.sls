{#- Per-interface rp_filter/arp_ignore/arp_announce so that every path to the SAN answers. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import storage_net with context %}
{%- set arpflux = storage_net.arpflux %}

hostnode-storage-net-arpflux:
  arpflux.tuned:
    - auto: {{ arpflux.auto | json }}
    - interfaces: {{ arpflux.interfaces | json }}
    - values: {{ arpflux['values'] | json }}
    - absent_ok: {{ arpflux.absent_ok | json }}
    - persist: {{ arpflux.persist | json }}
