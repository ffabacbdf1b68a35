# Guest job (sh): the kernel facts later capabilities rely on, and our modules under salt-call.
# Every output goes to /results, which the host's tests read. The job stops at the first error.
set -eu
out=/results
uname -srvm > "$out/uname.txt"

# --- Bonding: a bond takes the MAC of the slave enslaved first -------------------------------
bond_with() {  # first second label
  ip link add bond0 type bond mode active-backup miimon 100
  for slave in "$1" "$2"; do ip link set "$slave" down; ip link set "$slave" master bond0; done
  ip link set bond0 up
  sleep 1
  cat /proc/net/bonding/bond0 > "$out/bonding-$3.txt"
  ip -json link show bond0 > "$out/bond-link-$3.json"
  ip link del bond0
}
ip -json link show eth0 > "$out/eth0-link.json"
ip -json link show eth1 > "$out/eth1-link.json"
bond_with eth0 eth1 eth0-first
bond_with eth1 eth0 eth1-first

# --- iSCSI: one LUN on two portals, logged in on both, one dm-multipath map -------------------
mkdir -p /run/dbus
dbus-daemon --system --fork
iqn=iqn.2026-11.net.example:san
targetcli /backstores/fileio create lun0 /tmp/lun0.img 64M > /dev/null
targetcli /iscsi create "$iqn" > /dev/null
targetcli "/iscsi/$iqn/tpg1/luns" create /backstores/fileio/lun0 > /dev/null
targetcli "/iscsi/$iqn/tpg1/portals" delete 0.0.0.0 3260 > /dev/null
targetcli "/iscsi/$iqn/tpg1/portals" create 127.0.0.1 3260 > /dev/null
targetcli "/iscsi/$iqn/tpg1/portals" create 127.0.0.2 3260 > /dev/null
targetcli "/iscsi/$iqn/tpg1" set attribute authentication=0 generate_node_acls=1 \
  cache_dynamic_acls=1 demo_mode_write_protect=0 > /dev/null

printf 'defaults {\n    user_friendly_names yes\n    find_multipaths off\n}\n' > /etc/multipath.conf
iscsid
multipathd
iscsiadm -m discovery -t sendtargets -p 127.0.0.1 > "$out/iscsiadm-discovery-sendtargets.txt"
iscsiadm -m node -o update -n node.session.timeo.replacement_timeout -v 5
iscsiadm -m node --loginall=all > "$out/iscsiadm-login.txt"
udevadm settle --timeout=30
iscsiadm -m discovery > "$out/iscsiadm-discovery.txt"
iscsiadm -m session > "$out/iscsiadm-session.txt"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  multipath -ll > "$out/multipath-ll.txt" 2>&1
  [ "$(grep -c 'active ready running' "$out/multipath-ll.txt")" -ge 2 ] && break
  sleep 2
done

# --- salt-call with this checkout's modules: the anyip formula and arpflux on eth0/eth1 --------
mkdir -p /tmp/salt /tmp/image/etc/network
printf 'auto lo\niface lo inet loopback\n' > /tmp/image/etc/network/interfaces
cat > /tmp/salt/minion <<CONFIG
id: hostnode-guest
file_client: local
root_dir: /tmp/salt/root
module_dirs: [/hostnode]
file_roots: {base: [/hostnode/formulas]}
pillar_roots: {base: [/hostnode/pillar.example]}
hostnode: {config_root: /tmp/image}
CONFIG
/opt/salt/bin/salt-call --local -c /tmp/salt --out=json --retcode-passthrough \
  state.apply anyip > "$out/salt-anyip.json"
ip -json route get 198.51.100.77 > "$out/route-get-anyip.json"
/opt/salt/bin/salt-call --local -c /tmp/salt --out=json --retcode-passthrough \
  arpflux.tune interfaces=eth0,eth1 > "$out/salt-arpflux.json"
