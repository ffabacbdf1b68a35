# hostnode's state top. It lives in a file_roots directory of its own (formulas/top), never at
# the root of formulas/, so adding formulas/ to a master's file_roots neither shadows nor merges
# into the master's own top file. A master without a top of its own adds this directory to
# file_roots after formulas/; a master with one copies this stanza into it. A minion whose
# roles grain, or pillar list hostnode:roles, names one of our roles gets the node formula,
# which includes what its roles need (hostnode:node:role_formulas).
base:
  'G@roles:hypervisor or G@roles:storage or G@roles:openvz or I@hostnode:roles:*':
    - match: compound
    - node
