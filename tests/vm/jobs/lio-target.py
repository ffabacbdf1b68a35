"""
An LIO iSCSI target for the storage-net guest job: one 64 MiB file LUN on the given portals,
CHAP required from one initiator. The secret is read from a file, never taken from argv.

    python3 lio-target.py TARGET_IQN INITIATOR_IQN SECRET_FILE PORTAL...
"""

import sys

from rtslib_fb import (
    LUN,
    TPG,
    FabricModule,
    FileIOStorageObject,
    MappedLUN,
    NetworkPortal,
    NodeACL,
    RTSRoot,
    Target,
)


def main(target, initiator, secret_file, portals):
    with open(secret_file) as handle:
        secret = handle.read().strip()
    RTSRoot()  # mounts configfs where `ip netns exec` gave us a fresh /sys
    backstore = FileIOStorageObject("lun0", "/tmp/lun0.img", size=64 * 1024 * 1024)
    tpg = TPG(Target(FabricModule("iscsi"), target), 1)
    lun = LUN(tpg, 0, backstore)
    for address in portals:
        NetworkPortal(tpg, address, 3260)
    acl = NodeACL(tpg, initiator)
    MappedLUN(acl, 0, lun)
    acl.chap_userid = "hostnode"
    acl.chap_password = secret
    tpg.set_attribute("authentication", "1")
    tpg.set_attribute("generate_node_acls", "0")
    tpg.enable = True


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
