# Guest job (sh): the storage_net formula against a real LIO target with CHAP, reached on two
# portals in two subnets through two NICs (veth pairs into a network namespace "san" holding
# the target). Shows the login on both portals, one multipath map with two paths, a blocked
# portal seen by multipath.health and the beacon, its return, a second run without changes, an
# unreachable third portal failing alone in bounded time, a portal moved to a third NIC (its
# live session logged in again through it while the map keeps a path), the re-login of a
# `watch`, the CHAP secret nowhere, and clean; and saves iscsiadm's layouts as fixtures.
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
# stor-c, a third NIC in stor-a's subnet (the SAN side bridged with san-a), takes portal
# 192.0.2.1 over later on; ARP answered by the NIC that owns the address (arpflux's values).
ip link add stor-a type veth peer name san-a netns san
ip link add stor-b type veth peer name san-b netns san
ip link add stor-c type veth peer name san-c netns san
ip -n san link add br-a type bridge
ip -n san link set san-a master br-a
ip -n san link set san-c master br-a
ip addr add 192.0.2.10/24 dev stor-a
ip addr add 198.51.100.10/24 dev stor-b
ip addr add 192.0.2.11/24 dev stor-c
ip -n san addr add 192.0.2.1/24 dev br-a
ip -n san addr add 192.0.2.3/24 dev br-a
ip -n san addr add 198.51.100.1/24 dev san-b
for nic in stor-a stor-c; do
  sysctl -qw "net.ipv4.conf.$nic.arp_ignore=1" "net.ipv4.conf.$nic.arp_announce=2"
done
for nic in stor-a stor-b stor-c; do ip link set "$nic" up; done
for nic in san-a san-b san-c br-a; do ip -n san link set "$nic" up; done
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
file_roots: {base: [/hostnode/formulas, /tmp/salt/sls]}
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

# --- Portal 192.0.2.1 moves to stor-c: its live session is logged in again through stor-c ----
# while the map is sampled: the kernel's table keeps an active path throughout. Then a watch
# re-logs in both portals, one after the other.
moved=$(echo "$third" | sed 's/, {"portal": "192.0.2.3", "iface": "ieth-a"}//; s/"stor-a"/"stor-c"/')
# Two samplers until /tmp/stop-sampling exists. <name>.txt: "time active" lines, the paths the
# kernel's multipath table holds active (dmsetup status: major:minor A), which is what I/O
# uses, read every 50 ms. <name>-ll.txt: "time ready" lines, the paths `multipath -ll` shows
# "active ready running" (it runs path checkers of its own, slow under emulation, which can
# answer "i/o pending" for a healthy path), each output kept in <name>-ll-outputs.txt.
active_in_table() {
  dmsetup status --target multipath 2>/dev/null \
    | awk '{for (i = 1; i < NF; i++) if ($i ~ /^[0-9]+:[0-9]+$/ && $(i + 1) == "A") n++} END {print n + 0}'
}
sample_paths() {  # name
  rm -f /tmp/stop-sampling
  while [ ! -e /tmp/stop-sampling ]; do
    echo "$(now) $(active_in_table)"
    sleep 0.05
  done > "$out/$1.txt" &
  while [ ! -e /tmp/stop-sampling ]; do
    multipath -ll > /tmp/ll.txt 2>&1 || true
    echo "$(now) $(grep -c 'active ready running' /tmp/ll.txt)"
    { echo "== $(now)"; cat /tmp/ll.txt; } >> "$out/$1-ll-outputs.txt"
    sleep 0.2
  done > "$out/$1-ll.txt"
  wait
}
nic_bytes() { cat /sys/class/net/stor-a/statistics/rx_bytes /sys/class/net/stor-c/statistics/rx_bytes; }
salt_call state.apply storage_net.iscsi pillar="$moved" test=True > "$out/salt-move-test.json"
sample_paths move-paths &
paths_sampler=$!
salt_call state.apply storage_net.iscsi pillar="$moved" > "$out/salt-move.json"
touch /tmp/stop-sampling; wait "$paths_sampler"
iscsiadm -m session -P 3 > "$out/session-P3-moved.txt"
disk=$(awk '/Iface Netdev:/ {nic = $3} /Attached scsi disk/ && nic == "stor-c" {print $4; exit}' \
  "$out/session-P3-moved.txt")
nic_bytes > "$out/nic-bytes-before.txt"
dd if="/dev/${disk:-missing}" of=/dev/null bs=64k count=64 iflag=direct 2> "$out/dd.txt" || true
nic_bytes > "$out/nic-bytes-after.txt"
mkdir -p /tmp/salt/sls
cat > /tmp/salt/sls/guest-watch.sls <<'SLS'
include:
  - storage_net.iscsi
hostnode-guest-iscsid-conf-changed:
  test.succeed_with_changes:
    - watch_in:
      - iscsi: hostnode-storage-net-iscsi-ams1-san
SLS
sample_paths watch-paths &
paths_sampler=$!
salt_call state.apply guest-watch pillar="$moved" > "$out/salt-watch.json"
touch /tmp/stop-sampling; wait "$paths_sampler"
wait_for paths_up 60 watch-paths-back

# --- iscsiadm's layouts, saved for the parsers' fixtures ----------------------------------
# A second session on portal 192.0.2.1 (iface ieth-x by stor-a), next to ieth-a's once ieth-b is
# logged in again (sessions print in SID order): iscsiadm prints no portal lines for it.
salt_call iscsi.login iqn.2026-11.net.example:san \
  '[{"portal": "192.0.2.1", "iface": "ieth-x", "netdev": "stor-a"}]' \
  chap_pillar=hostnode_secrets:iscsi:ams1-san > "$out/login-ieth-x.json" || true
salt_call iscsi.relogin iqn.2026-11.net.example:san '["198.51.100.1"]' \
  > "$out/relogin-ieth-b.json" || true
for level in 0 1 2 3; do iscsiadm -m session -P "$level" > "$out/layout-session-P$level.txt"; done
iscsiadm -m session > "$out/layout-session.txt"
iscsiadm -m node > "$out/layout-node.txt"
iscsiadm -m node -P 1 > "$out/layout-node-P1.txt"
iscsiadm -m iface > "$out/layout-iface.txt"
iscsiadm -m iface -P 1 > "$out/layout-iface-P1.txt" 2>&1 || true
node_x="iscsiadm -m node -T iqn.2026-11.net.example:san -p 192.0.2.1 -I ieth-x"
$node_x --logout > /dev/null || true
$node_x -o delete || true
iscsiadm -m iface -I ieth-x -o delete > /dev/null || true
two_paths() { [ "$(multipath -ll 2>/dev/null | grep -c 'active ready running')" -eq 2 ]; }
wait_for two_paths 60 ieth-x-gone

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
# Discovery records (none of the target's node records are left to disturb).
{
  iscsiadm -m discoverydb -t st -p 192.0.2.1 -o new > /dev/null
  iscsiadm -m discoverydb > "$out/layout-discoverydb.txt"
  iscsiadm -m discoverydb -P 1 > "$out/layout-discoverydb-P1.txt"
  iscsiadm -m discovery > "$out/layout-discovery.txt"
  iscsiadm -m discovery -t st -p 192.0.2.1 -o nonpersistent > "$out/layout-sendtargets.txt"
  iscsiadm -m discovery -t st -p 192.0.2.1 -o nonpersistent -P 1 \
    > "$out/layout-sendtargets-P1.txt"
  iscsiadm -m discoverydb -t st -p 192.0.2.1 -o delete
} 2> "$out/layout-discovery.err" || true
cp /tmp/salt/root/var/log/salt/minion "$out/minion.log"
