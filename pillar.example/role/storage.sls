# Role storage (Ceph OSD hosts): many OSD daemons need many threads, as Ceph's hardware
# recommendations say; no instance bridges or volume group (see role_formulas in node.sls).
hostnode:
  node:
    sysctl:
      kernel.pid_max: 4194303
      vm.min_free_kbytes: 262144
      vm.swappiness: 10
