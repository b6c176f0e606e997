#!/usr/bin/env python3
"""Runs `xenpv swiotlb replay --kernel <K>` on the vectors of kernel K and reports differences.

    check-xenpv.py [--kernel v6.1|v5.11|v6.18] [--xenpv PATH] [--vectors DIR] [--v1-subset] [--verbose]

With --v1-subset the v2-only keys (areas= min_align= align= cpu= dev= kernel_tlb=) are
removed first, for a xenpv whose parser refuses them (the vector then asks something else of
the model, so a difference there is expected; the report says which vectors lost keys).
For every vector it compares, in order: the op lines (map/unmap/sync results), the final used
count, the area lines, the checksum and the exit status, then the kernel's warnings (the .msg
lines `warn: <dev>: <text>` and 6.18's `WARNING: <dev>: <text>` against xenpv's stderr with --all-messages, device names and the
hang line dropped); it prints one line
per vector and a summary per tag (index.txt).
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
V2_KEYS = ("areas", "min_align", "align", "cpu", "dev", "kernel_tlb")


def strip_v2(text):
    """The trace without v2-only keys; whether any was there."""
    out, lost = [], False
    for line in text.splitlines():
        body, hash_, comment = line.partition("#")
        kept = []
        for tok in body.split():
            if tok.split("=", 1)[0] in V2_KEYS:
                lost = True
            else:
                kept.append(tok)
        out.append(" ".join(kept) + (("  " + hash_ + comment) if hash_ else ""))
    return "\n".join(out) + "\n", lost


def split_output(lines):
    """(op lines, final lines) of a replay's stdout."""
    ops = [l for l in lines if l.split(" ", 1)[0] in ("map", "unmap", "sync")]
    rest = [l for l in lines if l not in ops]
    return ops, rest


def compare(expected, got):
    """The first difference between two outputs as (what, line, expected, got), or None."""
    e_ops, e_rest = split_output(expected)
    g_ops, g_rest = split_output(got)
    for k, (e, g) in enumerate(zip(e_ops, g_ops)):
        if e != g:
            return ("op", k + 1, e, g)
    if len(e_ops) != len(g_ops):
        k = min(len(e_ops), len(g_ops))
        return ("op-count", k + 1, e_ops[k] if k < len(e_ops) else "(end)", g_ops[k] if k < len(g_ops) else "(end)")
    if e_rest != g_rest:
        for k, e in enumerate(e_rest):
            g = g_rest[k] if k < len(g_rest) else "(end)"
            if e != g:
                return ("final", k + 1, e, g)
        return ("final", len(e_rest) + 1, "(end)", g_rest[len(e_rest)])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xenpv", default=os.path.join(HERE, "..", "..", ".build", "debug", "xenpv"))
    ap.add_argument("--kernel", default="v6.1", choices=("v6.1", "v5.11", "v6.18"))
    ap.add_argument("--vectors", help="default: Tests/SwiotlbTests/Vectors/<kernel>")
    ap.add_argument("--v1-subset", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    args.vectors = args.vectors or os.path.join(HERE, "..", "..", "Tests", "SwiotlbTests", "Vectors", args.kernel)

    index = [l.split() for l in open(os.path.join(args.vectors, "index.txt")) if l.strip()]
    per_tag = {}
    agree_ops = agree_all = agree_msg = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fields in index:
            name = fields[0]
            meta = dict(f.split("=", 1) for f in fields[1:])
            text = open(os.path.join(args.vectors, name + ".trace")).read()
            lost = False
            if args.v1_subset:
                text, lost = strip_v2(text)
            trace = os.path.join(tmp, name + ".trace")
            with open(trace, "w") as f:
                f.write(text)
            options = [] if meta["options"] == "-" else meta["options"].split(",")
            p = subprocess.run([args.xenpv, "swiotlb", "replay", "--kernel", args.kernel, "--all-messages"] + options + [trace],
                               capture_output=True, timeout=120)
            expected = open(os.path.join(args.vectors, name + ".out")).read().splitlines()
            got = p.stdout.decode(errors="replace").splitlines()
            diff = compare(expected, got)
            status_ok = str(p.returncode) == meta["status"]
            want_msg = [l.split(": ", 2)[-1] for l in open(os.path.join(args.vectors, name + ".msg"))
                        .read().splitlines() if l.startswith(("warn: ", "WARNING: "))]
            got_msg = [l.split(": ", 1)[-1] if ": " in l and not l.startswith(("swiotlb", "Invalid")) else l
                       for l in p.stderr.decode(errors="replace").splitlines()
                       if "would never return from this map" not in l]
            agree_msg += want_msg == got_msg
            ops_ok = diff is None or diff[0] == "final"
            agree_ops += ops_ok
            agree_all += diff is None and status_ok
            verdict = "same" if diff is None and status_ok else "DIFF"
            detail = ""
            if diff:
                detail = f" first {diff[0]} line {diff[1]}: want '{diff[2]}' got '{diff[3]}'"
            elif not status_ok:
                detail = f" status want {meta['status']} got {p.returncode}"
            if p.returncode not in (0,) and diff:
                err = p.stderr.decode(errors="replace").strip().splitlines()
                if err:
                    detail += f" (xenpv stderr: {err[-1][:160]})"
            line = f"{verdict} {name}{' [v2 keys removed]' if lost else ''}:{detail}"
            print(line)
            for tag in meta["tags"].split(","):
                t = per_tag.setdefault(tag, [0, 0, 0, []])
                t[0] += 1
                t[1] += ops_ok
                t[2] += diff is None and status_ok
                if verdict == "DIFF" and len(t[3]) < (5 if args.verbose else 1):
                    t[3].append(line)
    print()
    print(f"{len(index)} vectors: op lines identical in {agree_ops}, whole output and status in {agree_all}, "
          f"kernel warnings in {agree_msg}")
    for tag, (n, ops, whole, first) in sorted(per_tag.items()):
        print(f"  {tag}: {n} vectors, op lines identical {ops}, whole {whole}")
        for l in first:
            print(f"      {l}")


if __name__ == "__main__":
    main()
