#!/usr/bin/env python3
"""Runs every `swift run xenpv …` line of README.md against a built xenpv and checks it exits 0.

Usage: Scripts/readme-usage.py XENPV

Each line runs as written from a fresh clone: in a scratch folder laid out like the repository
(docs/ is the repository's, ../shared the fixtures beside it), so the files a line writes
(`--json run.json`) land in the scratch folder, not in the repository. `swift run xenpv` is
replaced by XENPV and the `# …` comment dropped. The live dom0 commands (host, p2m, dump) need a
Xen dom0 and are left out. One line per command says its status and time; any failure names the
line and the first line it printed on standard error, and the script exits 1.
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

PREFIX = "swift run xenpv"
LIVE = {"host", "p2m", "dump"}
TIMEOUT_S = 600


def usage_lines(readme):
    """(line number, arguments) of each `swift run xenpv` line inside a fenced code block."""
    lines, fenced = [], False
    with open(readme, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            words = shlex.split(line, comments=True) if fenced else []
            if words[:3] == PREFIX.split():
                lines.append((number, words[3:]))
    return lines


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: readme-usage.py XENPV")
    xenpv = os.path.abspath(sys.argv[1])
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines = usage_lines(os.path.join(repo, "README.md"))
    if not lines:
        sys.exit("readme-usage: README.md has no '%s' line" % PREFIX)
    scratch = tempfile.mkdtemp(prefix="xenpv-readme-")
    try:
        clone = os.path.join(scratch, "xenpv")
        os.mkdir(clone)
        os.symlink(os.path.join(repo, "docs"), os.path.join(clone, "docs"))
        os.symlink(os.path.realpath(os.path.join(repo, "..", "shared")), os.path.join(scratch, "shared"))
        failed = 0
        for number, arguments in lines:
            shown = " ".join([PREFIX] + arguments)
            if arguments and arguments[0] in LIVE:
                print("readme-usage: skipped (live dom0): %s" % shown)
                continue
            start = time.monotonic()
            try:
                run = subprocess.run([xenpv] + arguments, cwd=clone, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, timeout=TIMEOUT_S)
                status = run.returncode
                said = run.stderr.decode("utf-8", "replace").strip().splitlines()
            except subprocess.TimeoutExpired:
                status, said = None, ["still running after %d s" % TIMEOUT_S]
            took = time.monotonic() - start
            if status == 0:
                print("readme-usage: ok (%.1f s): %s" % (took, shown))
            else:
                failed += 1
                print("readme-usage: FAIL: README.md:%d: %s: exit %s: %s"
                      % (number, shown, status, said[0] if said else "(nothing on stderr)"), file=sys.stderr)
        sys.exit(1 if failed else 0)
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
