#!/usr/bin/env python3
"""Checks the markers a dom0 run of Scripts/xen-e2e left on the serial console."""
import re
import sys

shape, path, secs = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8", errors="replace").read().splitlines()
sections, rcs, flags = {}, {}, {}
current = None
for line in text:
    m = re.match(r"^@@BEGIN (\S+)$", line)
    if m:
        current = m.group(1); sections[current] = []; continue
    m = re.match(r"^@@END (\S+) rc=(\d+)$", line)
    if m:
        rcs[m.group(1)] = int(m.group(2)); current = None; continue
    m = re.match(r"^@@(RC|SAME|DIFFER|SHA) (\S+)(.*)$", line)
    if m:
        flags[(m.group(1), m.group(2))] = m.group(3).strip(); continue
    if current:
        sections[current].append(re.sub(r"^\(XEN\) ", "", line))

checks = []
def check(name, ok, detail=""):
    checks.append((name, ok, detail))

host = "\n".join(sections.get("host", []))
check("xenpv host runs", rcs.get("host") == 0 and "max_page (M2P entries)" in host, host[-300:])
xl = "\n".join(sections.get("xlinfo", []))
def xl_field(name):
    m = re.search(r"^%s\s*:\s*(\d+)" % name, xl, re.M)
    return int(m.group(1)) if m else None
def host_field(pattern):
    m = re.search(pattern, host, re.M)
    return int(m.group(1)) if m else None
check("xenpv host agrees with xl info on total memory",
      xl_field("total_memory") is not None and xl_field("total_memory") == host_field(r"^total_memory: (\d+) MiB"), xl[-400:])
check("xenpv host agrees with xl info on free memory",
      xl_field("free_memory") is not None and xl_field("free_memory") == host_field(r"^free_memory: (\d+) MiB"), xl[-400:])
p2m = "\n".join(sections.get("p2m0", []))
check("xenpv p2m 0 reads dom0's P2M", rcs.get("p2m0") == 0 and "P2M of domain 0:" in p2m, p2m[-500:])
check("the E820 hole below 1 MiB is identity-mapped", "identity ranges: 0x9f-0xff" in p2m, p2m[-500:])
check("every RAM entry of dom0 round-trips through the M2P", "every RAM entry maps back" in p2m, p2m[-500:])
nslabs = re.search(r"^(\d+)$", "\n".join(sections.get("debugfs", [])), re.M)
m = re.search(r"swiotlb pool 0: (\d+) segments, (\d+) machine-contiguous, (\d+) below 4 GiB", p2m)
check("every swiotlb segment is machine-contiguous and below 4 GiB", bool(m) and m.group(1) == m.group(2) == m.group(3), p2m[-500:])
check("the segments cover io_tlb_nslabs from debugfs", bool(m) and bool(nslabs) and int(m.group(1)) * 128 == int(nslabs.group(1)),
      "\n".join(sections.get("debugfs", [])))
nf = "\n".join(sections.get("notfound", []))
check("unknown domain: the domain-not-found message", rcs.get("notfound") == 1 and "no domain 4242 on this host" in nf, nf)
nr = "\n".join(sections.get("nonroot", []))
check("non-root: the EACCES message", rcs.get("nonroot") == 1 and "permission denied opening /dev/xen/privcmd" in nr, nr)
check("xenpv dump m2p is byte-identical to xen-mfndump dump-m2p", ("SAME", "dump-m2p") in flags,
      str({k: v for k, v in flags.items() if k[1] == "dump-m2p"}))
check("xenpv dump p2m 0 works", flags.get(("RC", "xenpv-dump-p2m")) == "0", str(flags.get(("SHA", "dump-p2m"))))

def check_host_scenario():
    """`xenpv scenario from-host` inside dom0, and its model run set against the live P2M."""
    written = "\n".join(sections.get("hostscenario", []) + sections.get("hostscenariofile", []))
    check("xenpv scenario from-host writes a scenario without calibration",
          rcs.get("hostscenario") == 0 and "package:" in written and "heap_inventory" not in written, written[-600:])
    text = "\n".join(sections.get("hostcompare", []))
    m = re.search(r"^P2M entries: (\d+) of (\d+) identical", text, re.M)
    check("compare-real runs the model on that scenario against the live P2M", bool(m), text[-600:])
    # Every category compare-real prints (P2M entries, P2M runs, swiotlb segments, log lines)
    # must be identical: the written scenario reproduces the live host frame for frame.
    cats = re.findall(r"^(.+?): (\d+) of (\d+) identical", text, re.M)
    differ = [f"{n} {a}/{b}" for n, a, b in cats if a != b]
    check("the model run of that scenario is identical to the live host in every category",
          bool(cats) and not differ, "; ".join(differ) + "\n" + text[-600:])
check_host_scenario()

failed = [c for c in checks if not c[1]]
for name, ok, detail in checks:
    print(f"xen-e2e[{shape}]: {'ok  ' if ok else 'FAIL'} {name}")
    if not ok and detail:
        print("    " + detail.replace("\n", "\n    "))
print(f"xen-e2e[{shape}]: boot and checks took {secs} s; dump-m2p {flags.get(('SHA', 'dump-m2p'))}; dump-p2m {flags.get(('SHA', 'dump-p2m'))}")
sys.exit(1 if failed else 0)
