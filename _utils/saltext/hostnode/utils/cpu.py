"""
One CPU model per cluster: the host CPUs from /proc/cpuinfo, and the best QEMU named model that
every node of a cluster can run, so a live migration never lands a guest on a CPU that lacks an
instruction it already uses.

QEMU names a CPUID feature its own way (``-cpu help``); /proc/cpuinfo shows the kernel's name
(arch/x86/include/asm/cpufeatures.h: the macro's name in lower case, or the quoted name at the
start of its comment). The rule (:func:`cpuinfo_flag`): ``-`` and ``.`` become ``_``, then the
few names the kernel spells otherwise come from :data:`KERNEL_NAMES`. A feature the host's
/proc/cpuinfo cannot show, or that KVM gives a guest whatever the host has, is not checked
(:data:`NOT_CHECKED`).
"""

from saltext.hostnode.utils import qemu_cpu_models

VENDORS = {"GenuineIntel": "intel", "AuthenticAMD": "amd"}
FLOOR = qemu_cpu_models.MODELS["floor"][0][0]

# QEMU name -> kernel name, where "-"/"." -> "_" is not enough (cpufeatures.h's quoted names,
# and the vendor-specific bits the kernel folds into one common flag).
KERNEL_NAMES = {
    "ds": "dts", "cr8legacy": "cr8_legacy", "tsc-deadline": "tsc_deadline_timer",
    "avx512vnni": "avx512_vnni", "avx512bitalg": "avx512_bitalg", "avx512vbmi2": "avx512_vbmi2",
    "pause-filter": "pausefilter", "xstore": "rng", "xstore-en": "rng_en", "xcrypt": "ace",
    "xcrypt-en": "ace_en", "tsx-ldtrk": "tsxldtrk",
    "spec-ctrl": "ibrs", "amd-stibp": "stibp", "amd-ssbd": "ssbd",
}  # fmt: skip

NOT_CHECKED = {
    # KVM gives these to every guest, whatever the host shows.
    "hypervisor", "x2apic", "tsc-deadline", "arat",
    # KVM never passes MONITOR/MWAIT through by default; QEMU drops it.
    "monitor",
    # Nested virtualisation: KVM offers it only where nesting is on; a guest runs without it.
    "svm", "npt", "nrip-save", "svme-addr-chk", "vmx",
    # Bits of the IA32_ARCH_CAPABILITIES MSR, not CPUID: /proc/cpuinfo shows the "bugs" instead.
    "rdctl-no", "ibrs-all", "rsba", "skip-l1dfl-vmentry", "ssb-no", "mds-no", "pschange-mc-no",
    "taa-no", "tsx-ctrl",
}  # fmt: skip


def _processors(text):
    """Each processor's fields of interest, in order; ValueError naming the line."""
    processors = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not colon:
            raise ValueError(f"cpuinfo line {number}: no 'key: value': {line!r}")
        if key == "processor":
            processors.append({})
        elif not processors:
            raise ValueError(f"cpuinfo line {number}: {key!r} before any 'processor' line")
        elif key in ("cpu family", "model") and not value.isdigit():
            raise ValueError(f"cpuinfo line {number}: {key} is not a number: {value!r}")
        elif key in ("cpu family", "model"):
            processors[-1][key] = int(value)
        elif key in ("vendor_id", "model name"):
            processors[-1][key] = value
        elif key == "flags":
            processors[-1][key] = frozenset(value.split())
    return processors


def parse_cpuinfo(text):
    """
    The CPU of a host from its /proc/cpuinfo: ``{vendor, family, model, model_name, flags}``
    (vendor ``intel``/``amd`` or the raw vendor_id; flags a sorted list common to every
    processor). x86 only; a saved file may carry ``#`` comment lines. Raises ValueError naming
    the line for a line without ``:`` or a non-numeric family/model, and for processors that
    disagree or text without a processor.

    Input (excerpt)::

        processor\t: 0
        vendor_id\t: AuthenticAMD
        cpu family\t: 26
        model\t\t: 2
        model name\t: AMD EPYC
        flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep ...
    """
    processors = _processors(text)
    if not processors:
        raise ValueError("cpuinfo: no 'processor' line (not an x86 /proc/cpuinfo?)")
    first = processors[0]
    missing = [key for key in ("vendor_id", "flags") if key not in first]
    if missing:
        raise ValueError(f"cpuinfo: processor 0 has no {missing}")
    for index, proc in enumerate(processors[1:], 1):
        for key in ("vendor_id", "cpu family", "model"):
            if proc.get(key) != first.get(key):
                raise ValueError(f"cpuinfo: processor {index} differs in {key!r}")
    flags = frozenset.intersection(*(proc.get("flags", frozenset()) for proc in processors))
    return {
        "vendor": VENDORS.get(first["vendor_id"], first["vendor_id"]),
        "family": first.get("cpu family"),
        "model": first.get("model"),
        "model_name": first.get("model name"),
        "flags": sorted(flags),
    }


def from_grain(value, node):
    """A node's ``hostnode_cpu`` grain as common_model takes it; ValueError naming the node."""
    if not isinstance(value, dict) or not isinstance(value.get("vendor"), str):
        raise ValueError(f"cpus: {node}: not a hostnode_cpu grain (no vendor): {value!r}")
    flags = value.get("flags")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ValueError(f"cpus: {node}: flags is not a list of names")
    return {**value, "flags": sorted(flags)}


def cpuinfo_flag(feature):
    """The /proc/cpuinfo name of a QEMU CPUID feature, or None when it is not checked."""
    if feature in NOT_CHECKED or feature.startswith(("kvm", "vmx-")):
        return None
    return KERNEL_NAMES.get(feature, feature.replace("-", "_").replace(".", "_"))


def required_flags(features):
    """The /proc/cpuinfo flags a host needs to run a model with these QEMU features."""
    return {flag for flag in map(cpuinfo_flag, features) if flag}


def _missing(features, cpus):
    """{node: [flags it lacks]} for a model with these QEMU features; {} when every node runs it."""
    wanted = required_flags(features)
    return {
        node: sorted(wanted - set(cpu["flags"]))
        for node, cpu in sorted(cpus.items())
        if wanted - set(cpu["flags"])
    }


def common_model(cpus):
    """
    The best QEMU named model every host of cpus (``{node: parse_cpuinfo(...)}``) can run::

        {"model": "IvyBridge", "vendor": "intel",
         "blocked": [{"model": "Haswell", "missing": {"hv1": ["avx2", ...]}}, ...],
         "note": None}

    ``blocked`` lists the better models, best first, with the flags each node lacks. Nodes of
    different (or unknown) vendors get only the floor (``qemu64``, vendor None) and a note saying
    so; so do nodes none of their vendor's models fits. Raises ValueError for no nodes.
    """
    if not cpus:
        raise ValueError("cpus: no node given")
    vendors = sorted({cpu["vendor"] for cpu in cpus.values()})
    vendor = vendors[0] if len(vendors) == 1 else None
    named = qemu_cpu_models.MODELS.get(vendor, []) if vendor in VENDORS.values() else []
    blocked = []
    for name, _cpuid_vendor, features in [*named, *qemu_cpu_models.MODELS["floor"]]:
        missing = _missing(features, cpus)
        if missing:
            blocked.append({"model": name, "missing": missing})
            continue
        if name != FLOOR:
            return {"model": name, "vendor": vendor, "blocked": blocked, "note": None}
        break
    if len(vendors) > 1:
        note = f"nodes of different CPU vendors ({', '.join(vendors)}): only {FLOOR} is common"
    elif not named:
        note = f"no named models for CPU vendor {vendor}: {FLOOR} is the floor"
    else:
        note = f"no {vendor} model fits every node: {FLOOR} is the floor"
    return {"model": FLOOR, "vendor": None, "blocked": blocked, "note": note}


def lowered_by(model, members, joining):
    """
    The joining nodes (``{node: cpu}``) that cannot run the cluster's model, a QEMU named model
    of these tables (any other, e.g. ``host`` or none, is not judged), each with the flags it
    lacks and the model the cluster's nodes and it have in common::

        [{"node": "hv3", "model": "Haswell", "lacks": ["avx2", ...], "common": "IvyBridge"}]
    """
    named = [entry for entries in qemu_cpu_models.MODELS.values() for entry in entries]
    features = next((entry[2] for entry in named if entry[0] == model), None)
    if features is None:
        return []
    return [
        {"node": node, "model": model, "lacks": lacks,
         "common": common_model({**members, node: joining[node]})["model"]}
        for node, lacks in _missing(features, joining).items()
    ]  # fmt: skip


def model_change(old, new, cpus):
    """
    One line saying why a running cluster's KVM CPU model changes from old to new, the model
    every node of cpus (``{node: cpu}``) runs, and what that means for its instances: which
    nodes cannot run old (their missing flags) when old is a named model they lack, else
    that new is the best model they all run.
    """
    lacking = lowered_by(old, {}, cpus)
    if lacking:
        why = "lowered, " + "; ".join(
            f"{low['node']} lacks {', '.join(low['lacks'])}" for low in lacking
        )
    else:
        why = f"the best model every node runs ({', '.join(sorted(cpus))})"
    return (
        f"kvm:cpu_type {old or '(none)'} -> {new}: {why}; an instance gets {new} when it next "
        f"starts, a running one keeps {old or 'its model'} until then and live-migrates only to "
        "nodes that run it"
    )
