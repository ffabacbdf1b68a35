{#- Removes hostnode's sysctl.d file: the kernel's values go back to the distribution's at the
    next boot (live values are left as they are, so no path drops now). #}
hostnode-storage-net-arpflux-clean:
  file.absent:
    - name: {{ salt['config.get']('hostnode:config_root', '/') | path_join('etc/sysctl.d/90-hostnode-arpflux.conf') }}
