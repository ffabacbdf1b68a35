# Guest job (sh): the ceph_osd formula with method lvm and a DB device on a real one-host
# cluster (Debian's ceph-mon and ceph-osd; no mgr). /dev/vdb is the OSD's data disk, /dev/vdc
# its DB disk. state.apply with test=True, for real, and again; then the OSD as hostnode lists
# it and as the cluster sees it, a rados round trip, and ceph-volume's JSON for the fixtures.
set -eu
out=/results
salt_call() { /opt/salt/bin/salt-call --local -c /tmp/salt --out=json "$@"; }
now() { date +%s.%N; }
timed() {  # name command...: run it, write how long it took to $out/name.seconds
  name=$1; shift
  start=$(now)
  "$@"
  awk "BEGIN {print $(now) - $start}" > "$out/$name.seconds"
}
mon_up() { ceph --connect-timeout 5 mon stat > /dev/null 2>&1; }
osd_up() { ceph osd dump -f json | grep -q '"up":1'; }
wait_for() {  # condition seconds
  for _ in $(seq "$2"); do "$1" && return 0; sleep 1; done
  "$1"
}
uname -srvm > "$out/uname.txt"
ceph --version > "$out/ceph-version.txt"

# --- The cluster: one mon on 127.0.0.1, config in /etc/ceph of this throwaway guest ----------
fsid=$(cat /proc/sys/kernel/random/uuid)
echo "$fsid" > "$out/fsid.txt"
mkdir -p /etc/ceph /var/lib/ceph/mon/ceph-a /var/lib/ceph/bootstrap-osd /var/lib/ceph/tmp \
  /var/log/ceph /run/ceph
cat > /etc/ceph/ceph.conf <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:3300
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
auth allow insecure global id reclaim = false
osd memory target = 939524096
bluestore cache autotune = false
run dir = /run/ceph

[client]
admin socket =
CONF
tmp=/var/lib/ceph/tmp
start_cluster() {
  ceph-authtool --create-keyring $tmp/mon.keyring --gen-key -n mon. --cap mon 'allow *'
  ceph-authtool --create-keyring /etc/ceph/ceph.client.admin.keyring --gen-key \
    -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
  ceph-authtool --create-keyring /var/lib/ceph/bootstrap-osd/ceph.keyring --gen-key \
    -n client.bootstrap-osd --cap mon 'profile bootstrap-osd' --cap mgr 'allow r'
  for keyring in /etc/ceph/ceph.client.admin.keyring /var/lib/ceph/bootstrap-osd/ceph.keyring; do
    ceph-authtool $tmp/mon.keyring --import-keyring "$keyring"
  done
  monmaptool --create --addv a '[v2:127.0.0.1:3300]' --fsid "$fsid" $tmp/monmap
  ceph-mon --mkfs -i a --monmap $tmp/monmap --keyring $tmp/mon.keyring
  ceph-mon -i a
  wait_for mon_up 120
}
timed mon start_cluster

# --- The node's pillar: one OSD on /dev/vdb with its DB on /dev/vdc --------------------------
mkdir -p /tmp/salt /tmp/pillar
printf "base:\n  '*':\n    - ceph_osd\n" > /tmp/pillar/top.sls
cat > /tmp/pillar/ceph_osd.sls <<PILLAR
hostnode:
  ceph_osd:
    expected_fsid: $fsid
    method: lvm
    hosts:
      stor1.lab.example.net:
        devices:
          - {device: /dev/vdb, db_device: /dev/vdc, device_class: hdd}
PILLAR
cat > /tmp/salt/minion <<CONFIG
id: stor1.lab.example.net
file_client: local
root_dir: /tmp/salt/root
module_dirs: [/hostnode]
file_roots: {base: [/hostnode/formulas]}
pillar_roots: {base: [/tmp/pillar]}
hostnode: {config_root: /}
log_level_logfile: debug
CONFIG

ceph-volume inventory --format json > "$out/inventory-blank.json"
wipefs --no-act --json /dev/vdb > "$out/wipefs-vdb-blank.json"
timed salt-test salt_call state.apply ceph_osd test=True > "$out/salt-ceph-test.json"
timed salt-apply salt_call state.apply ceph_osd > "$out/salt-ceph.json"
wait_for osd_up 180 || true
timed salt-again salt_call state.apply ceph_osd > "$out/salt-ceph-again.json"
salt_call ceph_osd.list > "$out/ceph-osd-list.json"
salt_call ceph_osd.tree > "$out/ceph-osd-tree.json"

# --- The cluster's view, the data path, and ceph-volume's own JSON --------------------------
ceph osd dump -f json > "$out/osd-dump.json"
ceph osd metadata 0 -f json > "$out/osd-metadata-0.json" || true
ceph osd pool create data 8 > /dev/null 2>&1 && ceph osd pool application enable data rados
timeout 120 rados -p data put object /etc/os-release && \
  timeout 60 rados -p data get object "$out/rados-object.txt" || true
ceph-volume lvm list --format json > "$out/lvm-list-db.json"
ceph-volume raw list --format json > "$out/raw-list-lvm-host.json" || true
ceph-volume inventory --format json > "$out/inventory-lvm.json"
wipefs --no-act --json /dev/vdb > "$out/wipefs-vdb-osd.json" || true
ls /sys/class/block/vdb/holders /sys/class/block/vdc/holders > "$out/holders.txt"
lvs -o lv_path,vg_name,devices > "$out/lvs.txt" 2>&1 || true
ls -l /var/lib/ceph/osd/ceph-0 > "$out/osd-dir.txt" 2>&1 || true
cp /var/log/ceph/ceph-volume.log "$out/" 2>/dev/null || true
cp /tmp/salt/root/var/log/salt/minion "$out/minion.log" 2>/dev/null || true

# === The host's LVM filter (node_lvm.global_filter, formula node.lvm) =======================
# A VG xen-vg on a loop device stands for Ganeti's VG (a dash in its name: device-mapper
# doubles it). Two LVs stand for instance disks holding a guest's own VG: inst1-disk0 is a PV
# as a whole (LVM sees it only with devices/scan_lvs = 1), inst2-disk0 has a partition table
# whose first partition, mapped by kpartx as Ganeti's OS scripts do, is a PV (seen with LVM's
# defaults). vgs before and after the filter, a vgchange -ay of the inner VG, and the states'
# JSON go to $out/lvm-filter-*; a step that fails leaves its output there for the tests.
lvm_filter_proof() {
  scan_lvs='devices { scan_lvs = 1 }'
  vgs_all() { vgs --noheadings -o vg_name "$@" | tr -d ' ' | sort; }
  modprobe loop  # a module of Debian's kernel, and no init here loads it on first use
  truncate -s 256M /var/tmp/xen-vg.img
  loop=$(losetup --find --show /var/tmp/xen-vg.img)
  salt_call node_lvm.volume_group xen-vg "[$loop]" > "$out/lvm-filter-vg.json"
  lvcreate -qq -y -L 16M -n inst1-disk0 xen-vg
  lvcreate -qq -y -L 16M -n inst2-disk0 xen-vg
  pvcreate -qq --config "$scan_lvs" /dev/xen-vg/inst1-disk0
  vgcreate -qq --config "$scan_lvs" guest1 /dev/xen-vg/inst1-disk0
  # one primary partition of type 8e from sector 2048 to the end, as fdisk writes it
  python3 - /dev/xen-vg/inst2-disk0 <<'MBR'
import struct, sys
with open(sys.argv[1], "r+b") as disk:
    sectors = disk.seek(0, 2) // 512
    disk.seek(446)
    disk.write(struct.pack("<B3sB3sII", 0, bytes(3), 0x8E, bytes(3), 2048, sectors - 2048))
    disk.seek(510)
    disk.write(b"\x55\xaa")
MBR
  kpartx -a -s /dev/xen-vg/inst2-disk0
  part=$(ls /dev/mapper/xen--vg-inst2--disk0*1)
  echo "$part" > "$out/lvm-filter-partition.txt"
  pvcreate -qq "$part"
  vgcreate -qq guest2 "$part"
  vgs_all > "$out/lvm-filter-vgs-before.txt"
  vgs_all --config "$scan_lvs" > "$out/lvm-filter-vgs-before-scan-lvs.txt"

  printf "base:\n  '*':\n    - ceph_osd\n    - node\n" > /tmp/pillar/top.sls
  printf "hostnode:\n  node:\n    lvm:\n      vg: xen-vg\n      devices: [%s]\n" "$loop" \
    > /tmp/pillar/node.sls
  salt_call state.apply node.lvm test=True > "$out/lvm-filter-salt-test.json"
  salt_call state.apply node.lvm > "$out/lvm-filter-salt.json"
  salt_call state.apply node.lvm > "$out/lvm-filter-salt-again.json"
  cp /etc/lvm/lvmlocal.conf "$out/lvm-filter-lvmlocal.conf"

  vgs_all > "$out/lvm-filter-vgs-after.txt"
  vgs_all --config "$scan_lvs" > "$out/lvm-filter-vgs-after-scan-lvs.txt"
  pvs --noheadings -o pv_name,vg_name > "$out/lvm-filter-pvs-after.txt"
  vgchange -ay guest2 > "$out/lvm-filter-vgchange.txt" 2>&1
  echo "exit $?" >> "$out/lvm-filter-vgchange.txt"
  ls -l /dev/mapper /dev/xen-vg > "$out/lvm-filter-devices.txt" 2>&1
}
lvm_filter_proof > "$out/lvm-filter.log" 2>&1 || echo "exit $?" >> "$out/lvm-filter.log"
