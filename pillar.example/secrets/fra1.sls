# CHAP credentials of site fra1's SAN, referenced by `chap_pillar` in site/fra1.sls. top.sls
# serves this file by minion id to the site's SAN clients only, never by grain (docs/pillar.md);
# hostnode writes them into open-iscsi's node records (mode 0600), never on a command line.
hostnode_secrets:
  iscsi:
    fra1-eql:
      username: fra1-node
      password: Replace-Me-0f-fra1
