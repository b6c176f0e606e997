#!/usr/bin/env bash
# The project's full test suite, from a fresh clone on Debian with Swift installed.
# Every phase runs even when an earlier one failed (except the test run, which needs the build);
# each says how long it took, and the end lists the failed phases and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need from Debian: libxen-dev for the XenCtrl shim, xz for the fixtures.
need=()
dpkg -s libxen-dev >/dev/null 2>&1 || need+=(libxen-dev)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Scripts/test.sh: needs these Debian packages: ${need[*]} (run as root, or install them)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

failed=()
began=$SECONDS
# phase <name> <command ...>: runs one phase, says how long it took, remembers a failure.
phase() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "test.sh: $name"
  "$@" || rc=$?
  if [ $rc -eq 0 ]; then
    echo "test.sh: $name took $((SECONDS - start))s"
  else
    echo "test.sh: FAIL: $name (exit $rc) after $((SECONDS - start))s" >&2
    failed+=("$name")
  fi
  return $rc
}

# The offline model and its tests, built without the shim (no libxen needed). The shim's
# builds are the sanitizers' below: with ASan and TSan, each with its tests and the live
# commands' not-on-Xen messages; and the release one inside real Xen.
built=0
phase "offline build, with the tests" \
  swift build --build-tests --scratch-path .build-offline && built=1

# Real Xen in the loop: Debian's Xen 4.17 and a PV dom0 under QEMU, xenpv checked inside it,
# installed from the Debian package (Scripts/package: the one release build the next phases run).
phase "real Xen (default, bigmem)" ./Scripts/xen-e2e default bigmem || true

# About 90 bad inputs (special files, huge and long-line inputs, scenario nonsense, traces, dumps,
# capture folders, option values, output paths) against the release xenpv real Xen ran: each
# refused in one line, bounded in time and memory, leaving no output.
phase "hostile inputs" python3 Scripts/hostile-inputs.py .build-e2e/build/release/xenpv || true

# Every `swift run xenpv …` line of the README, run as written (against that release xenpv).
phase "README usage lines" python3 Scripts/readme-usage.py .build-e2e/build/release/xenpv || true

# A short fuzz run over every parser (libFuzzer with ASan; findings fail the run).
phase "fuzz (15 s per target)" ./Scripts/fuzz all 15 || true

# The XenCtrl build under AddressSanitizer and ThreadSanitizer, the C shim included.
phase "sanitizers (ASan, TSan)" ./Scripts/sanitize || true

# Every test (last, so that its summary closes the output).
if [ $built -eq 1 ]; then
  phase "every test" swift test --skip-build --scratch-path .build-offline || true
else
  echo "test.sh: every test: not run, the build failed" >&2
fi

echo "test.sh: all phases took $((SECONDS - began))s"
if [ ${#failed[@]} -gt 0 ]; then
  printf -v list '%s; ' "${failed[@]}"
  echo "test.sh: FAILED: ${list%; }" >&2
  exit 1
fi
