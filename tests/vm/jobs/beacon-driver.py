"""
Run a beacon the way the minion's beacon loop does (salt.beacons.Beacon.process, one process,
so state kept between calls survives), once per step: each step is a shell command run before
the call. Prints {"steps": [{"step", "events"}]} as JSON.

    /opt/salt/bin/python beacon-driver.py MINION_CONFIG BEACON_CONFIG_JSON STEP...
"""

import json
import subprocess
import sys
import time

import salt.beacons
import salt.config
import salt.loader


def main(minion_config, beacon_config, steps):
    opts = salt.config.minion_config(minion_config)
    opts["grains"] = salt.loader.grains(opts)
    utils = salt.loader.utils(opts)
    functions = salt.loader.minion_mods(opts, utils=utils)
    beacons = salt.beacons.Beacon(opts, functions)
    config = json.loads(beacon_config)
    report = []
    for step in steps:
        subprocess.run(step, shell=True, check=True)
        time.sleep(1)  # one miimon period and more: the kernel has seen the link change
        report.append({"step": step, "events": beacons.process(config, opts["grains"])})
    json.dump({"steps": report}, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
