# CHAP credentials of the SAN targets, referenced by `chap_pillar` in storage_net. Keep the
# real ones in a pillar only storage clients get (top.sls), never in formulas or SLS files:
# hostnode writes them into open-iscsi's node records (mode 0600), never on a command line.
hostnode_secrets:
  iscsi:
    ams1-san:
      username: hostnode
      password: Chap-S3cret-42
    fra1-eql:
      username: fra1-node
      password: Replace-Me-0f-fra1
