#!/usr/bin/env python3
"""Runs one QEMU boot of Scripts/xen-e2e under a progress watchdog.

Usage: xen-e2e-boot.py <shape> <serial log> <qemu stderr file> <stall CPU-s> <idle s> <limit s> -- <qemu command ...>

Progress is the serial log growing. The boot has stalled when the log does not grow while
QEMU burns <stall CPU-s> seconds of CPU (the guest works but says nothing: spinning), or for
<idle s> seconds in which QEMU got less than 5% of a core (the guest waits for something that
never comes, or QEMU gets no CPU at all); counting QEMU's CPU time rather than the clock keeps
a slow boot on a loaded host from looking like a hang. A boot that keeps progressing but runs
past <limit s> is too slow. On a stall or past the limit QEMU is ended and the diagnosis is
printed on stderr: the last serial lines, the stage the boot had reached, how much CPU QEMU
got meanwhile and how loaded the host was.

Exit status: QEMU's own when it ends by itself (after a line saying how long the boot took
and its longest silence); 3 for a stall on a loaded host (TCG starved or slowed by other work:
worth one retry); 4 for a stall on a host that was not loaded (a hang in the guest or in
QEMU); 5 for a boot still progressing at the limit.
"""
import os
import re
import signal
import subprocess
import sys
import time

STALLED_LOADED, STALLED_IDLE, OVER_LIMIT = 3, 4, 5
POLL_S = 2


def cpu_seconds(pid):
    """User plus system CPU time of a process and all its threads, in seconds (0 if gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3 of stat(5); utime and stime are 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serial_lines(path, tail=None):
    """The serial log's lines (of its last `tail` bytes if given), carriage returns and blank
    lines dropped."""
    try:
        with open(path, "rb") as f:
            if tail:
                f.seek(max(0, os.path.getsize(path) - tail))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [l.rstrip() for l in text.replace("\r", "").split("\n") if l.strip()]


def stage(lines):
    """How far the boot got, read from the serial log."""
    opened = None
    markers = []
    for l in lines:
        m = re.match(r"^@@BEGIN (\S+)$", l)
        if m:
            opened = m.group(1)
        elif re.match(r"^@@END \S+ rc=", l):
            opened = None
        if l.startswith("@@"):
            markers.append(l)
    if "@@DONE" in markers:
        return "dom0 finished its checks and was rebooting"
    if opened:
        return f"dom0's /init, inside check '{opened}'"
    if markers:
        return f"dom0's /init, after '{markers[-1]}'"
    if any("*** Serial input to DOM0" in l for l in lines):
        return "dom0's kernel booting (before /init printed anything)"
    if any("*** Building a PV Dom0" in l for l in lines):
        return "Xen building dom0"
    if any("Xen version" in l for l in lines):
        return "Xen booting"
    return "before Xen's first line (QEMU, firmware or the multiboot loader)"


def stop(proc):
    """Ends QEMU: SIGTERM, then SIGKILL if it is still there after 5 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    if len(sys.argv) < 9 or sys.argv[7] != "--":
        sys.exit("usage: " + __doc__.splitlines()[2].split(": ", 1)[1])
    shape, log, errpath = sys.argv[1], sys.argv[2], sys.argv[3]
    stall_cpu, idle_s, limit_s = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    cmd = sys.argv[8:]
    tag = f"xen-e2e[{shape}]"
    cores = len(os.sched_getaffinity(0))

    with open(errpath, "wb") as err:
        proc = subprocess.Popen(cmd, stderr=err, stdin=subprocess.DEVNULL)
    start = last_change = time.monotonic()
    last_size, cpu_at_change, last_line = -1, 0.0, "(the start)"
    longest = (0.0, 0.0, "")   # the longest silence: seconds, QEMU's CPU-s, the line before it
    try:
        while True:
            try:
                rc = proc.wait(timeout=POLL_S)
                used = os.times()
                print(f"{tag}: QEMU ran {time.monotonic() - start:.0f} s ({used.children_user + used.children_system:.0f} "
                      f"CPU-s); the serial console's longest silence "
                      f"{longest[0]:.0f} s ({longest[1]:.0f} CPU-s of QEMU), after '{longest[2]}'")
                return rc
            except subprocess.TimeoutExpired:
                pass
            now, cpu = time.monotonic(), cpu_seconds(proc.pid)
            size = os.path.getsize(log) if os.path.exists(log) else 0
            if size != last_size:
                if now - last_change > longest[0]:
                    longest = (now - last_change, cpu - cpu_at_change, last_line)
                last_size, last_change, cpu_at_change = size, now, cpu
                last_line = (serial_lines(log, tail=4096) or ["(nothing)"])[-1][:120]
            silent, silent_cpu = now - last_change, cpu - cpu_at_change
            busy = silent_cpu >= stall_cpu
            idle = silent >= idle_s and silent_cpu < 0.05 * silent
            if not busy and not idle and now - start < limit_s:
                continue
            load1 = os.getloadavg()[0]
            stop(proc)
            lines = serial_lines(log)
            last = lines[-1][:120] if lines else "(nothing)"
            others = max(0.0, load1 - silent_cpu / max(silent, POLL_S))   # the load without QEMU's own share
            loaded = others >= cores
            if busy or idle:
                what = "QEMU busy" if busy else "QEMU almost idle"
                cause = "TCG under load?" if loaded else "host not loaded: a hang in the guest or in QEMU"
                print(f"{tag}: QEMU made no progress for {silent:.0f}s ({what}) after '{last}' ({cause})", file=sys.stderr)
            else:
                print(f"{tag}: QEMU still progressing but not finished within {limit_s}s; last line '{last}'", file=sys.stderr)
            quiet = f"QEMU used {silent_cpu:.1f} CPU-s in those {silent:.0f} s; " if busy or idle else ""
            print(f"{tag}: stopped at: {stage(lines)}; {quiet}host load average {load1:.1f} on {cores} cores "
                  f"({others:.1f} without QEMU)", file=sys.stderr)
            print(f"{tag}: last serial lines ({log}):", file=sys.stderr)
            for l in lines[-8:]:
                print("    " + l[:200], file=sys.stderr)
            if not busy and not idle:
                return OVER_LIMIT
            return STALLED_LOADED if loaded else STALLED_IDLE
    finally:
        stop(proc)


if __name__ == "__main__":
    sys.exit(main())
