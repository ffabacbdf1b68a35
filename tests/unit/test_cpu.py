"""One CPU model per cluster: cpuinfo parser, QEMU's models, the choice, grain, module."""

import importlib.util
import shutil
import subprocess

import pytest
from salt.exceptions import CommandExecutionError, SaltInvocationError

from saltext.hostnode.utils import cpu, qemu_cpu_models
from support import FIXTURES, REPO, fixture_text, load_module

ganeti = load_module("modules", "ganeti")
grain = load_module("grains", "hostnode_cpu")

SANDY = "intel-sandybridge-e5-2670.txt"
HASWELL = "intel-haswell-i7-4800mq.txt"
EPYC_HERE = "amd-epyc-vm-here.txt"
BERGAMO = "amd-epyc-9754-bergamo.txt"
ICELAKE = "intel-icelake-gold-6326-vmware.txt"


def parsed(case):
    return cpu.parse_cpuinfo(fixture_text("cpuinfo", case))


@pytest.mark.parametrize(
    ("case", "vendor", "family", "model", "name"),
    [
        (SANDY, "intel", 6, 45, "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz"),
        (HASWELL, "intel", 6, 60, "Intel(R) Core(TM) i7-4800MQ CPU @ 2.70GHz"),
        (EPYC_HERE, "amd", 26, 2, "AMD EPYC"),
        (BERGAMO, "amd", 25, 160, "AMD EPYC 9754 128-Core Processor"),
        (ICELAKE, "intel", 6, 106, "Intel(R) Xeon(R) Gold 6326 CPU @ 2.90GHz"),
    ],
)
def test_parse_cpuinfo_of_real_hosts(case, vendor, family, model, name):
    host = parsed(case)
    assert (host["vendor"], host["family"], host["model"], host["model_name"]) == (
        vendor, family, model, name)  # fmt: skip
    assert {"sse2", "lm", "cx16"} <= set(host["flags"])
    assert host["flags"] == sorted(host["flags"])


def test_parse_cpuinfo_bad_input_names_the_line():
    with pytest.raises(ValueError, match="line 2: no 'key: value'"):
        cpu.parse_cpuinfo("processor\t: 0\ngarbage\n")
    with pytest.raises(ValueError, match="line 1: 'vendor_id' before any 'processor'"):
        cpu.parse_cpuinfo("vendor_id\t: GenuineIntel\n")
    with pytest.raises(ValueError, match="line 3: model is not a number"):
        cpu.parse_cpuinfo("processor : 0\nvendor_id : GenuineIntel\nmodel : x\nflags : fpu\n")
    with pytest.raises(ValueError, match="no 'processor' line"):
        cpu.parse_cpuinfo("")
    with pytest.raises(ValueError, match=r"processor 0 has no \['flags'\]"):
        cpu.parse_cpuinfo("processor : 0\nvendor_id : GenuineIntel\n")
    mixed = fixture_text("cpuinfo", HASWELL).replace("model\t\t: 60", "model\t\t: 61", 1)
    with pytest.raises(ValueError, match="processor 1 differs in 'model'"):
        cpu.parse_cpuinfo(mixed)


def test_flags_are_those_every_processor_shows():
    text = fixture_text("cpuinfo", HASWELL).replace(" avx2 ", " ", 1)
    assert "avx2" not in cpu.parse_cpuinfo(text)["flags"]


@pytest.mark.parametrize(
    ("qemu", "kernel"),
    [("sse4.1", "sse4_1"), ("sse4.2", "sse4_2"), ("lahf-lm", "lahf_lm"),
     ("pclmulqdq", "pclmulqdq"), ("fsgsbase", "fsgsbase"), ("xsaveopt", "xsaveopt"),
     ("fxsr-opt", "fxsr_opt"), ("cr8legacy", "cr8_legacy"), ("avx512vnni", "avx512_vnni"),
     ("avx512-vpopcntdq", "avx512_vpopcntdq"), ("sha-ni", "sha_ni"), ("spec-ctrl", "ibrs"),
     ("amd-ssbd", "ssbd"), ("pni", "pni"), ("ds", "dts"),
     ("hypervisor", None), ("x2apic", None), ("svm", None), ("kvm-pv-eoi", None),
     ("vmx-ept", None), ("mds-no", None)],
)  # fmt: skip
def test_qemu_feature_names_map_to_cpuinfo_flags(qemu, kernel):
    assert cpu.cpuinfo_flag(qemu) == kernel


def test_every_required_flag_is_a_name_real_hosts_show():
    """
    The mapping gives /proc/cpuinfo's names: every flag any captured model requires appears in
    a fixture, except TSX (hle, rtm: off on these hosts) and Bulldozer's fma4, xop, tbm (no
    fixture of that generation), all five named so in the kernel's cpufeatures.h.
    """
    seen = set().union(*(parsed(case)["flags"] for case in (SANDY, HASWELL, BERGAMO, ICELAKE)))
    required = set().union(
        *(cpu.required_flags(f) for models in qemu_cpu_models.MODELS.values() for _, _, f in models)
    )
    assert required - seen == {"hle", "rtm", "fma4", "xop", "tbm"}


def test_captured_models_are_qemu_7_2_best_first():
    assert qemu_cpu_models.QEMU_VERSION.startswith("QEMU emulator version 7.2")
    intel = [name for name, _, _ in qemu_cpu_models.MODELS["intel"]]
    amd = [name for name, _, _ in qemu_cpu_models.MODELS["amd"]]
    assert intel.index("Haswell") < intel.index("IvyBridge") < intel.index("Conroe")
    assert amd[:3] == ["EPYC-Milan", "EPYC-Rome", "EPYC"]
    assert {v for _, v, _ in qemu_cpu_models.MODELS["intel"]} == {"GenuineIntel"}
    assert {v for _, v, _ in qemu_cpu_models.MODELS["amd"]} == {"AuthenticAMD"}
    ivy = dict((n, f) for n, _, f in qemu_cpu_models.MODELS["intel"])["IvyBridge"]
    assert {"avx", "f16c", "rdrand", "fsgsbase", "smep", "erms", "sse4.2"} <= set(ivy)


QEMU_BIN = shutil.which("qemu-system-x86_64")


@pytest.mark.skipif(not QEMU_BIN, reason="qemu-system-x86_64 is not installed")
def test_shipped_models_are_what_the_installed_qemu_reports():
    version = subprocess.run(
        [QEMU_BIN, "--version"], capture_output=True, text=True, check=True
    ).stdout
    if not version.startswith(qemu_cpu_models.QEMU_VERSION):
        pytest.skip(f"installed qemu is not the captured one: {version.splitlines()[0]}")
    path = FIXTURES / "qemu" / "capture_cpu_models.py"
    spec = importlib.util.spec_from_file_location("capture_cpu_models", path)
    capture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(capture)
    _, flags = capture.version_and_flags()
    expanded = capture.expansions(["IvyBridge", "EPYC-Rome", "qemu64"])
    for vendor, name in (("intel", "IvyBridge"), ("amd", "EPYC-Rome"), ("floor", "qemu64")):
        props = expanded[name]["props"]
        live = sorted(k for k, v in props.items() if v is True and k in flags)
        assert dict((n, f) for n, _, f in qemu_cpu_models.MODELS[vendor])[name] == live


def test_one_host_gets_its_own_generation():
    assert cpu.common_model({"sandy": parsed(SANDY)})["model"] == "SandyBridge"
    haswell = cpu.common_model({"haswell": parsed(HASWELL)})
    assert haswell["model"] == "Haswell-noTSX"
    assert haswell["blocked"][-1] == {"model": "Haswell", "missing": {"haswell": ["hle", "rtm"]}}


def test_a_sandy_bridge_and_a_haswell_share_sandy_bridge():
    chosen = cpu.common_model({"hv1": parsed(SANDY), "hv2": parsed(HASWELL)})
    assert (chosen["model"], chosen["vendor"], chosen["note"]) == ("SandyBridge", "intel", None)
    blocked = {entry["model"]: entry["missing"] for entry in chosen["blocked"]}
    assert blocked["IvyBridge"] == {"hv1": ["erms", "f16c", "fsgsbase", "rdrand", "smep"]}
    assert set(blocked["Haswell-noTSX"]) == {"hv1"}
    assert blocked["Haswell"] == {
        "hv1": ["abm", "avx2", "bmi1", "bmi2", "erms", "f16c", "fma", "fsgsbase", "hle",
                "invpcid", "movbe", "rdrand", "rtm", "smep"],
        "hv2": ["hle", "rtm"],
    }  # fmt: skip


def test_this_machine_misses_rdseed_for_epyc():
    chosen = cpu.common_model({"here": parsed(EPYC_HERE)})
    assert chosen["model"] == "Opteron_G3"
    assert chosen["blocked"][2] == {"model": "EPYC", "missing": {"here": ["rdseed"]}}


def test_newer_hosts_get_their_generation_less_what_their_kernel_or_hypervisor_hides():
    assert cpu.common_model({"bergamo": parsed(BERGAMO)}) == {
        "model": "EPYC-Milan", "vendor": "amd", "blocked": [], "note": None}  # fmt: skip
    icelake = cpu.common_model({"gold": parsed(ICELAKE)})
    assert icelake["model"] == "Cascadelake-Server-noTSX"
    assert icelake["blocked"][:2] == [
        {"model": "Icelake-Server", "missing": {"gold": ["hle", "la57", "rtm"]}},
        {"model": "Icelake-Server-noTSX", "missing": {"gold": ["la57"]}},
    ]


def test_an_ice_lake_and_a_haswell_share_haswell_without_tsx():
    chosen = cpu.common_model({"hv1": parsed(ICELAKE), "hv2": parsed(HASWELL)})
    assert chosen["model"] == "Haswell-noTSX"
    blocked = {entry["model"]: entry["missing"] for entry in chosen["blocked"]}
    assert blocked["Broadwell-noTSX"] == {"hv2": ["3dnowprefetch", "adx", "rdseed", "smap"]}


def test_mixed_vendors_get_the_floor_and_say_so():
    chosen = cpu.common_model({"hv1": parsed(HASWELL), "hv2": parsed(EPYC_HERE)})
    assert (chosen["model"], chosen["vendor"], chosen["blocked"]) == ("qemu64", None, [])
    assert "different CPU vendors (amd, intel)" in chosen["note"]
    with pytest.raises(ValueError, match="no node"):
        cpu.common_model({})


def test_an_unknown_vendor_or_a_host_below_the_floor_gets_the_floor_and_a_note():
    hygon = {**parsed(BERGAMO), "vendor": "HygonGenuine"}
    assert cpu.common_model({"hv1": hygon}) == {
        "model": "qemu64", "vendor": None, "blocked": [],
        "note": "no named models for CPU vendor HygonGenuine: qemu64 is the floor"}  # fmt: skip
    no_sse3 = {**parsed(HASWELL), "flags": [f for f in parsed(HASWELL)["flags"] if f != "pni"]}
    chosen = cpu.common_model({"hv1": no_sse3})
    assert (chosen["model"], chosen["note"]) == ("qemu64", "no intel model fits every node: "
                                                 "qemu64 is the floor")  # fmt: skip
    assert chosen["blocked"][-1] == {"model": "qemu64", "missing": {"hv1": ["pni"]}}


def test_grain_reads_proc_cpuinfo(monkeypatch, tmp_path):
    monkeypatch.setattr(grain, "CPUINFO", str(FIXTURES / "cpuinfo" / HASWELL))
    assert grain.hostnode_cpu() == {"hostnode_cpu": parsed(HASWELL)}
    (tmp_path / "cpuinfo").write_text("processor : 0\ncpu : POWER7\n")
    monkeypatch.setattr(grain, "CPUINFO", str(tmp_path / "cpuinfo"))
    assert grain.hostnode_cpu() == {}
    monkeypatch.setattr(grain, "CPUINFO", str(tmp_path / "absent"))
    assert grain.hostnode_cpu() == {}


@pytest.fixture
def configure_loader_modules():
    mine = {"hv1": parsed(SANDY), "hv2": parsed(HASWELL)}
    pillar = {"hostnode:node:ganeti": {"master": "hv1", "cluster_name": "c", "nodes": ["hv2"]}}

    def mine_get(tgt, fun, tgt_type="glob"):
        assert (fun, tgt_type) == ("hostnode_cpu", "list")
        return {node: mine[node] for node in tgt.split(",") if node in mine}

    salt = {"config.get": lambda key, default=None: pillar.get(key, default), "mine.get": mine_get}
    return {ganeti: {"__salt__": salt}}


def test_module_from_saved_cpuinfo_files():
    paths = [str(FIXTURES / "cpuinfo" / case) for case in (SANDY, HASWELL)]
    chosen = ganeti.common_cpu_model(sources=paths)
    assert chosen["model"] == "SandyBridge"
    assert set(chosen["blocked"][-1]["missing"]) == {paths[0]}


def test_module_bad_source_names_the_file_and_line(tmp_path):
    bad = tmp_path / "cpuinfo"
    bad.write_text("processor : 0\nnot a cpuinfo line\n")
    with pytest.raises(CommandExecutionError, match=f"{bad}: line 2: not a /proc/cpuinfo"):
        ganeti.common_cpu_model(sources=[str(bad)])


def test_module_from_grains_given_or_from_the_mine():
    given = ganeti.common_cpu_model(cpus={"hv2": parsed(HASWELL)})
    assert given["model"] == "Haswell-noTSX"
    assert ganeti.common_cpu_model()["model"] == "SandyBridge"  # hv1 and hv2 from the mine
    with pytest.raises(SaltInvocationError, match="cpus: hv3: not a hostnode_cpu grain"):
        ganeti.common_cpu_model(cpus={"hv3": {}})
    with pytest.raises(SaltInvocationError, match="cpus: hv3: flags is not a list"):
        ganeti.common_cpu_model(cpus={"hv3": {"vendor": "intel", "flags": "sse"}})


def test_module_says_which_nodes_the_mine_lacks(monkeypatch):
    monkeypatch.setitem(ganeti.__salt__, "mine.get", lambda tgt, fun, tgt_type: {})
    with pytest.raises(CommandExecutionError, match=r"no hostnode_cpu from hv1, hv2 \("):
        ganeti.common_cpu_model()


def test_the_model_data_is_code_that_sync_utils_ships():
    """saltutil.sync_utils copies only .py/.pyx/.so/.zip (salt/utils/extmods.py include_pat)."""
    shared = REPO / "_utils/saltext/hostnode/utils"
    assert (shared / "qemu_cpu_models.py").is_file()
    assert [p.name for p in shared.iterdir() if p.suffix not in (".py", "") and p.is_file()] == []


def test_module_without_a_declared_cluster_asks_for_cpus(monkeypatch):
    monkeypatch.setitem(ganeti.__salt__, "config.get", lambda key, default=None: default)
    with pytest.raises(SaltInvocationError, match="pillar declares no cluster"):
        ganeti.common_cpu_model()
