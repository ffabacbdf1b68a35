"""
Boot the test guest under qemu, run one job in it, and bring its results back.

The guest (tests/vm/build-image) boots its own init, which mounts this checkout read-only at
/hostnode (9p tag ``repo``) and a results folder at /results (tag ``results``), runs the shell
script /results/job, writes ``HOSTNODE-JOB-EXIT=<code>`` on the serial console and powers off.
A boot writes to a copy-on-write overlay, so the cached image stays clean. The guest has two
virtio NICs (eth0, eth1) on a qemu hub that leads nowhere (or the NICs a scenario gives: see
qemu_argv), and extra virtio disks (vdb, ...). Boot starts a guest in the background, so a
scenario may run several at once.

Acceleration: qemu's software emulation (TCG) unless the CPU offers hardware virtualisation
(vmx/svm in /proc/cpuinfo) to KVM; HOSTNODE_VM_ACCEL=tcg|kvm overrides. Under TCG the guest's
CPU is TCG_CPU unless a scenario needs more (TCG_CPU_CEPH).

    python tests/vm/guest.py JOB_SCRIPT RESULTS_DIR     # boot once by hand
"""

import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXIT_LINE = re.compile(r"HOSTNODE-JOB-EXIT=(\d+)")
MACS = ("52:54:00:12:34:01", "52:54:00:12:34:02")
# panic=1 with qemu's -no-reboot: a guest whose init dies ends the boot instead of hanging.
KERNEL_ARGS = "root=/dev/vda rw console=ttyS0 init=/sbin/hostnode-init net.ifnames=0 panic=1 quiet"
# The emulated CPU: qemu64 (AMD's vendor: no page table isolation). With ``max``, whose AVX2,
# XSAVE state and 5-level paging glibc and the kernel take, the same boot and salt-call runs
# took a quarter more host CPU. Ceph's erasure-code plugin (gf-complete) kills ceph-mon with
# SIGILL at its start unless the CPU has SSE4.2 and PCLMUL.
TCG_CPU = "qemu64"
TCG_CPU_CEPH = "qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+pclmulqdq"
# One vCPU each: make test runs up to three guests beside the host lane on two host cores, and
# there two vCPUs per guest cost half as much host CPU again (a whole run: 62 CPU-minutes
# against 41, and 36 minutes against 26).
VCPUS = "1"


@dataclasses.dataclass
class JobResult:
    code: int | None  # None: the guest never reported (it did not boot, or hung)
    results: pathlib.Path
    console: str

    @property
    def log(self):
        path = self.results / "job.log"
        return path.read_text(errors="replace") if path.exists() else ""


def qemu_missing():
    """Why qemu cannot run here, or None."""
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 is not installed (package qemu-system-x86)"
    if not shutil.which("qemu-img"):
        return "qemu-img is not installed (package qemu-utils)"
    return None


def accelerator():
    chosen = os.environ.get("HOSTNODE_VM_ACCEL")
    if chosen:
        return chosen
    cpu = pathlib.Path("/proc/cpuinfo").read_text()
    usable = os.access("/dev/kvm", os.R_OK | os.W_OK) and re.search(r"\b(vmx|svm)\b", cpu)
    return "kvm" if usable else "tcg"


def build_image():
    """The cached image directory (built on first use)."""
    result = subprocess.run(
        [str(HERE / "build-image")], check=True, stdout=subprocess.PIPE, text=True
    )
    return pathlib.Path(result.stdout.strip().splitlines()[-1])


def hub_nics(macs=MACS):
    """The default NICs: virtio NICs on a qemu hub that leads nowhere, as (netdev, mac) pairs."""
    return [(f"hubport,id=n{index},hubid=0", mac) for index, mac in enumerate(macs)]


def qemu_argv(image, overlay, disks, results, console, nics=None, memory_mb=2048, cpu=TCG_CPU):
    """
    qemu's argv for one boot. nics: (netdev, mac) pairs, one virtio NIC each (eth0, eth1, ...
    in this order); each netdev spec is qemu's ``-netdev`` value, its ``id`` unique. cpu: the
    model under TCG (KVM passes the host's).
    """
    accel = accelerator()
    argv = [
        "qemu-system-x86_64",
        "-machine", f"q35,accel={accel}",
        "-cpu", "host" if accel == "kvm" else cpu,
        "-m", str(memory_mb),
        "-smp", VCPUS,
        "-display", "none",
        "-no-reboot",
        "-serial", f"file:{console}",
        "-kernel", str(image / "vmlinuz"),
        "-initrd", str(image / "initrd.img"),
        "-append", KERNEL_ARGS,
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        "-virtfs", f"local,path={REPO},mount_tag=repo,security_model=none,readonly=on",
        "-virtfs", f"local,path={results},mount_tag=results,security_model=none",
    ]  # fmt: skip
    for disk in disks:
        argv += ["-drive", f"file={disk},if=virtio,format=raw"]
    for netdev, mac in hub_nics() if nics is None else nics:
        netdev_id = re.search(r"\bid=([^,]+)", netdev)[1]
        argv += ["-netdev", netdev, "-device", f"virtio-net-pci,netdev={netdev_id},mac={mac}"]
    return argv


class Boot:
    """
    One guest booting in the background with a job (shell script text); ``wait`` returns what
    came back. The time limit leaves room for a guest slowed by the host lanes that run beside
    it (tests/run-lanes).
    """

    def __init__(self, image, job, results, disks=1, disk_mb=256, nics=None, memory_mb=2048,
                 cpu=TCG_CPU):  # fmt: skip
        self.results = pathlib.Path(results)
        self.results.mkdir(parents=True, exist_ok=True)
        (self.results / "job").write_text(job)
        scratch = self.results / ".boot"
        scratch.mkdir(exist_ok=True)
        self.overlay = scratch / "overlay.qcow2"
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
             "-b", str(image / "rootfs.img"), str(self.overlay)],
            check=True,
        )  # fmt: skip
        self.disks = []
        for index in range(disks):
            disk = scratch / f"disk{index}.raw"
            with open(disk, "wb") as handle:
                handle.truncate(disk_mb * 1024 * 1024)
            self.disks.append(disk)
        self.console = scratch / "console.log"
        argv = qemu_argv(image, self.overlay, self.disks, self.results, self.console, nics,
                         memory_mb, cpu)  # fmt: skip
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL)

    def wait(self, timeout=1800):
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        text = self.console.read_text(errors="replace") if self.console.exists() else ""
        match = EXIT_LINE.search(text)
        self.overlay.unlink(missing_ok=True)
        for disk in self.disks:
            disk.unlink(missing_ok=True)
        return JobResult(int(match[1]) if match else None, self.results, text)


def run(image, job, results, disks=1, disk_mb=256, timeout=1800, cpu=TCG_CPU):
    """Boot the guest once with job (shell script text) and return what came back."""
    return Boot(image, job, results, disks=disks, disk_mb=disk_mb, cpu=cpu).wait(timeout)


def skip_without_qemu():
    missing = qemu_missing()
    if missing:
        pytest.skip(f"qemu cannot run here: {missing}")


def job_results(job_name, results, disks=1, disk_mb=256, cpu=TCG_CPU):
    """
    For a test fixture: boot once with jobs/<job_name> (with disks extra disks of disk_mb MiB,
    sparse files), and return the results folder of a job that exited 0. pytest skips when
    qemu is missing and fails, with the console or the job's log, when the guest never
    reported or the job failed.
    """
    skip_without_qemu()
    job = (HERE / "jobs" / job_name).read_text()
    result = run(build_image(), job, results, disks=disks, disk_mb=disk_mb, cpu=cpu)
    if result.code is None:
        pytest.fail(f"the guest never reported:\n{result.console[-3000:]}")
    if result.code != 0:
        pytest.fail(f"the guest job failed ({result.code}):\n{result.log[-4000:]}")
    return result.results


def result(results, name):
    """The text a job left in its results folder; the test fails when the guest did not write it."""
    path = pathlib.Path(results) / name
    assert path.exists(), f"the guest did not write {name}"
    return path.read_text()


if __name__ == "__main__":
    job_path, results_dir = sys.argv[1:3]
    outcome = run(build_image(), pathlib.Path(job_path).read_text(), results_dir)
    print(outcome.log)
    print(f"exit: {outcome.code} (None: the guest did not report)")
    sys.exit(0 if outcome.code == 0 else 1)
