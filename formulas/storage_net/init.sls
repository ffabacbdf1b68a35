{#- The storage network of a node: its SAN NICs tuned against ARP flux, multipath.conf, the
    iSCSI sessions on every portal, and (with multipath:check) a health check of the maps. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import storage_net with context %}
include:
  - .arpflux
  - .multipath
  - .iscsi
{%- if storage_net.multipath.check %}
  - .check
{%- endif %}
