# Guest job (sh): a one-node Ganeti cluster formed by the ganeti states (node.ganeti_cluster):
# test=True first, then for real, then again (nothing to change); gnt-cluster info, gnt-node list
# and gnt-cluster verify saved for the unit tests' fixtures. Results go to /results.
set -u
out=/results
salt_call() { /opt/salt/bin/salt-call --local -c /tmp/salt --out=json "$@"; }
fqdn=node1.guest.example.net
ip link set eth0 up
ip addr add 192.168.50.11/24 dev eth0
hostname "$fqdn"
echo "$fqdn" > /etc/hostname
cat >> /etc/hosts <<HOSTS
192.168.50.11 $fqdn node1
192.168.50.10 ganeti.guest.example.net ganeti
HOSTS
ssh-keygen -A
mkdir -p /run/sshd /root/.ssh
/usr/sbin/sshd
mkdir -p /tmp/salt
cat > /tmp/salt/minion <<CONFIG
id: $fqdn
file_client: local
root_dir: /tmp/salt/root
module_dirs: [/hostnode]
file_roots: {base: [/hostnode/formulas]}
pillar_roots: {base: [/tmp/salt/pillar]}
hostnode: {config_root: /}
CONFIG
mkdir -p /tmp/salt/pillar
cat > /tmp/salt/pillar/top.sls <<'TOP'
base:
  '*': [ganeti]
TOP
cat > /tmp/salt/pillar/ganeti.sls <<PILLAR
hostnode:
  node:
    ganeti:
      install: false
      cluster_name: ganeti.guest.example.net
      master: $fqdn
      nodes: []
      master_netdev: eth0
      enabled_hypervisors: [kvm]
      enabled_disk_templates: [diskless]
PILLAR
salt_call state.apply node.ganeti_cluster test=True > $out/salt-test.json 2> $out/salt-test.err
salt_call state.apply node.ganeti_cluster > $out/salt-apply.json 2> $out/salt-apply.err
salt_call state.apply node.ganeti_cluster > $out/salt-again.json 2> $out/salt-again.err
gnt-cluster info > $out/cluster-info.txt 2>&1
gnt-node list --no-headers --separator='|' -o name,pip,sip,master_candidate,offline,drained \
  > $out/node-list.txt 2>&1
gnt-cluster verify > $out/verify.txt 2>&1
echo "verify exit $?" >> $out/verify.txt
ls /var/log/ganeti > $out/ganeti-logs.txt 2>&1
tail -n 40 /var/log/ganeti/*.log >> $out/ganeti-logs.txt 2>&1
exit 0
