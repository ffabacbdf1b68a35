# Every node gets each formula's common pillar; its site (by minion id) and its roles (by the
# roles grain) then override what differs. Later entries win: site/*.sls and role/*.sls are
# listed after the formulas' own pillar, and a role after the site.
base:
  '*':
    - node
    - anyip
    - bonding
    - storage_net
    - ceph_osd
  '*.ams1.example.net':
    - site.ams1
  '*.fra1.example.net':
    - site.fra1
  'roles:hypervisor':
    - match: grain
    - role.hypervisor
    - secrets.storage
  'roles:storage':
    - match: grain
    - role.storage
  'roles:openvz':
    - match: grain
    - openvz
    - role.openvz
