#!/usr/bin/env python3
"""Runs xenpv on bad inputs of every kind it reads and checks that each is refused cleanly.

Usage: Scripts/hostile-inputs.py PATH/TO/xenpv [--only SUBSTRING] [--verbose]

Each case is a command line over generated files (scenarios, traces, dumps, capture folders,
special files, output paths, option values). Every run must:
  - exit below 128 (no signal, no trap) and print no `Fatal error`;
  - finish within 30 s (60 s for the big generated inputs) and stay under 2 GiB resident;
  - write under 64 KiB to stderr;
  - when it is a refusal: exit non-zero with one line on stderr naming what it refuses
    (the file, line and field, or the option);
  - when it fails: leave no output file and no temporary behind, and leave planted files
    (symlink targets, FIFOs, devices) untouched.
Prints one line per failing case and a summary; exits 1 if any case fails.
"""
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

GIB = 1 << 30


class Case:
    def __init__(self, name, argv, expect="refuse", names=(), big=False, stdin=None, outputs=(),
                 planted=(), lines=1, interrupt_after=None):
        self.name = name          # what the case is
        self.argv = argv          # arguments after the binary
        self.expect = expect      # "refuse", "ok" or "any" (no trap, bounded, clean)
        self.names = names        # substrings the refusal line must hold
        self.big = big            # 60 s budget instead of 30 s
        self.stdin = stdin        # a path fed as standard input
        self.outputs = outputs    # paths the run may write (must not exist after a failure)
        self.planted = planted    # paths whose type and contents must not change
        self.lines = lines        # stderr lines allowed for a refusal
        self.interrupt_after = interrupt_after  # send SIGINT after this many seconds


def scenario(body_host="ram: 2G", xen="dom0_mem: 768M,max:768M", guest="type: pv-dom0\n  kernel: v5.11\n  cmdline: \"swiotlb=1024,force\"",
             devices='- {name: "nic", dma_bits: 32}', streams='- {network: {device: "nic", mtu: 1500, in_flight: 16, ops: 200}}'):
    return f"""schema: 1
name: hostile
host:
  {body_host}
xen:
  {xen}
guest:
  {guest}
devices:
  {devices}
workload:
  seed: 1
  streams:
    {streams}
"""


def build_cases(d):
    def write(name, text, mode="w"):
        p = os.path.join(d, name)
        with open(p, mode) as f:
            f.write(text)
        return p

    def out(name):
        return os.path.join(d, "out", name)

    os.makedirs(os.path.join(d, "out"), exist_ok=True)
    cases = []
    add = cases.append

    # --- special files and sizes as scenarios, traces and dumps
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    big = os.path.join(d, "random-256M.bin")
    with open(big, "wb") as f:
        for _ in range(256):
            f.write(os.urandom(1 << 20))
    longline = write("long-line.txt", "x" * (10 << 20))
    for cmd in (["simulate"], ["size"], ["swiotlb", "replay"], ["import"]):
        label = " ".join(cmd)
        add(Case(f"{label} /dev/zero", cmd + ["/dev/zero"], names=("/dev/zero",), big=True))
        add(Case(f"{label} FIFO without a writer", cmd + [fifo], names=("fifo",)))
        add(Case(f"{label} a directory", cmd + [d], names=(d,)))
        add(Case(f"{label} a missing file", cmd + [os.path.join(d, "missing")], names=("missing",)))
        add(Case(f"{label} 256 MB of random bytes", cmd + [big], names=("random-256M.bin",), big=True))
        add(Case(f"{label} an unterminated 10 MB line", cmd + [longline], names=("long-line.txt",), big=True))
    add(Case("simulate /dev/null", ["simulate", "/dev/null"], names=("/dev/null",)))
    add(Case("swiotlb replay an empty file", ["swiotlb", "replay", write("empty.trace", "")], names=("empty.trace",)))
    add(Case("swiotlb replay /dev/zero on stdin", ["swiotlb", "replay", "-"], stdin="/dev/zero", names=("stdin",), big=True))

    # --- scenarios: meaning, not only syntax
    bad_scenarios = {
        "ram-4096T": (scenario(body_host="ram: 4096T"), ("host.ram",)),
        "ram-negative": (scenario(body_host="ram: -1G"), ("host.ram",)),
        "e820-at-2^52": (scenario(body_host="e820:\n    - {start: 0x0, size: 0x9fc00, type: ram}\n    - {start: 0x10000000000000, size: 1G, type: ram}"), ("host.e820",)),
        "e820-near-2^64": (scenario(body_host="e820:\n    - {start: 0x0, size: 0x9fc00, type: ram}\n    - {start: 0xfffffffffffff000, size: 0x1000, type: ram}"), ("host.e820",)),
        "boot-regions-overlap": (scenario(body_host="ram: 2G\n  boot_regions:\n    - {start: 0x100, end: 0x79200}\n    - {start: 0x79000, end: 0x7a000}"), ("boot_regions",)),
        "boot-regions-repeated": (scenario(body_host="ram: 2G\n  boot_regions:\n    - {start: 0x100, end: 0x79200}\n    - {start: 0x100, end: 0x79200}"), ("boot_regions",)),
        "boot-regions-beyond-ram": (scenario(body_host="ram: 2G\n  boot_regions:\n    - {start: 0x100, end: 0x7000000}"), ("boot_regions",)),
        "inventory-repeated": (scenario(body_host="ram: 2G\n  boot_regions:\n    - {start: 0x100, end: 0x79200}\n  heap_inventory:\n    - {mfn: 0x7fc00, order: 8}\n    - {mfn: 0x7fc00, order: 8}"), ("heap_inventory",)),
        "inventory-outside-ram": (scenario(body_host="ram: 2G\n  boot_regions:\n    - {start: 0x100, end: 0x79200}\n  heap_inventory:\n    - {mfn: 0x4000000, order: 8}"), ("heap_inventory",)),
        "inventory-inside-boot-region": (scenario(body_host="ram: 2G\n  boot_regions:\n    - {start: 0x100, end: 0x79200}\n  heap_inventory:\n    - {mfn: 0x1000, order: 4}"), ("heap_inventory",)),
        "kernel-module-beyond-ram": (scenario(xen="dom0_mem: 768M,max:768M\n  kernel_module: {start: 0x7000000, end: 0x7001000}"), ("kernel_module",)),
        "initrd-beyond-ram": (scenario(xen="dom0_mem: 768M,max:768M\n  initrd: {start: 0x7000000, end: 0x7001000}"), ("initrd",)),
        "dom0-mem-max-0": (scenario(xen="dom0_mem: max:0"), ("dom0_mem",)),
        "early-reserved-all": (scenario(guest="type: pv-dom0\n  kernel: v5.11\n  cmdline: \"swiotlb=1024,force\"\n  early_reserved: 767M"), ("early_reserved",)),
        "swiotlb-end-beyond-guest": (scenario(guest="type: pv-dom0\n  kernel: v6.1\n  cmdline: \"swiotlb=1024,force\"\n  swiotlb_end: 0x4000000000"), ("swiotlb_end",)),
        "yaml-broken": ("schema: 1\nhost: [ram: 2G\n", ("not valid YAML",)),
        "unknown-key": (scenario().replace("seed: 1", "sed: 1"), ("workload.sed",)),
        "trace-unknown-unmap": (scenario(streams='- {trace: {device: "nic", file: unknown-unmap.trace}}'), ("unknown-unmap.trace",)),
        "trace-duplicate-map": (scenario(streams='- {trace: {device: "nic", file: duplicate.trace}}'), ("duplicate.trace",)),
        "trace-double-unmap": (scenario(streams='- {trace: {device: "nic", file: double-unmap.trace}}'), ("double-unmap.trace",)),
        "trace-dev-zero": (scenario(streams='- {trace: {device: "nic", file: /dev/zero}}'), ("/dev/zero",)),
        "trace-missing": (scenario(streams='- {trace: {device: "nic", file: no-such.trace}}'), ("no-such.trace",)),
        "fio-huge": (scenario(streams='- {fio: {device: "nic", block_size: 16M, queue_depth: 65536, ops: 100000000}}'), ()),
    }
    write("unknown-unmap.trace", "unmap id=7\n")
    write("duplicate.trace", "map id=1 orig=0x100000 size=4096 dir=to_device\nmap id=1 orig=0x200000 size=4096 dir=to_device\n")
    write("double-unmap.trace", "map id=1 orig=0x100000 size=4096 dir=to_device\nunmap id=1\nunmap id=1\n")
    for name, (text, names) in bad_scenarios.items():
        p = write(name + ".yaml", text)
        expect = "any" if name == "fio-huge" else "refuse"
        add(Case(f"scenario {name}", ["simulate", p], expect=expect, names=(name + ".yaml",) + names, big=name == "fio-huge"))
    add(Case("scenario v6.1 swiotlb=<n>,<areas> is read as areas", ["simulate", write("v61-areas.yaml", scenario(
        guest="type: pv-dom0\n  kernel: v6.1\n  cpus: 2\n  cmdline: \"swiotlb=1024,2,force\""))], expect="ok"))
    add(Case("scenario swiotlb=1024,forse warns", ["simulate", write("forse.yaml", scenario(
        guest="type: pv-dom0\n  kernel: v5.11\n  cmdline: \"swiotlb=1024,forse\""))], expect="ok"))

    # --- traces for replay
    traces = {
        "no-pool": "map id=1 orig=0x1000 size=4096 dir=to_device\n",
        "comment-only": "# nothing here\n\n",
        "four-huge-pools": "".join(f"pool nslabs=33554432 start={hex(0x100000000 * (i + 1))}\n" for i in range(4)),
        "long-token": "pool nslabs=1024 start=0x1000000\nmap id=" + "A" * 100000 + " orig=0x1000 size=4096 dir=to_device\n",
        "bad-hex": "pool nslabs=1024 start=0x1000000\nmap id=1 orig=0xZZ size=4096 dir=to_device\n",
        "size-overflow": "pool nslabs=1024 start=0x1000000\nmap id=1 orig=0x1000 size=99999999999999999999999 dir=to_device\n",
        "pool-overflow": "pool nslabs=1024 start=0xfffffffffffff000\n",
        "unmap-unknown": "pool nslabs=1024 start=0x1000000\nunmap id=9\n",
    }
    for name, text in traces.items():
        p = write(name + ".trace", text)
        add(Case(f"replay {name}", ["swiotlb", "replay", p], names=(name + ".trace",), big=name == "four-huge-pools"))

    # --- dumps for import
    subprocess.run(["xz", "-k", "-f", "-9", write("p2m.txt", " --- Dumping P2M for domain 0 ---\n Guest Width: 8, PT Levels: 4 P2M size: = 4\n" + "".join(f"  pfn=0x{i:x} ==> mfn=0x{0x10 + i:x} (type 0x0)\n" for i in range(4)) + " --- End of P2M for domain 0 ---\n")], check=True)
    with open(os.path.join(d, "p2m.txt.xz"), "rb") as f:
        xz = f.read()
    write("truncated.txt.xz", xz[: len(xz) // 2], "wb")
    write("garbage.gz", b"\x1f\x8b" + os.urandom(4096), "wb")
    write("unknown.txt", "    MFN       GFN\n")
    add(Case("import a truncated .xz", ["import", os.path.join(d, "truncated.txt.xz")], names=("truncated.txt.xz",)))
    add(Case("import gzip magic then garbage", ["import", os.path.join(d, "garbage.gz")], names=("garbage.gz",)))
    add(Case("import an unknown format", ["import", os.path.join(d, "unknown.txt")], names=("unknown.txt",)))
    add(Case("import with a missing --dmesg", ["import", os.path.join(d, "p2m.txt"), "--dmesg", os.path.join(d, "no-dmesg.txt")], names=("no-dmesg.txt",)))
    add(Case("import with a whole-space mapped line", ["import", os.path.join(d, "p2m.txt"), "--dmesg", write("wide.dmesg",
        "[    0.000000] software IO TLB: mapped [mem 0x0000000000000000-0xffffffffffffffff] (16777216MB)\n")], expect="any"))
    add(Case("import two P2M dumps with one --json", ["import", os.path.join(d, "p2m.txt"), os.path.join(d, "p2m.txt"), "--json", out("two.json")],
             expect="any", outputs=(out("two.json"),)))

    # --- capture folders
    empty_dir = os.path.join(d, "empty-capture")
    os.makedirs(empty_dir)
    add(Case("compare-real a missing folder", ["compare-real", "docs/examples/real-xen-default.yaml", os.path.join(d, "no-capture")], names=("no-capture",)))
    add(Case("compare-real an empty folder", ["compare-real", "docs/examples/real-xen-default.yaml", empty_dir], names=("empty-capture",)))

    # --- option values
    for args, names in [
        (["layout", "--ram", "4096T"], ("--ram",)), (["layout", "--ram", "-1G"], ("--ram",)), (["layout", "--ram", "0"], ("--ram",)),
        (["layout", "--ram", "abc"], ("--ram",)), (["layout", "--ram", "99999999999999999999"], ("--ram",)),
        (["layout", "--dom0-mem", "abc"], ("--dom0-mem",)), (["layout", "--dom0-mem", "max:0"], ("--dom0-mem",)),
        (["layout", "--dma-bits", "99"], ("--dma-bits",)), (["layout", "--max-runs", "-1"], ("--max-runs",)),
        (["simulate", "--seed", "-1"], ("--seed",)), (["simulate", "--seed", "18446744073709551616"], ("--seed",)),
        (["swiotlb", "replay", "--kernel", "v9", "-"], ("--kernel",)),
        (["swiotlb", "cmdline", "65536", "--kernel", "nope"], ("--kernel",)),
        (["p2m", "4294967296"], ("domid",)), (["dump", "p2m", "-1"], ("domid",)),
    ]:
        add(Case(" ".join(args), args, names=names))
    add(Case("swiotlb cmdline 99999999999999999999", ["swiotlb", "cmdline", "99999999999999999999"], expect="any"))

    # --- output paths
    victim = write("victim.txt", "do not overwrite\n")
    link = out("link.json")
    os.symlink(victim, link)
    outfifo = out("out.fifo")
    os.mkfifo(outfifo)
    add(Case("--json through a planted symlink", ["simulate", "docs/examples/fragmentation.yaml", "--json", link],
             names=("link.json",), planted=(victim, link)))
    add(Case("--json to a FIFO", ["simulate", "docs/examples/fragmentation.yaml", "--json", outfifo], names=("out.fifo",), planted=(outfifo,)))
    add(Case("--json into a missing folder", ["simulate", "docs/examples/fragmentation.yaml", "--json", os.path.join(d, "no-dir", "r.json")],
             names=("no-dir",)))
    add(Case("--json and --plot the same path", ["simulate", "docs/examples/fragmentation.yaml", "--json", out("same"), "--plot", out("same")],
             names=("same",), outputs=(out("same"),)))
    add(Case("native run with --json --plot --dump-p2m", ["simulate", "docs/examples/rfc-sev-guest.yaml", "--json", out("n.json"),
             "--plot", out("n.svg"), "--dump-p2m", out("n.p2m")], names=("--dump-p2m",), outputs=(out("n.json"), out("n.svg"), out("n.p2m"))))
    add(Case("SIGINT during a run with --json", ["simulate", "--json", out("int.json")], expect="any", outputs=(out("int.json"),),
             interrupt_after=0.1))
    return cases


def snapshot(paths):
    state = {}
    for p in paths:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            state[p] = None
            continue
        content = None
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                content = f.read()
        elif stat.S_ISLNK(st.st_mode):
            content = os.readlink(p)
        state[p] = (stat.S_IFMT(st.st_mode), content)
    return state


def run_case(binary, case, outdir):
    before = set(os.listdir(outdir))
    planted = snapshot(case.planted)
    stdin = open(case.stdin, "rb") if case.stdin else subprocess.DEVNULL
    limit = 60 if case.big else 30
    start = time.monotonic()
    proc = subprocess.Popen([binary] + case.argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))
    problems = []
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stderr.read(1 << 20)), daemon=True)
    reader.start()
    deadline = start + limit
    interrupted = False
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        # Signalled only while unreaped (a zombie at worst), so the pid cannot name another process.
        if case.interrupt_after and not interrupted and time.monotonic() - start >= case.interrupt_after:
            os.kill(proc.pid, signal.SIGINT)
            interrupted = True
        if time.monotonic() > deadline:
            proc.kill()
            _, status, rusage = os.wait4(proc.pid, 0)
            problems.append(f"ran over {limit} s")
            break
        time.sleep(0.02)
    reader.join(5)
    stderr = chunks[0] if chunks else b""
    elapsed = time.monotonic() - start
    if case.stdin:
        stdin.close()
    rc = os.waitstatus_to_exitcode(status)
    text = stderr.decode("utf-8", "replace")
    lines = [l for l in text.splitlines() if l.strip()]
    if (rc < 0 or rc >= 128) and not (interrupted and rc in (-signal.SIGINT, 128 + signal.SIGINT)):
        problems.append(f"exit status {rc} (signal or trap)")
    if "Fatal error" in text:
        problems.append("printed 'Fatal error'")
    if len(stderr) >= 64 << 10:
        problems.append(f"stderr {len(stderr)} bytes")
    if rusage and rusage.ru_maxrss * 1024 > 2 * GIB:
        problems.append(f"resident {rusage.ru_maxrss // 1024} MiB")
    if case.expect == "ok" and rc != 0 and not case.interrupt_after:
        problems.append(f"expected success, exit {rc}: {lines[-1] if lines else ''}")
    if case.expect == "refuse":
        if rc == 0:
            problems.append("accepted (exit 0)")
        elif len(lines) == 0:
            problems.append("refused without a message")
        elif len(lines) > case.lines:
            problems.append(f"{len(lines)} lines on stderr, first: {lines[0][:120]}")
        else:
            missing = [n for n in case.names if n not in lines[-1]]
            if missing:
                problems.append(f"message does not name {missing}: {lines[-1][:160]}")
    if rc != 0:
        after = set(os.listdir(outdir))
        left = sorted(after - before)
        if left:
            problems.append(f"left behind {left}")
        for p in case.outputs:
            if os.path.lexists(p):
                problems.append(f"left output {os.path.basename(p)}")
    if snapshot(case.planted) != planted:
        problems.append("changed a planted file")
    for p in case.outputs:
        if os.path.lexists(p) and not os.path.islink(p):
            os.remove(p)
    return problems, rc, elapsed, lines


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    verbose = "--verbose" in sys.argv
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the runs are reaped here, one by one
    d = tempfile.mkdtemp(prefix="xenpv-hostile-")
    try:
        cases = build_cases(d)
        failed = 0
        for c in cases:
            if only and only not in c.name:
                continue
            problems, rc, secs, lines = run_case(binary, c, os.path.join(d, "out"))
            if problems:
                failed += 1
                print(f"FAIL {c.name}: {'; '.join(problems)}")
            elif verbose:
                print(f"ok   {c.name} (exit {rc}, {secs:.1f}s): {lines[-1][:140] if lines else ''}")
        total = len([c for c in cases if not only or only in c.name])
        print(f"hostile inputs: {total - failed} of {total} handled cleanly")
        return 1 if failed else 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
