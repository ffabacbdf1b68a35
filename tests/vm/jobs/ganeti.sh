# Guest job (sh): a hypervisor node bootstrapped by state.highstate (the node formula: its name
# and hosts block, the drbd module with Ganeti's options, a VLAN bridge for the master netdev,
# the VG on /dev/vdb, a sparse 21 GiB disk: a 20 GiB one leaves a VG of 20476 MiB, below
# the 20480 MiB gnt-cluster init wants), then a one-node Ganeti cluster formed by the ganeti
# states (node.ganeti_cluster): test=True first, then for real, then again (nothing to change),
# and the highstate again. The init's kvm:cpu_type is the model ganeti.common_cpu_model computes
# from the node's hostnode_cpu grain in the (local) mine; pillar's group rack1 is made and the
# node assigned to it; the DRBD disk parameters reach the init. gnt-cluster info, gnt-node list, ssconf_node_list and gnt-cluster
# verify are saved for the unit tests' fixtures. Results go to /results.
set -u
out=/results
salt_call() { /opt/salt/bin/salt-call --local -c /tmp/salt --out=json "$@"; }
fqdn=node1.guest.example.net
ip link set eth0 up
ip addr add 192.168.50.11/24 dev eth0
# The image is shared by every scenario: a node of its own gets its machine-id here (bridge MACs
# derive from it).
tr -d - < /proc/sys/kernel/random/uuid > /etc/machine-id
ssh-keygen -A
mkdir -p /run/sshd /root/.ssh
/usr/sbin/sshd
mkdir -p /tmp/salt /tmp/salt/pillar
cat > /tmp/salt/minion <<CONFIG
id: $fqdn
file_client: local
root_dir: /tmp/salt/root
module_dirs: [/hostnode]
file_roots: {base: [/hostnode/formulas, /hostnode/formulas/top]}
pillar_roots: {base: [/tmp/salt/pillar]}
grains: {roles: [hypervisor]}
hostnode: {config_root: /}
CONFIG
cat > /tmp/salt/pillar/top.sls <<'TOP'
base:
  '*': [node]
TOP
# The packages are in the guest image already (install: false: the guest has no archive).
cat > /tmp/salt/pillar/node.sls <<PILLAR
mine_functions:
  hostnode_cpu: [{mine_function: grains.get}, hostnode_cpu]
hostnode:
  node:
    hosts:
      $fqdn: 192.168.50.11
      ganeti.guest.example.net: 192.168.50.10
    kernel_modules:
      drbd: {options: {minor_count: 128, usermode_helper: /bin/true}}
    bridges: {bond: eth0, vlans: [100], offloads: {gro: false, gso: false, tso: false}}
    lvm: {vg: xenvg, devices: [/dev/vdb]}
    role_formulas:
      hypervisor: [node.bridges, node.lvm, node.ganeti]
    ganeti:
      install: false
      cluster_name: ganeti.guest.example.net
      master: $fqdn
      nodes: []
      master_netdev: br0100
      enabled_hypervisors: [kvm]
      enabled_disk_templates: [plain, drbd]
      vg_name: xenvg
      drbd_usermode_helper: /bin/true
      nic_link: br0100
      disk_parameters: {drbd: {resync-rate: 40960, c-max-rate: 102400}}
      groups: [rack1]
      node_groups: {$fqdn: rack1}
PILLAR
salt_call mine.update > $out/mine-update.json 2> $out/mine-update.err
salt_call ganeti.common_cpu_model > $out/cpu-model.json 2> $out/cpu-model.err
salt_call state.highstate > $out/highstate.json 2> $out/highstate.err
salt_call state.apply node.ganeti_cluster test=True > $out/salt-test.json 2> $out/salt-test.err
salt_call state.apply node.ganeti_cluster > $out/salt-apply.json 2> $out/salt-apply.err
salt_call state.apply node.ganeti_cluster > $out/salt-again.json 2> $out/salt-again.err
salt_call state.highstate > $out/highstate-again.json 2> $out/highstate-again.err
hostname > $out/hostname.txt
head -n 5 /etc/hosts > $out/hosts-head.txt
gnt-cluster info > $out/cluster-info.txt 2>&1
gnt-node list --no-headers --separator='|' -o name,pip,sip,master_candidate,offline,drained \
  > $out/node-list.txt 2>&1
cp /var/lib/ganeti/ssconf_node_list $out/ssconf-node-list.txt 2>> $out/ganeti-logs.txt
gnt-group list --no-headers --separator='|' -o name > $out/group-list.txt 2>&1
gnt-node list --no-headers --separator='|' -o name,group > $out/node-groups.txt 2>&1
cp /var/lib/ganeti/ssconf_hvparams_kvm $out/ssconf-hvparams-kvm.txt 2>> $out/ganeti-logs.txt
# The master IP, as ganeti-watcher's cron keeps it on a real node (no cron runs here): on a
# heavily loaded emulated guest the init's own activation can time out, and verify then says
# "the master node cannot reach the master IP". Its answer and the addresses are kept.
gnt-cluster activate-master-ip > $out/activate-master-ip.txt 2>&1
ip -o addr show > $out/ip-addr.txt 2>&1
gnt-cluster verify > $out/verify.txt 2>&1
echo "verify exit $?" >> $out/verify.txt
ls /var/log/ganeti >> $out/ganeti-logs.txt 2>&1
tail -n 40 /var/log/ganeti/*.log >> $out/ganeti-logs.txt 2>&1
# --- Bridge port offloads and bridge-nf (hostnode:node:bridges) -------------------------------
# After the highstates: the bridge port's offloads as ethtool -k reads them and the bridge-nf
# keys (br_netfilter loaded by node.kernel_modules, keys 0 by node.sysctl). Then a simulated
# reboot of the port from the persisted file: eth0.100 is deleted (br0100 loses its port) and
# ifup brings it back from /etc/network/interfaces.d/hostnode-bridge-eth0 alone (ifupdown creates
# the VLAN, the ethtool package's if-up.d hook applies the stanza's offload-* options); its
# offloads are read again. ethtool -k of eth0 is the virtio NIC's capture for the fixtures.
ethtool -k eth0 > $out/ethtool-k-eth0.txt 2>&1
ethtool -k eth0.100 > $out/ethtool-k-port.txt 2>&1
sysctl net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables \
  net.bridge.bridge-nf-call-arptables > $out/bridge-nf.txt 2>&1
cp /etc/network/interfaces.d/hostnode-bridge-eth0 $out/bridges-persisted.txt 2>&1
ip link del eth0.100
ifup -i /etc/network/interfaces.d/hostnode-bridge-eth0 eth0.100 > $out/ifup-port.txt 2>&1
echo "ifup exit $?" >> $out/ifup-port.txt
ethtool -k eth0.100 > $out/ethtool-k-port-after-ifup.txt 2>&1
# --- End of the bridge block ------------------------------------------------------------------
exit 0
