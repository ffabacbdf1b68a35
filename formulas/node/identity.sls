{#- The node's FQDN, live and in /etc/hostname, and hostnode's block of /etc/hosts. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ '/map.jinja' import node with context %}

hostnode-node-hostname:
  node.hostname:
    - name: {{ (node.fqdn or grains.id) | json }}

hostnode-node-hosts:
  node.hosts:
    - entries: {{ node.hosts | json }}
