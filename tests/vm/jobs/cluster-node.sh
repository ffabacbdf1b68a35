# Guest job (sh) of the two-node cluster lane (tests/vm/test_guest_cluster.py): one of two
# nodes, each running a salt-minion daemon that a real salt-master on the host drives. The host
# writes the node's settings (node.env) and its pre-seeded minion key (pki/) in /results first.
# eth0 and eth1 sit on the private segment between the two guests (the node network, and the
# replication network DRBD runs on); eth2 is qemu's user network, restricted to the master's two
# ports at 10.0.2.100. The minion starts when the host writes /results/go, restarts when it
# writes /results/restart, and the guest powers off when it writes /results/stop. Nothing else
# is done here: the node's configuration, its Ganeti init or join, come from the master (the
# reactor of formulas/node/reactor/minion_start.sls).
set -u
. /results/node.env
out=/results
ip link set eth0 up
ip addr add "$NODE_IP/24" dev eth0
ip link set eth2 up
ip addr add 10.0.2.15/24 dev eth2
tr -d - < /proc/sys/kernel/random/uuid > /etc/machine-id
ssh-keygen -A
mkdir -p /run/sshd /root/.ssh
/usr/sbin/sshd
# An OS definition for the lane's test instance: Ganeti requires one, even with --no-install.
mkdir -p /srv/ganeti/os/noop
echo 10 > /srv/ganeti/os/noop/ganeti_api_version
for script in create export import rename; do
  printf '#!/bin/sh\nexit 0\n' > /srv/ganeti/os/noop/$script
  chmod 0755 /srv/ganeti/os/noop/$script
done
mkdir -p /etc/salt/pki/minion /etc/salt/minion.d
cp "$out/pki/minion.pem" "$out/pki/minion.pub" /etc/salt/pki/minion/
chmod 0400 /etc/salt/pki/minion/minion.pem
cat > /etc/salt/minion.d/hostnode.conf <<CONFIG
id: $NODE_ID
master: 10.0.2.100
master_port: $MASTER_PORT
publish_port: $PUBLISH_PORT
grains: {roles: [hypervisor]}
hostnode: {config_root: /}
log_file: $out/minion.log
log_level_logfile: info
CONFIG
while [ ! -f "$out/go" ] && [ ! -f "$out/stop" ]; do sleep 1; done
[ -f "$out/stop" ] || /opt/salt/bin/salt-minion -d
while [ ! -f "$out/stop" ]; do
  if [ -f "$out/restart" ]; then
    rm -f "$out/restart"
    pkill -f /opt/salt/bin/salt-minion
    while pgrep -f /opt/salt/bin/salt-minion > /dev/null; do sleep 1; done
    /opt/salt/bin/salt-minion -d
  fi
  sleep 1
done
tail -n 200 /var/log/ganeti/*.log > "$out/ganeti-logs.txt" 2>&1
exit 0
