"""
Grain ``hostnode_cpu``: this host's CPU from /proc/cpuinfo (no subprocess), the input of
``ganeti.common_cpu_model`` (one CPU model per cluster). Absent where /proc/cpuinfo is not an
x86 one::

    hostnode_cpu: {vendor: intel, family: 6, model: 60,
                   model_name: 'Intel(R) Core(TM) i7-4800MQ CPU @ 2.70GHz', flags: [abm, ...]}
"""

import logging

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import cpu as hostnode_cpu_utils

log = logging.getLogger(__name__)

CPUINFO = "/proc/cpuinfo"


def hostnode_cpu():
    """Vendor, family, model, model name and the flags every processor shows; {} elsewhere."""
    try:
        with open(CPUINFO, encoding="utf-8") as handle:
            return {"hostnode_cpu": hostnode_cpu_utils.parse_cpuinfo(handle.read())}
    except (OSError, ValueError) as exc:
        log.debug("hostnode_cpu: %s", exc)
        return {}
