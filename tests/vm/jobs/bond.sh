# Guest job (sh): pin a bond's MAC with the bonding formula and show that it holds for both
# enslave orders, across a release of every slave (with the beacon reporting it) and across a
# simulated reboot from the persisted ifupdown configuration. Results go to /results.
set -eu
out=/results
salt_call() { /opt/salt/bin/salt-call --local -c /tmp/salt --out=json "$@"; }
mac() { cat /sys/class/net/bond0/address; }
# A reboot, as ifupdown sees it: every interface down, the bond gone, /run/network's state empty.
down_all() {
  ifdown --force eth0 eth1 bond0 2>/dev/null || true
  ip link del bond0 2>/dev/null || true
  rm -f /run/network/ifstate*
}
up_in_order() {  # slaves in this order, then the bond (Debian's hot-plug style)
  for nic in "$@"; do ifup "$nic"; done
  ifup bond0
  sleep 1
}

# --- /proc/net/bonding of three modes, for the parser's fixtures ------------------------------
for mode in 802.3ad balance-rr; do
  ip link add bond0 type bond mode "$mode" miimon 100
  for nic in eth0 eth1; do ip link set "$nic" down; ip link set "$nic" master bond0; done
  ip link set bond0 up
  sleep 2
  cat /proc/net/bonding/bond0 > "$out/bonding-$mode.txt"
  ip link del bond0
done
uname -srvm > "$out/uname.txt"

# --- The node: Debian's default interfaces sourcing interfaces.d first, a hot-plug bond there --
[ -s /etc/machine-id ] || dbus-uuidgen > /etc/machine-id
mkdir -p /etc/network/interfaces.d
cat > /etc/network/interfaces <<'CONF'
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
CONF
cat > /etc/network/interfaces.d/bond0 <<'CONF'
iface bond0 inet manual
    bond-slaves none
    bond-mode active-backup
    bond-miimon 100

iface eth0 inet manual
    bond-master bond0

iface eth1 inet manual
    bond-master bond0
CONF
mkdir -p /tmp/salt
cat > /tmp/salt/minion <<CONFIG
id: guest.ams1.example.net
file_client: local
root_dir: /tmp/salt/root
module_dirs: [/hostnode]
file_roots: {base: [/hostnode/formulas]}
pillar_roots: {base: [/hostnode/pillar.example]}
hostnode: {config_root: /}
log_level_logfile: debug
CONFIG

# --- Without a pin, the MAC follows the enslave order ------------------------------------------
up_in_order eth0 eth1; mac > "$out/unpinned-eth0-first.mac"; down_all
up_in_order eth1 eth0; mac > "$out/unpinned-eth1-first.mac"

# --- Pin with the formula (site ams1: the stable policy) --------------------------------------
salt_call state.apply bonding test=True > "$out/salt-bonding-test.json"
salt_call state.apply bonding > "$out/salt-bonding.json"
salt_call state.apply bonding > "$out/salt-bonding-again.json"
salt_call bond.stable_mac bond0 > "$out/stable-mac.json"
mac > "$out/pinned-live.mac"
cp /etc/network/interfaces.d/hostnode-bond-bond0 "$out/persisted-ifupdown.txt"

# --- Simulated reboots: tear down, bring up from the persisted config in both orders ----------
down_all; up_in_order eth0 eth1; mac > "$out/reboot-eth0-first.mac"
down_all; up_in_order eth1 eth0; mac > "$out/reboot-eth1-first.mac"

# --- The beacon, as the beacon loop calls it: quiet, slave down, all released, re-pinned -----
/opt/salt/bin/python /hostnode/tests/vm/jobs/beacon-driver.py /tmp/salt/minion \
  '{"bond": [{"bonds": ["bond0"]}]}' \
  'true' \
  'true' \
  'ip link set eth1 down' \
  'ip link set eth0 nomaster; ip link set eth1 nomaster' \
  'ip link set eth1 master bond0; ip link set eth0 master bond0; ip link set eth1 up' \
  "/opt/salt/bin/salt-call --local -c /tmp/salt --out=json state.apply bonding > $out/salt-bonding-repin.json" \
  > "$out/beacon.json"
mac > "$out/repinned-after-release.mac"
cp /tmp/salt/root/var/log/salt/minion "$out/minion.log" 2>/dev/null || true
