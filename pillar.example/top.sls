# Every node gets each formula's common pillar; its site (by minion id) and its roles (by the
# roles grain) then override what differs. Later entries win: site/*.sls and role/*.sls are
# listed after the formulas' own pillar, and a role after the site.
# A minion sets its own grains, so a grain only picks configuration for the node that claims
# it; secrets go by minion id, which the master controls (it accepted that id's key): one
# secrets file per site, to the listed SAN clients of that site only (docs/pillar.md).
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
  'roles:storage':
    - match: grain
    - role.storage
  'roles:openvz':
    - match: grain
    - openvz
    - role.openvz
  'hv1.ams1.example.net,hv2.ams1.example.net':
    - match: list
    - secrets.ams1
  'hv1.fra1.example.net':
    - match: list
    - secrets.fra1
