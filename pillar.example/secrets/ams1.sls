# CHAP credentials of site ams1's SAN, referenced by `chap_pillar` in site/ams1.sls. top.sls
# serves this file by minion id to the site's SAN clients only, never by grain (docs/pillar.md);
# hostnode writes them into open-iscsi's node records (mode 0600), never on a command line.
hostnode_secrets:
  iscsi:
    ams1-san:
      username: hostnode
      password: Chap-S3cret-42
