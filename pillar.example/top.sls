# Every node gets the defaults of each formula; a site file then overrides what differs there.
# Later entries win: site/*.sls is listed after the formula's own pillar.
base:
  '*':
    - anyip
  '*.ams1.example.net':
    - site.ams1
