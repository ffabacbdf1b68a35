# Guest job (sh): the storage_net formula against a real LIO target with CHAP, reached on two
# portals in two subnets through two NICs (veth pairs into a network namespace "san" holding
# the target). Shows the login on both portals, one multipath map with two paths, a blocked
# portal seen by multipath.health and the beacon, its return, a second run without changes, an
# unreachable third portal failing alone in bounded time, the CHAP secret nowhere, and clean.
set -eu
jobs=/hostnode/tests/vm/jobs
secret=/tmp/chap-secret
# Helpers shared with the beacon driver's steps, which run in shells of their own.
cat > /tmp/job-functions <<'SH'
out=/results
salt_call() { /opt/salt/bin/salt-call --local -c /tmp/salt --out=json "$@"; }
now() { date +%s.%N; }
lost() { multipath -ll 2>/dev/null | grep -q 'failed faulty'; }
paths_up() { [ "$(multipath -ll 2>/dev/null | grep -c 'active ready running')" -ge 2 ]; }
wait_for() {  # condition seconds result-name: how long the condition took to hold
  start=$(now)
  for _ in $(seq "$2"); do "$1" && break; sleep 1; done
  "$1"
  awk "BEGIN {print $(now) - $start}" > "$out/$3.seconds"
}
save_topology() {  # suffix
  multipath -ll > "$out/ll-$1.txt" 2>&1
  multipathd show maps json > "$out/maps-json-$1.txt"
  iscsiadm -m session -P 3 > "$out/session-P3-$1.txt"
}
SH
. /tmp/job-functions

# --- The SAN: namespace "san" with the LIO target; stor-a/stor-b are the node's SAN NICs ----
ip netns add san
ip -n san link set lo up
ip link add stor-a type veth peer name san-a netns san
ip link add stor-b type veth peer name san-b netns san
ip addr add 192.0.2.10/24 dev stor-a
ip addr add 198.51.100.10/24 dev stor-b
ip -n san addr add 192.0.2.1/24 dev san-a
ip -n san addr add 192.0.2.3/24 dev san-a
ip -n san addr add 198.51.100.1/24 dev san-b
for nic in stor-a stor-b; do ip link set "$nic" up; done
for nic in san-a san-b; do ip -n san link set "$nic" up; done
# 192.0.2.3 is a portal that never answers: every packet to it is dropped.
ip netns exec san iptables -A INPUT -d 192.0.2.3 -j DROP
/opt/salt/bin/python - > "$secret" <<'PY'
import yaml
print(yaml.safe_load(open("/hostnode/pillar.example/secrets/ams1.sls"))
      ["hostnode_secrets"]["iscsi"]["ams1-san"]["password"])
PY
initiator=$(sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi)
ip netns exec san python3 "$jobs/lio-target.py" iqn.2026-11.net.example:san "$initiator" \
  "$secret" 192.0.2.1 198.51.100.1 192.0.2.3
uname -srvm > "$out/uname.txt"
iscsid
multipathd

# --- The node: minion in site ams1 with role hypervisor ------------------------------------
# pillar.example as it is, plus the guest's own entry: ams1's secrets served to its minion id,
# as to any SAN client of the site, and one file: no salt-minion runs here for Salt's beacon
# states to talk to, so the formula leaves beacons alone (the driver below runs the beacon).
mkdir -p /tmp/salt
cp -r /hostnode/pillar.example /tmp/pillar
printf '  guest.ams1.example.net:\n    - guest\n    - secrets.ams1\n' >> /tmp/pillar/top.sls
printf 'hostnode: {storage_net: {multipath: {beacon: {enabled: null}}}}\n' > /tmp/pillar/guest.sls
cat > /tmp/salt/minion <<CONFIG
id: guest.ams1.example.net
file_client: local
root_dir: /tmp/salt/root
module_dirs: [/hostnode]
file_roots: {base: [/hostnode/formulas]}
pillar_roots: {base: [/tmp/pillar]}
grains: {roles: [hypervisor]}
hostnode: {config_root: /}
log_level_logfile: debug
CONFIG

/opt/salt/bin/python "$jobs/cmdline-sampler.py" "$secret" > "$out/cmdline-samples.json" &
sampler=$!
salt_call state.apply storage_net test=True > "$out/salt-storage-test.json"
salt_call state.apply storage_net > "$out/salt-storage.json"
wait_for paths_up 30 two-paths
salt_call multipath.health min_paths=2 > "$out/health-healthy.json"
save_topology healthy
iscsiadm -m session -P 1 > "$out/session-P1.txt"
iscsiadm -m node -P 1 > "$out/node-P1.txt"
iscsiadm -m iface > "$out/iface.txt"
cp /etc/multipath.conf "$out/multipath.conf"
salt_call state.apply storage_net > "$out/salt-storage-again.json"

# --- A third portal that never answers: it fails alone, in bounded time ---------------------
san='{"portal": "192.0.2.1", "iface": "ieth-a", "netdev": "stor-a"},
  {"portal": "198.51.100.1", "iface": "ieth-b", "netdev": "stor-b"},
  {"portal": "192.0.2.3", "iface": "ieth-a"}'
third=$(printf '{"hostnode": {"storage_net": {"iscsi": {"targets": {"ams1-san": {"portals": [%s]}}}}}}' \
  "$(echo $san)")  # one line: salt-call takes no newlines in a pillar= argument
start=$(now)
salt_call state.apply storage_net.iscsi pillar="$third" > "$out/salt-storage-third.json" || true
awk "BEGIN {print $(now) - $start}" > "$out/third-portal.seconds"
kill "$sampler"; wait "$sampler" || true
# The record files hold the secret (mode 0600); nothing else may.
stat -c '%a %n' /etc/iscsi/nodes/*/*/* > "$out/record-modes.txt"

# --- Path failure and return, seen by the beacon as the beacon loop runs it ------------------
block='iptables -A OUTPUT -o stor-b -j DROP; iptables -A INPUT -i stor-b -j DROP'
/opt/salt/bin/python "$jobs/beacon-driver.py" /tmp/salt/minion \
  '{"multipath": [{"min_paths": 2}]}' \
  'true' \
  'true' \
  "$block; . /tmp/job-functions; wait_for lost 60 path-lost; save_topology one-failed" \
  ". /tmp/job-functions; salt_call multipath.health min_paths=2 > $out/health-one-failed.json" \
  "iptables -F; . /tmp/job-functions; wait_for paths_up 90 path-regained" \
  > "$out/beacon.json"
save_topology restored

# --- clean: logged out, records deleted, multipath.conf gone --------------------------------
salt_call state.apply storage_net.clean > "$out/salt-storage-clean.json"
iscsiadm -m session > "$out/session-after-clean.txt" 2>&1 || true
ls /etc/multipath.conf > "$out/multipath-conf-after-clean.txt" 2>&1 || true
cp /tmp/salt/root/var/log/salt/minion "$out/minion.log"
