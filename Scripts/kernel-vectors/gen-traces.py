#!/usr/bin/env python3
"""Generates swiotlb traces for Linux 6.1 and 6.18 (format v2) and 5.11 (format v1) with expected outputs.

The expected outputs come from kv-replay61 and kv-replay511 (./build): Debian's 6.1.192 and a
5.11 kernel/dma/swiotlb.c, compiled unmodified. Traces are deterministic (SplitMix64, the
generator of Tests/Support/SplitMix64.swift), so a test can regenerate the large ones that are
kept only by digest.

    gen-traces.py [--harness PATH] [--out DIR] [--big] [--harness511 PATH] [--out511 DIR]
                  [--harness618 PATH] [--out618 DIR]

The v6.18 set (Tests/SwiotlbTests/Vectors/v6.18/, made when kv-replay618 exists; the vectors
with --grow-memory by kv-replay618-dynamic beside it) holds the 6.1 cases and 6.18's own
(padding slots, the largest map, the bounded search, dynamic pools, 6.18 walks).
The v5.11 set (Tests/SwiotlbTests/Vectors/v5.11/, made when kv-replay511 exists) holds v1 traces only: the 6.1 cases
without their v2 keys and with a v1 pool, plus v1 walks; the unmaps and syncs of maps that
failed are left out (v1 calls them errors; a failed map changes nothing).

Writes into DIR (default Tests/SwiotlbTests/Vectors/v6.1/), for every vector NAME:
  NAME.trace   the trace
  NAME.out     kv-replay61's stdout (with the options listed in index.txt)
  NAME.msg     its stderr: the kernel's messages (and the hang/BUG notice)
and index.txt: one line per vector, `NAME status=<exit> options=<opts|-> tags=<tags>`.
With --big it also writes the large walks' digests to digests.txt (their traces are not kept),
for 6.1 and for 6.18.

Tags name the behaviour a vector is there for (README.md lists them with the issue's bullets).
"""

import argparse
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MASK64 = (1 << 64) - 1


class SplitMix64:
    """SplitMix64, as in Tests/Support/SplitMix64.swift."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """A value in 0..<n (modulo reduction: deterministic, bias irrelevant here)."""
        return self.next() % n

    def pick(self, items):
        return items[self.below(len(items))]


def pool(nslabs, start, areas=None):
    return f"pool nslabs={nslabs} start={start:#x}" + ("" if areas is None else f" areas={areas}")


def map_line(i, orig, size, dir="to_device", alloc=None, attrs=None, seg_mask=None, min_align=None,
             align=None, cpu=None, dev=None, dma_mask=None):
    s = f"map id={i} orig={orig:#x} size={size}"
    if alloc is not None:
        s += f" alloc={alloc}"
    s += f" dir={dir}"
    if attrs:
        s += f" attrs={attrs}"
    if seg_mask is not None:
        s += f" seg_mask={seg_mask:#x}"
    if dma_mask is not None:
        s += f" dma_mask={dma_mask:#x}"
    if min_align is not None:
        s += f" min_align={min_align:#x}"
    if align is not None:
        s += f" align={align:#x}"
    if cpu is not None:
        s += f" cpu={cpu}"
    if dev is not None:
        s += f" dev={dev}"
    return s


# ---- small hand-made vectors, one behaviour each ----

def setup_cases():
    """Pool set-up: ALIGN(N, 128), areas 0 -> 1 and rounded to a power of two, nslabs raised to
    128 x areas, then to a power of two (even with one area), area_nslabs = nslabs / areas."""
    out = []
    for n, a in [(1, None), (100, None), (128, None), (129, None), (384, None), (1000, None),
                 (1024, None), (256, 0), (256, 1), (256, 2), (256, 3), (384, 2), (128, 4),
                 (3000, 3), (640, 5), (32768, 4), (4096, 8)]:
        lines = [pool(n, 0x1000000, a)]
        # One small map per CPU 0..5 shows which area each CPU starts in.
        for cpu in range(6):
            lines.append(map_line(f"c{cpu}", 0x200000 + cpu * 0x1000, 2048, cpu=cpu))
        # A 128-slot map needs a whole free segment.
        lines.append(map_line("big", 0x400000, 262144, cpu=0))
        name = f"setup-n{n}-a{'none' if a is None else a}"
        out.append((name, ["setup"], "", lines))
    return out


def offset_cases():
    """offset = orig & min_align & 2047: it counts toward the slot count and the >= 4096 page
    stride test; the returned tlb carries it; unmap recomputes it from the tlb address."""
    out = []
    L = [pool(256, 0x1000000)]
    L.append(map_line("a", 0x1234, 100, min_align=0xfff))           # offset 0x234, 1 slot
    L.append(map_line("b", 0x5234, 2048 - 0x234, min_align=0xfff))  # exactly 1 slot with offset
    L.append(map_line("c", 0x5234, 2048 - 0x234 + 1, min_align=0xfff))  # spills into 2 slots
    L.append(map_line("d", 0x7a00, 3900, min_align=0x7ff))          # 3900 + 0x200 >= 4096: page stride
    L.append(map_line("e", 0x9a00, 3900))                           # no min_align: no offset, stride 1
    L += ["unmap id=c", "unmap id=a", "unmap id=d", "unmap id=b", "unmap id=e"]
    out.append(("offset-basic", ["offset"], "", L))

    # Stride from the offset: cursor at an odd slot, then a map that is page-strided only
    # because its offset lifts it over 4096 bytes.
    L = [pool(256, 0x1000000), map_line("one", 0x100000, 2048)]
    L.append(map_line("p", 0x300600, 3700, min_align=0x7ff))
    L.append(map_line("q", 0x300000, 3700, min_align=0x7ff))
    L += ["unmap id=one", "unmap id=p", "unmap id=q"]
    out.append(("offset-page-stride", ["offset", "stride"], "", L))

    # Larger min_align masks: 0x3fff keeps bits 11..13 equal to orig's (absolute addresses).
    for start in (0x1000000, 0x1001000, 0x1003000):
        L = [pool(512, start)]
        for k, orig in enumerate([0x2345, 0x3a10, 0x800, 0x7ff, 0x3fff, 0x123800, 0]):
            L.append(map_line(f"m{k}", orig, 1500 + 700 * k, min_align=0x3fff, dir="bidirectional"))
        L += [f"unmap id=m{k}" for k in (3, 0, 6, 1)]
        out.append((f"offset-minalign-3fff-start{start:#x}", ["offset", "min-align-compare"], "", L))
    return out


def stride3_cases():
    """min_align 0x1fff with align 0xfff: stride 3, and ALIGN(index, 3) = (index + 2) & ~2."""
    out = []
    for start in (0x1000000, 0x1001000):
        for pre in range(6):
            L = [pool(256, start)]
            for k in range(pre):
                L.append(map_line(f"p{k}", 0x100000 + k * 0x800, 2048))
            for k, orig in enumerate([0x20000, 0x21000, 0x20400, 0x21c00]):
                L.append(map_line(f"s{k}", orig, 1000, min_align=0x1fff, align=0xfff))
            L += [f"unmap id=s{k}" for k in range(4)]
            out.append((f"stride3-start{start:#x}-pre{pre}", ["stride3", "min-align-compare"], "", L))
    return out


def align_cases():
    """`align` (alloc_align_mask) strides the slot index within the area, not the address; the
    min_align comparison uses absolute DMA addresses, is skipped for orig 0, and is absent when
    align covers the min_align bits."""
    out = []
    for start in (0x1000000, 0x1001000, 0x1002000):
        for areas in (1, 2):
            L = [pool(512, start, areas)]
            L.append(map_line("x", 0x100000, 2048, cpu=1))
            L.append(map_line("y", 0x100000, 6144, cpu=1))
            L.append(map_line("a1", 0x200000, 2048, align=0x3fff, cpu=1))
            L.append(map_line("a2", 0x200800, 2048, align=0x3fff, min_align=0xfff, cpu=1))  # align covers min_align
            L.append(map_line("a3", 0x201800, 2048, align=0x7ff, min_align=0x1fff, cpu=1))
            L.append(map_line("a4", 0, 3000, min_align=0x1fff, cpu=1))                    # orig 0: no compare
            L.append(map_line("a5", 0x1800, 3000, min_align=0x1fff, cpu=1))
            L.append(map_line("a6", 0x3000, 9000, align=0xffff, cpu=0))
            L += ["unmap id=a3", "unmap id=a1", "unmap id=x"]
            L.append(map_line("a7", 0x205800, 4096, align=0x1fff, min_align=0xfff, cpu=1))
            out.append((f"align-start{start:#x}-areas{areas}", ["align", "min-align-compare"], "", L))
    return out


def area_cases():
    """Per-area cursors (area-relative, searched from wrap(ALIGN(index, stride))), areas tried
    from cpu & (nareas - 1) round the ring, the fast fail (nslots > area_nslabs - used), unmap
    back to the holding area: "full" beside many free slots."""
    out = []
    # cpu > areas picks cpu & (nareas - 1).
    L = [pool(512, 0x1000000, 4)]
    for cpu in (0, 5, 6, 7, 9, 12, 15, 1023):
        L.append(map_line(f"c{cpu}", 0x100000 + cpu * 0x1000, 3000, cpu=cpu))
    out.append(("areas-cpu-choice", ["areas"], "", L))

    # Area 0 filled: a CPU-0 map goes on to area 1 (fast fail), then round the ring.
    L = [pool(512, 0x1000000, 4)]
    L.append(map_line("full0", 0x100000, 262144, cpu=0))
    L.append(map_line("next", 0x200000, 2048, cpu=0))
    L.append(map_line("full3", 0x300000, 262144, cpu=3))
    L.append(map_line("wrap", 0x400000, 2048, cpu=3))
    L += ["unmap id=full0", map_line("back", 0x500000, 2048, cpu=0)]
    out.append(("areas-fast-fail-ring", ["areas"], "", L))

    # Full beside free: one slot in each area blocks any 128-slot map everywhere.
    L = [pool(512, 0x1000000, 4)]
    for a in range(4):
        L.append(map_line(f"pin{a}", 0x100000 + a * 0x1000, 2048, cpu=a))
    L.append(map_line("big", 0x200000, 262144, cpu=2))
    L.append(map_line("mid", 0x200000, 200000, cpu=2))
    L += ["unmap id=pin2", map_line("big2", 0x300000, 262144, cpu=0)]
    out.append(("areas-full-beside-free", ["areas", "full"], "", L))

    # Unmap returns slots to the area that holds them, whatever CPU mapped it.
    L = [pool(1024, 0x1000000, 2)]
    for k in range(6):
        L.append(map_line(f"m{k}", 0x100000 + k * 0x2000, 4096 * (k + 1), cpu=k))
    L += [f"unmap id=m{k}" for k in (5, 0, 3)]
    for k in range(6, 10):
        L.append(map_line(f"m{k}", 0x200000 + k * 0x2000, 8192, cpu=k))
    out.append(("areas-unmap-home", ["areas"], "", L))

    # Cursor near the end of an area: ALIGN(127, 2) = 128 wraps to 0; area-relative indexes.
    for areas in (1, 2, 4):
        L = [pool(512, 0x1000000, areas)]
        per = 512 // areas
        L.append(map_line("fill", 0x100000, (per - 1) * 2048 if per <= 128 else 127 * 2048, cpu=1))
        L.append(map_line("page", 0x200000, 4096, cpu=1))
        L.append(map_line("small", 0x300000, 1024, cpu=1))
        L += ["unmap id=fill", map_line("again", 0x400000, 4096, cpu=1)]
        out.append((f"areas-cursor-wrap-a{areas}", ["areas", "stride"], "", L))
    return out


def size_cases():
    """Sizes up to 256 KiB (and beyond), the invalid-size refusal, alloc larger than size."""
    out = []
    L = [pool(1024, 0x1000000)]
    L.append(map_line("s256k", 0x100000, 262144))
    L.append(map_line("over", 0x200000, 262145))
    L.append(map_line("nvme", 0x300200, 258048, min_align=0xfff))
    L.append(map_line("nvme2", 0x400200, 258048 + 512, min_align=0xfff))
    L.append(map_line("inv", 0x500000, 5000, alloc=4000))
    L.append(map_line("inv2", 0x500000, 6000, alloc=100))
    L.append(map_line("alloc", 0x600000, 100, alloc=8192))
    L.append(map_line("one", 0x700000, 1))
    L += ["unmap id=s256k", "unmap id=inv", "unmap id=alloc", map_line("s256k", 0x100000, 262144)]
    out.append(("sizes-limits", ["sizes", "full", "skip"], "", L))
    return out


def seg_cases():
    """Segment boundaries: tbl_dma_addr = start & mask shifts where boundaries fall."""
    out = []
    for start in (0x1000000, 0x1003000):
        for mask in (0xffff, 0x1ffff, 0xfff, 0x7ff):
            L = [pool(512, start)]
            for k, size in enumerate([20000, 40000, 60000, 6000, 70000, 2048]):
                L.append(map_line(f"g{k}", 0x100000 + k * 0x10000, size, seg_mask=mask))
            L += ["unmap id=g1", map_line("h", 0x900000, 30000, seg_mask=mask, min_align=0xfff)]
            out.append((f"seg-{mask:#x}-start{start:#x}", ["seg"], "", L))
    return out


def copy_cases():
    """The map always copies `size` bytes (any direction); unmap and sync copy per direction."""
    L = [pool(256, 0x1000000)]
    for k, d in enumerate(["to_device", "from_device", "bidirectional", "none"]):
        L.append(map_line(f"d{k}", 0x100000 + k * 0x10000, 3000 + k, dir=d))
    L.append(map_line("skip", 0x200000, 5000, dir="from_device", attrs="skip_cpu_sync"))
    L.append(map_line("off", 0x300300, 3000, dir="from_device", min_align=0xfff))
    L += ["sync id=d0 target=device", "sync id=d0 target=cpu", "sync id=d1 target=cpu",
          "sync id=d2 target=device", "sync id=d2 target=cpu", "sync id=off target=cpu"]
    L += [f"unmap id=d{k}" for k in range(4)] + ["unmap id=skip", "unmap id=off"]
    return [("copy-directions", ["copy"], "--count-bytes", L)]


def hang_cases():
    """6.1.192's search loop can step past its wrap point and never end."""
    out = []
    out.append(("hang-minimal", ["hang"], "", [
        pool(128, 0x1000000),
        map_line("a", 0x100000, 4096),
        map_line("b", 0x200800, 258048, min_align=0xfff)]))
    out.append(("hang-area1-cpu5", ["hang", "areas"], "", [
        pool(256, 0x1000000, 2),
        map_line("z", 0x180000, 2048, cpu=0),
        map_line("a", 0x100000, 4096, cpu=5),
        map_line("b", 0x200800, 258048, min_align=0xfff, cpu=5)]))
    # The same request with a cursor that keeps it on aligned ground ends (found or full).
    out.append(("hang-near-miss", ["hang", "min-align-compare"], "", [
        pool(128, 0x1000000),
        map_line("a", 0x100000, 8192),
        map_line("b", 0x200800, 258048, min_align=0xfff),
        map_line("c", 0x200800, 245760, min_align=0xfff)]))
    return out


# ---- random walks ----

PROFILES = {
    # name: (min_align, align, seg_mask, size chooser, orig chooser, dirs)
    "nvme": dict(min_align=0xfff, seg=0xffffffff,
                 size=lambda r: 512 * (1 + r.below(8)) if r.below(3) == 0 else 4096 * (1 + r.below(32)) if r.below(6) else 258048 if r.below(2) else 131072,
                 orig=lambda r: (r.below(1 << 20) << 12) | (512 * r.below(8)),
                 dirs=("to_device", "from_device")),
    "net": dict(size=lambda r: 64 + r.below(1451) if r.below(4) else 9000,
                orig=lambda r: 0x10000000 + r.below(1 << 28),
                dirs=("to_device", "from_device")),
    "xhci": dict(seg=0xffff, size=lambda r: 1 + r.below(65536),
                 orig=lambda r: 0x20000000 + r.below(1 << 24) * 8,
                 dirs=("to_device", "from_device", "bidirectional")),
    "ahci": dict(seg=0xffffffff, size=lambda r: 512 * (1 + r.below(512)),
                 orig=lambda r: (r.below(1 << 20) << 12),
                 dirs=("to_device", "from_device")),
    "odd": dict(min_align=0x1fff, align=0xfff, size=lambda r: 256 + r.below(3800),
                orig=lambda r: r.below(1 << 30),
                dirs=("bidirectional", "to_device")),
    "page": dict(align=0x3fff, size=lambda r: 4096 * (1 + r.below(16)),
                 orig=lambda r: r.below(1 << 30),
                 dirs=("to_device", "none")),
    "pad": dict(min_align=0x3fff, align=0x3fff, size=lambda r: 1 + r.below(60000),
                orig=lambda r: r.below(1 << 32),
                dirs=("bidirectional", "to_device", "from_device")),
    "small-ma": dict(min_align=0x7ff, size=lambda r: 1 + r.below(6000),
                     orig=lambda r: r.below(1 << 32),
                     dirs=("from_device", "bidirectional")),
}


V2_KEYS = ("areas", "min_align", "align", "cpu", "dev", "kernel_tlb")


def v1_lines(lines):
    """The trace without v2-only keys."""
    out = []
    for line in lines:
        body, hash_, comment = line.partition("#")
        kept = [t for t in body.split() if t.split("=", 1)[0] not in V2_KEYS]
        out.append(" ".join(kept) + ((" " + hash_ + comment) if hash_ else ""))
    return out


def v1_pool_ok(lines):
    """Whether the pool line is one format v1 accepts (nslabs 1 or a multiple of 128)."""
    for line in lines:
        if line.startswith("pool "):
            n = int(line.split("nslabs=")[1].split()[0])
            return n == 1 or n % 128 == 0
    return False


def walk(seed, nslabs, start, areas, ops, profiles, cpus, live_frac, syncs=True):
    """A random walk: maps of the given device profiles on random CPUs, unmaps of random live
    ids (their map may have failed: the replay then prints skipped=map-failed), some syncs."""
    r = SplitMix64(seed)
    lines = [pool(nslabs, start, areas)]
    live = []  # ids mapped by the trace and not yet unmapped, with their direction
    target = max(4, int(nslabs * live_frac / 8))
    n = 0
    while len(lines) - 1 < ops:
        want_map = not live or (r.below(len(live) + target) < target)
        if want_map:
            name = r.pick(profiles)
            p = PROFILES[name]
            d = r.pick(p["dirs"])
            size = p["size"](r)
            i = f"m{n}"
            n += 1
            attrs = None
            k = r.below(16)
            if k == 0:
                attrs = "no_warn"
            elif k == 1:
                attrs = "skip_cpu_sync"
            lines.append(map_line(i, p["orig"](r), size, dir=d, attrs=attrs, seg_mask=p.get("seg"),
                                  min_align=p.get("min_align"), align=p.get("align"),
                                  cpu=r.below(cpus), dev=name))
            live.append((i, d))
        elif syncs and r.below(8) == 0:
            i, d = r.pick(live)
            if d != "none":
                lines.append(f"sync id={i} target={r.pick(('cpu', 'device'))}")
        else:
            i, _ = live.pop(r.below(len(live)))
            lines.append(f"unmap id={i}")
    return lines


def drop_ids(lines, ids):
    """The trace without every line that names one of `ids`."""
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) > 1 and parts[1].startswith("id=") and parts[1][3:] in ids:
            continue
        out.append(line)
    return out


def without_failed_maps(harness, lines, scratch):
    """The trace without the unmaps and syncs of maps that fail (a failed map changes nothing,
    so every other line keeps its result)."""
    with open(scratch, "w") as f:
        f.write("\n".join(lines) + "\n")
    status, out, err = run(harness, scratch, [])
    if status != 0:
        sys.exit(f"gen-traces: {scratch}: kv-replay511 exited {status}: {err.decode()[-300:]}")
    failed = set()
    results = iter(l for l in out.decode().splitlines() if l.startswith(("map ", "unmap ")))
    kept = []
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "map":
            i = parts[1][3:]
            if "error=" in next(results):
                failed.add(i)
            else:
                failed.discard(i)
        elif parts and parts[0] in ("unmap", "sync") and parts[1][3:] in failed:
            if parts[0] == "unmap":
                next(results)  # its skipped=map-failed line
                failed.discard(parts[1][3:])
            continue
        elif parts and parts[0] == "unmap":
            next(results)
        kept.append(line)
    return kept


def run(harness, trace_path, options):
    """kv-replay61's (status, stdout, stderr) on a trace file, run from its folder."""
    folder, name = os.path.split(trace_path)
    p = subprocess.run([harness] + options + [name], cwd=folder, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def hang_free(harness, lines, scratch):
    """The walk with every map that would hang removed (with the later lines of its id): a hung
    search changes nothing, so the other lines' results stay as they were."""
    with open(scratch, "w") as f:
        f.write("\n".join(lines) + "\n")
    status, out, _ = run(harness, scratch, ["--continue-after-hang"])
    if status != 0:
        sys.exit(f"gen-traces: {scratch}: kv-replay61 exited {status}")
    hung = {l.split()[1][3:] for l in out.decode().splitlines() if l.startswith("map ") and " hang " in l}
    return drop_ids(lines, hung), len(hung)


WALKS = [
    # name, seed, nslabs, start, areas, ops, profiles, cpus, live fraction, keep hangs
    ("walk-a1-mixed", 1, 1024, 0xbbfdb000, None, 2000, ["net", "xhci", "ahci", "page"], 4, 0.6, False),
    ("walk-a2-nvme", 2, 2048, 0x1000000, 2, 2000, ["nvme"], 8, 0.7, False),
    ("walk-a4-mixed", 3, 1024, 0x3fe01000, 4, 2000, ["nvme", "net", "xhci", "odd", "small-ma"], 16, 0.8, False),
    ("walk-a3-tight", 4, 256, 0x1000000, 3, 2000, ["net", "small-ma", "odd", "page"], 6, 1.2, False),
    ("walk-a2-tight-nvme", 5, 512, 0x7f000000, 2, 2000, ["nvme", "net"], 4, 1.0, False),
    ("walk-a1-nvme-hang", 6, 1024, 0x1000000, None, 2000, ["nvme"], 1, 0.8, True),
    # Added later (issue 20's last part): many CPUs over 4 areas with
    # every mask mix; full areas beside free ones (large maps, a pool start with bits inside
    # the segment masks); tight areas with align and min_align mixed.
    ("walk-a4-cpus64-masks", 7, 2048, 0x1000000, 4, 2000, ["nvme", "xhci", "odd", "page", "small-ma"], 64, 0.9, False),
    ("walk-a2-full-areas", 8, 512, 0x3fe03000, 2, 2000, ["ahci", "net", "page", "xhci"], 3, 1.5, False),
    ("walk-a4-tight-align", 9, 512, 0x1000000, 4, 2000, ["odd", "small-ma", "page", "xhci"], 32, 1.3, False),
]

BIG_WALKS = [
    ("walk-1m-a2", 1000001, 32768, 0x1000000, 2, 1000000, ["nvme", "net", "xhci", "ahci", "odd", "small-ma", "page"], 8, 0.7),
    ("walk-200k-a4-tight", 1000002, 2048, 0x1000000, 4, 200000, ["nvme", "net", "odd", "small-ma"], 16, 1.0),
]

# 6.18: the 6.1 big walks whole (no map hangs), and one with dynamic pools.
BIG_WALKS_618 = [w + ("",) for w in BIG_WALKS] + [
    ("walk-200k-a4-grow", 1000003, 512, 0x1000000, 4, 200000, ["nvme", "net", "pad", "xhci"], 16, 2.5,
     "--grow-memory,0x40000000-0x44000000"),
]

V511_WALKS = [
    ("walk-v1-mixed", 11, 1024, 0xbbfdb000, 2000, ["net", "xhci", "ahci", "page"], 0.7),
    ("walk-v1-tight", 12, 256, 0x1000000, 2000, ["net", "xhci", "ahci"], 1.2),
]


# ---- Linux 6.18 (kv-replay618, kv-replay618-dynamic) ----

def padding_cases():
    """6.18's padding slots: offset = orig & min_align & (align | 2047); its whole slots come
    before the mapping, the returned tlb is past them, unmap and sync find them again."""
    out = []
    for start in (0x1000000, 0x1003000, 0x1000800 + 0x800):
        L = [pool(512, start)]
        k = 0
        for ma, al, orig, size in [(0xffff, 0xffff, 0x3a00, 3000), (0x3fff, 0x3fff, 0x2345, 100),
                                   (0xffff, 0x7fff, 0x12e00, 9000), (0x1fff, 0xfff, 0x1fff, 1),
                                   (0xfff, 0x1fff, 0xa80, 4000), (0xffff, 0x0, 0x3a00, 3000),
                                   (0x7ff, 0xffff, 0x7ff, 2048), (0x3fff, 0x3fff, 0, 5000),
                                   (0xffff, 0xffff, 0xffff, 65536), (0x7fff, 0x7fff, 0x4000, 20000)]:
            L.append(map_line(f"p{k}", orig, size, dir="bidirectional", min_align=ma, align=al, cpu=k))
            k += 1
        L += ["sync id=p0 target=device", "sync id=p2 target=cpu", "unmap id=p0", "unmap id=p4", "unmap id=p2"]
        L.append(map_line("again", 0x3a00, 3000, dir="from_device", min_align=0xffff, align=0xffff))
        L += ["unmap id=p8", "unmap id=again", "unmap id=p1"]
        out.append((f"padding-start{start:#x}", ["padding", "align"], "--count-bytes", L))
    # Padding in areas: the padded map's slots are counted in the area that holds them.
    L = [pool(1024, 0x1000000, 4)]
    for k in range(8):
        L.append(map_line(f"q{k}", 0x10000 * k + 0x2c00 + 0x800 * k, 5000 + 1000 * k, min_align=0x3fff, align=0x3fff, cpu=k))
    L += [f"unmap id=q{k}" for k in (1, 6, 3)]
    out.append(("padding-areas", ["padding", "areas"], "", L))
    return out


def max_size_cases():
    """The largest map: 256 KiB - roundup(min_align_mask, 2048) fits, one byte more does not;
    alloc= chooses nothing (6.18 has no alloc_size, so no invalid-size)."""
    out = []
    for ma in (0, 0x7ff, 0xfff, 0x1fff, 0x3fff):
        L = [pool(512, 0x1000000)]
        m = 262144 - ((ma + 2047) // 2048 * 2048 if ma else 0)
        L.append(map_line("max", 0x200000 + (ma & 0x5ff), m, min_align=ma or None))
        L.append(map_line("over", 0x400000 + (ma & 0x5ff), m + 1, min_align=ma or None))
        L.append(map_line("maxhi", 0x600000 + ma, m, min_align=ma or None))
        L.append(map_line("s256k", 0x800000, 262144))
        L.append(map_line("s256k1", 0x800000, 262145))
        out.append((f"maxsize-ma{ma:#x}", ["sizes", "full"], "", L))
    L = [pool(256, 0x1000000)]
    L.append(map_line("inv", 0x500000, 5000, alloc=4000))
    L.append(map_line("inv2", 0x500000, 6000, alloc=100))
    L.append(map_line("alloc", 0x600000, 100, alloc=8192))
    L += ["unmap id=inv", "sync id=inv2 target=device", "unmap id=inv2", "unmap id=alloc"]
    out.append(("sizes-alloc-ignored", ["sizes"], "", L))

    # Extreme masks (the kernel's unsigned int), a zero-size map whose offset gives it a slot,
    # and a pool above 4 GiB where only the low 32 bits of the masks count.
    for start in (0x1000000, 0x1fffe0000):
        L = [pool(512, start, 2)]
        L.append(map_line("z", 0x1200, 0, min_align=0xfff))
        L.append(map_line("ma", 0x1200, 100, min_align=0xffffffff))
        L.append(map_line("ma2", start + 0x1a00, 3000, min_align=0xffffffff, cpu=1))
        L.append(map_line("al", 0x1200, 100, align=0x80000000))
        L.append(map_line("both", 0x12345678, 3000, min_align=0xffffffff, align=0xffff))
        L.append(map_line("hi", 0x3_0000_2a00, 9000, min_align=0x3fff, align=0x1fff, cpu=1))
        L.append(map_line("hi2", 0x3_0000_6a00, 9000, min_align=0xffff, cpu=1))
        L.append(map_line("big", 0x40000, 200000, align=0xffff))
        L += ["unmap id=z", "unmap id=hi", "unmap id=ma2", "unmap id=big"]
        out.append((f"masks-extreme-start{start:#x}", ["sizes", "padding", "min-align-compare"], "", L))
    return out


def bounded_search_cases():
    """The 6.1 hang cases end in 6.18 (the search stops after area_nslabs checked slots), and
    searches that start at the unaligned cursor and test the address."""
    out = []
    for start in (0x1000000, 0x1000800 + 0x800):
        L = [pool(128, start)]
        for cur in range(5):
            L.append(map_line(f"c{cur}", 0x100000, 2048 * (cur + 1)))
            L.append(map_line(f"b{cur}", 0x200800, 258048, min_align=0xfff))
            L.append(map_line(f"d{cur}", 0x200800 + 0x800 * cur, 4096 * (cur + 1), min_align=0xfff))
            L += [f"unmap id=c{cur}", f"unmap id=b{cur}", f"unmap id=d{cur}"]
        out.append((f"bounded-search-start{start:#x}", ["hang", "stride"], "", L))
    return out


def grow_cases():
    """CONFIG_SWIOTLB_DYNAMIC: transient pools on a miss (under the device's dma_mask), the
    worker's pools (at most 2048 slots, halved to 512 while none fits under the limit), pools
    searched newest first, a transient pool freed whole at unmap."""
    out = []
    mem = "--grow-memory,0x40000000-0x41000000"
    L = [pool(128, 0x1000000)]
    L.append(map_line("a", 0x100000, 200000, dev="nvme"))
    L.append(map_line("b", 0x200000, 200000, dev="nvme"))      # transient, then a worker pool
    L.append(map_line("c", 0x300000, 100000, dev="net", dma_mask=0xffffffff))
    L.append(map_line("d", 0x400000, 150000, dev="net"))
    L.append(map_line("e", 0x500000, 262144, dev="nvme"))
    L.append(map_line("f", 0x600000, 262145, dev="nvme"))      # above 256 KiB: nothing looked for
    L += ["unmap id=b", "sync id=c target=cpu", "unmap id=a", "unmap id=e"]
    L.append(map_line("g", 0x700000, 250000, dev="nvme", min_align=0xfff))
    L += ["unmap id=c", "unmap id=d", "unmap id=g"]
    out.append(("grow-basic", ["grow"], mem, L))

    # Worker pools for a pool with areas: default_nareas areas each (limit_nareas), 2048 slots.
    L = [pool(4096, 0x1000000, 4)]
    for k in range(40):
        L.append(map_line(f"m{k}", 0x100000 * k, 131072 + 2048 * (k % 7), cpu=k % 8, dev=f"d{k % 3}"))
    L += [f"unmap id=m{k}" for k in range(0, 40, 3)]
    for k in range(40, 60):
        L.append(map_line(f"m{k}", 0x100000 * k + 0x600, 60000, cpu=k % 8, min_align=0xfff, dev="d1"))
    out.append(("grow-areas", ["grow", "areas"], mem, L))

    # The worker's pools above the limit: halved to 512 slots, then "Failed to allocate new pool";
    # transient pools under the device's mask only.
    for limit in ("0x40100000", "0x401fffff", "0x3fffffff"):
        L = [pool(256, 0x1000000)]
        for k in range(12):
            L.append(map_line(f"t{k}", 0x100000 * k, 200000, dev="nvme" if k % 2 else "old",
                              dma_mask=0xffffffff if k % 2 else 0x40080000))
        L += ["unmap id=t3", "unmap id=t4", "unmap id=t1"]
        for k in range(12, 16):
            L.append(map_line(f"t{k}", 0x100000 * k, 90000, dev="nvme"))
        out.append((f"grow-limit-{limit}", ["grow"], f"{mem},--grow-limit,{limit}", L))

    # Little memory: transient pools fail when no block is left.
    L = [pool(128, 0x1000000)]
    for k in range(10):
        L.append(map_line(f"s{k}", 0x100000 * k, 100000 + 10000 * k, dev="nvme", attrs="no_warn" if k == 7 else None))
    L += ["unmap id=s2", "unmap id=s5"]
    L += [map_line(f"s{k}", 0x100000 * k, 60000, dev="nvme") for k in range(10, 13)]
    out.append(("grow-small-memory", ["grow", "full"], "--grow-memory,0x40000000-0x40300000", L))

    # Transient pools hold exactly the request's slots: a min_align offset or an alignment the
    # block's start cannot give fails inside them (the pool is freed again); segment masks and
    # padding slots there; syncs and unmaps of transient and grown mappings.
    for start, mem_range in [(0x1000000, "0x40000000-0x41000000"), (0x1000000, "0x40001000-0x40801000")]:
        L = [pool(128, start, 4)]
        L.append(map_line("fill", 0x100000, 250000, dev="a"))
        L.append(map_line("fill2", 0x100000, 250000, dev="a", cpu=1))
        L.append(map_line("fill3", 0x100000, 250000, dev="a", cpu=2))
        L.append(map_line("fill4", 0x100000, 250000, dev="a", cpu=3))
        L.append(map_line("odd", 0x200a00, 200000, dev="nvme", min_align=0xfff, dir="bidirectional"))
        L.append(map_line("even", 0x200200, 200000, dev="nvme", min_align=0xfff, dir="bidirectional"))
        L.append(map_line("al", 0x300000, 100000, dev="b", align=0xffff, dir="from_device"))
        L.append(map_line("pad", 0x43a00, 70000, dev="b", min_align=0xffff, align=0xffff, dir="bidirectional"))
        L.append(map_line("seg", 0x500000, 90000, dev="c", seg_mask=0xffff))
        L.append(map_line("seg2", 0x500000, 30000, dev="c", seg_mask=0xffff, cpu=2))
        L += ["sync id=even target=cpu", "sync id=pad target=device", "sync id=al target=cpu"]
        L += ["unmap id=even", "unmap id=pad", "unmap id=fill2", "unmap id=al"]
        for k in range(6):
            L.append(map_line(f"n{k}", 0x600000 + 0x1000 * k, 40000 * (k + 1), dev="nvme", min_align=0xfff, cpu=k))
        L += ["unmap id=n2", "unmap id=seg", "unmap id=n0", "unmap id=odd"]
        out.append((f"grow-transient-{mem_range.split('-')[0]}", ["grow", "padding", "seg"], "--count-bytes,--grow-memory," + mem_range, L))

    # Memory above 4 GiB: the worker's pools (under 0xffffffff) always fail, transient pools
    # under an all-ones dma_mask do not, those of a 32-bit device do.
    L = [pool(128, 0x1000000)]
    for k in range(8):
        L.append(map_line(f"u{k}", 0x100000 * k, 150000, dev="d64" if k % 3 else "d32",
                          dma_mask=None if k % 3 else 0xffffffff))
    L += ["unmap id=u1", "unmap id=u2"]
    out.append(("grow-above-4g", ["grow", "full"], "--grow-memory,0x100000000-0x100800000", L))

    # A default pool of several areas: the worker's pools get default_nareas areas, limited to
    # one per 128 slots; a large default_nslabs is cut to 2048.
    for n, a in [(128, 4), (8192, 8), (256, 32)]:
        L = [pool(n, 0x1000000, a)]
        for k in range(3 * a + 8):
            L.append(map_line(f"w{k}", 0x100000 * k, 2048 * (40 + k % 90), cpu=k, dev="d"))
        L += [f"unmap id=w{k}" for k in range(1, 3 * a + 8, 4)]
        for k in range(3 * a + 8, 3 * a + 20):
            L.append(map_line(f"w{k}", 0x100000 * k, 30000, cpu=k, dev="d"))
        out.append((f"grow-worker-n{n}-a{a}", ["grow", "areas", "setup"], "--grow-memory,0x40000000-0x44000000", L))
    return out


WALKS_618 = [
    # name, seed, nslabs, start, areas, ops, profiles, cpus, live fraction, options
    ("walk618-a2-nvme", 21, 2048, 0x1000000, 2, 2000, ["nvme"], 8, 0.7, ""),
    ("walk618-a1-nvme", 22, 1024, 0x1000000, None, 2000, ["nvme"], 1, 0.8, ""),
    ("walk618-a4-mixed", 23, 1024, 0x3fe01000, 4, 2000, ["nvme", "net", "xhci", "odd", "small-ma"], 16, 0.8, ""),
    ("walk618-a4-pad", 24, 1024, 0x1000000, 4, 2000, ["pad", "odd", "page", "small-ma"], 16, 1.0, ""),
    ("walk618-a2-tight", 25, 512, 0x7f000000, 2, 2000, ["nvme", "net", "pad"], 4, 1.2, ""),
    ("walk618-a2-above4g", 28, 1024, 0x1fff00000, 2, 2000, ["nvme", "pad", "odd", "xhci"], 4, 1.0, ""),
    ("walk618-grow-a1", 26, 256, 0x1000000, None, 2000, ["nvme", "net", "ahci"], 2, 1.5,
     "--grow-memory,0x40000000-0x48000000"),
    ("walk618-grow-a4-limit", 27, 512, 0x1000000, 4, 2000, ["nvme", "pad", "xhci", "odd"], 8, 2.0,
     "--grow-memory,0x40000000-0x40800000,--grow-limit,0x405fffff"),
]


def v618_vectors(v61_vectors):
    """The 6.1 set's hand-made cases and walks (its hang vectors whole: 6.18 does not hang), then 6.18's
    own: padding, the largest map, the bounded search, dynamic growth, 6.18 walks."""
    out = [(n, t, o, [l for l in lines if not l.startswith("# ")]) for n, t, o, lines in v61_vectors]
    out += padding_cases() + max_size_cases() + bounded_search_cases() + grow_cases()
    for name, seed, nslabs, start, areas, ops, profiles, cpus, live, options in WALKS_618:
        tags = ["walk"] + (["grow"] if options else [])
        out.append((name, tags, options, walk(seed, nslabs, start, areas, ops, profiles, cpus, live)))
    return out


def write_vectors(harness, out_dir, vectors, harness_dynamic=None):
    """Each vector's trace, stdout and stderr, and index.txt."""
    index = []
    for name, tags, options, lines in vectors:
        trace = os.path.join(out_dir, name + ".trace")
        with open(trace, "w") as f:
            f.write(f"# {name}: generated by Scripts/kernel-vectors/gen-traces.py ({', '.join(tags)})\n")
            f.write("\n".join(lines) + "\n")
        # Options are comma-separated in index.txt (one field); the dynamic 6.18 harness runs
        # the vectors that give it memory to grow into.
        h = harness_dynamic if harness_dynamic and "--grow-memory" in options else harness
        status, out, err = run(h, trace, [o for o in options.split(",") if o])
        if status not in (0, 3):
            sys.exit(f"gen-traces: {name}: {os.path.basename(harness)} exited {status}: {err.decode()[-300:]}")
        with open(os.path.join(out_dir, name + ".out"), "wb") as f:
            f.write(out)
        with open(os.path.join(out_dir, name + ".msg"), "wb") as f:
            f.write(err)
        index.append(f"{name} status={status} options={options or '-'} tags={','.join(tags)}")
    with open(os.path.join(out_dir, "index.txt"), "w") as f:
        f.write("\n".join(index) + "\n")
    return index


def v511_vectors(harness, vectors61, scratch):
    """The v5.11 set: the 6.1 hand-made cases in format v1, and v1 walks."""
    out = []
    for name, tags, options, lines in vectors61:
        if "walk" in tags or not v1_pool_ok(lines) or not {"setup", "offset", "areas", "sizes", "seg", "copy", "hang"} & set(tags):
            continue
        lines = without_failed_maps(harness, v1_lines(lines), scratch)
        v1tags = [t for t in tags if t in ("setup", "sizes", "seg", "copy", "full", "stride")] or ["v1"]
        out.append((name, v1tags, options, lines))
    for name, seed, nslabs, start, ops, profiles, live in V511_WALKS:
        lines = v1_lines(walk(seed, nslabs, start, None, ops, profiles, 1, live))
        out.append((name, ["walk"], "", without_failed_maps(harness, lines, scratch)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--harness", default=os.path.join(HERE, "..", "..", ".build", "kernel-vectors", "kv-replay61"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "Tests", "SwiotlbTests", "Vectors", "v6.1"))
    ap.add_argument("--big", action="store_true", help="also write digests of the large walks")
    ap.add_argument("--harness511", default=os.path.join(HERE, "..", "..", ".build", "kernel-vectors", "kv-replay511"))
    ap.add_argument("--out511", default=os.path.join(HERE, "..", "..", "Tests", "SwiotlbTests", "Vectors", "v5.11"))
    ap.add_argument("--harness618", default=os.path.join(HERE, "..", "..", ".build", "kernel-vectors", "kv-replay618"),
                    help="kv-replay618 (kv-replay618-dynamic beside it runs the vectors with --grow-memory)")
    ap.add_argument("--out618", default=os.path.join(HERE, "..", "..", "Tests", "SwiotlbTests", "Vectors", "v6.18"))
    args = ap.parse_args()
    harness = os.path.abspath(args.harness)
    if not os.access(harness, os.X_OK):
        sys.exit(f"gen-traces: no harness at {harness}: run Scripts/kernel-vectors/build first")
    os.makedirs(args.out, exist_ok=True)

    vectors = (setup_cases() + offset_cases() + stride3_cases() + align_cases() + area_cases()
               + size_cases() + seg_cases() + copy_cases() + hang_cases())
    scratch = os.path.join(args.out, ".scratch.trace")
    for name, seed, nslabs, start, areas, ops, profiles, cpus, live, keep in WALKS:
        lines = walk(seed, nslabs, start, areas, ops, profiles, cpus, live)
        tags = ["walk"]
        if keep:
            tags.append("hang")
        else:
            lines, dropped = hang_free(harness, lines, scratch)
            lines.insert(0, f"# {dropped} maps that would hang in 6.1.192 were left out")
        vectors.append((name, tags, "", lines))

    index = write_vectors(harness, args.out, vectors)
    harness511 = os.path.abspath(args.harness511)
    if os.access(harness511, os.X_OK):
        os.makedirs(args.out511, exist_ok=True)
        scratch511 = os.path.join(args.out511, ".scratch.trace")
        n511 = len(write_vectors(harness511, args.out511, v511_vectors(harness511, vectors, scratch511)))
        os.remove(scratch511)
        print(f"gen-traces: {n511} v5.11 vectors in {args.out511}")
    else:
        print(f"gen-traces: no {harness511}: no v5.11 vectors")

    harness618 = os.path.abspath(args.harness618)
    if os.access(harness618, os.X_OK):
        os.makedirs(args.out618, exist_ok=True)
        v61 = [v for v in vectors if v[0] in {l.split()[0] for l in index}]
        n618 = len(write_vectors(harness618, args.out618, v618_vectors(v61), harness618 + "-dynamic"))
        print(f"gen-traces: {n618} v6.18 vectors in {args.out618}")
    else:
        print(f"gen-traces: no {harness618}: no v6.18 vectors")

    if args.big:
        digests = []
        for name, seed, nslabs, start, areas, ops, profiles, cpus, live in BIG_WALKS:
            lines = walk(seed, nslabs, start, areas, ops, profiles, cpus, live)
            lines, dropped = hang_free(harness, lines, scratch)
            text = "\n".join(lines) + "\n"
            with open(scratch, "w") as f:
                f.write(text)
            status, out, _ = run(harness, scratch, [])
            digests.append(f"{name} seed={seed} ops={ops} dropped-hangs={dropped} lines={len(lines)} status={status} "
                           f"trace-sha256={hashlib.sha256(text.encode()).hexdigest()} "
                           f"out-sha256={hashlib.sha256(out).hexdigest()} "
                           f"tail={out.decode().splitlines()[-1] if out else ''}")
        with open(os.path.join(args.out, "digests.txt"), "w") as f:
            f.write("\n".join(digests) + "\n")
        if os.access(harness618, os.X_OK):
            digests = []
            for name, seed, nslabs, start, areas, ops, profiles, cpus, live, options in BIG_WALKS_618:
                text = "\n".join(walk(seed, nslabs, start, areas, ops, profiles, cpus, live)) + "\n"
                with open(scratch, "w") as f:
                    f.write(text)
                h = harness618 + "-dynamic" if options else harness618
                status, out, _ = run(h, scratch, [o for o in options.split(",") if o])
                digests.append(f"{name} seed={seed} ops={ops} options={options or '-'} status={status} "
                               f"trace-sha256={hashlib.sha256(text.encode()).hexdigest()} "
                               f"out-sha256={hashlib.sha256(out).hexdigest()} "
                               f"tail={out.decode().splitlines()[-1] if out else ''}")
            with open(os.path.join(args.out618, "digests.txt"), "w") as f:
                f.write("\n".join(digests) + "\n")
    if os.path.exists(scratch):
        os.remove(scratch)
    print(f"gen-traces: {len(index)} vectors in {args.out}")


if __name__ == "__main__":
    main()
