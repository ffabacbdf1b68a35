"""
Sample every process's /proc/<pid>/cmdline until SIGTERM, and report whether any held the
secret: {"samples", "iscsiadm_seen", "secret_seen"} as JSON on stdout. The secret is read from
a file so that this process's own cmdline does not hold it.

    python3 cmdline-sampler.py SECRET_FILE
"""

import json
import os
import signal
import sys
import time


def main(secret_file):
    with open(secret_file, "rb") as handle:
        secret = handle.read().strip()
    stats = {"samples": 0, "iscsiadm_seen": 0, "secret_seen": 0}
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.clear())
    while running:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    cmdline = handle.read()
            except OSError:
                continue
            stats["iscsiadm_seen"] += cmdline.startswith(b"iscsiadm")
            stats["secret_seen"] += secret in cmdline
        stats["samples"] += 1
        time.sleep(0.01)
    json.dump(stats, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
