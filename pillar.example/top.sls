# Every node gets the defaults of each formula; site and role files then override what differs.
# Later entries win: site/*.sls and role/*.sls are listed after the formulas' own pillar.
base:
  '*':
    - anyip
    - bonding
    - storage_net
  '*.ams1.example.net':
    - site.ams1
  '*.fra1.example.net':
    - site.fra1
  'roles:storage-client':
    - match: grain
    - role.storage-client
    - secrets.storage
  'roles:openvz':
    - match: grain
    - openvz
  'roles:ceph-osd':
    - match: grain
    - ceph_osd
