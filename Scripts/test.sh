#!/usr/bin/env bash
# The project's full test suite, from a fresh clone on Debian with Swift installed.
# Every phase runs even when an earlier one failed (except those that need a failed build); each
# says how long it took, and the end lists the failed phases, prints 'phases: N passed, N failed'
# and exits non-zero if any failed.
#
# Two cores, one timetable: the release build comes first; real Xen then boots in the background
# on one QEMU thread (-icount: the guest's clock counts its own instructions, so the builds beside
# it cannot starve its timers) while the other phases use the cores; its log is printed when it
# ends. The test suite runs once, under AddressSanitizer (every test); ThreadSanitizer runs the
# suites of the types that are shared between threads.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need from Debian: libxen-dev for the XenCtrl shim, xz for the fixtures (the
# real-Xen phase installs what it boots itself).
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

passed=0
failed=()
began=$SECONDS
# phase <name> <command ...>: runs one phase, says how long it took, counts it.
phase() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "test.sh: $name"
  "$@" || rc=$?
  finish "$name" $rc $((SECONDS - start))
  return $rc
}
# finish <name> <status> <seconds>: the line that closes a phase.
finish() {
  if [ "$2" -eq 0 ]; then
    echo "test.sh: $1 took $3s"
    passed=$((passed + 1))
  else
    echo "test.sh: FAIL: $1 (exit $2) after $3s" >&2
    failed+=("$1")
  fi
}

# The release xenpv with the XenCtrl shim and the Swift runtime linked in: what the Debian
# package ships (Scripts/package builds it the same way, so there it is already built), what
# real Xen runs in dom0, what the hostile inputs and the README lines run.
release=.build-e2e/build
built=0
phase "release build (XenCtrl, static Swift runtime)" \
  swift build -c release --static-swift-stdlib --traits XenCtrl --scratch-path "$release" --product xenpv \
  && built=1 || true

# Real Xen in the loop: Debian's Xen 4.17 and a PV dom0 under QEMU, xenpv checked inside it,
# installed from the Debian package (Scripts/package: that release build, packaged); then
# `xenpv swiotlb capture` against a live 6.1 kernel in a Xen dom0 and natively, each capture
# replayed (Scripts/xen-e2e-capture). One QEMU thread at a time, one shape after the other.
xen_shapes=(default bigmem capture-dom0 capture-native)
xen_log=.build-e2e/real-xen.log
xen_pid=
if [ $built -eq 1 ]; then
  echo "test.sh: real Xen (${xen_shapes[*]}): started in the background, log $xen_log"
  xen_start=$SECONDS
  mkdir -p .build-e2e
  XEN_E2E_ICOUNT=1 ./Scripts/xen-e2e "${xen_shapes[@]}" >"$xen_log" 2>&1 &
  xen_pid=$!
fi

# About 90 bad inputs (special files, huge and long-line inputs, scenario nonsense, traces, dumps,
# capture folders, option values, output paths) against the release xenpv: each refused in one
# line, bounded in time and memory, leaving no output.
if [ $built -eq 1 ]; then
  phase "hostile inputs" python3 Scripts/hostile-inputs.py "$release/release/xenpv" || true
fi

# Every `swift run xenpv …` line of the README, run as written (against that release xenpv).
if [ $built -eq 1 ]; then
  phase "README usage lines" python3 Scripts/readme-usage.py "$release/release/xenpv" || true
fi

# The sources against the project's .swift-format (swift format lint --strict; seconds).
phase "swift format lint" ./Scripts/format-check || true

# Every test, under AddressSanitizer with the XenCtrl shim; then ThreadSanitizer.
phase "every test under ASan" ./Scripts/sanitize address || true

# A short fuzz run over every parser and the model (libFuzzer with ASan; findings fail the run),
# built unoptimised: a smoke run, where the build is most of the cost.
phase "fuzz (8 s per target, debug build)" env XENPV_FUZZ_BUILD=debug ./Scripts/fuzz all 8 || true

phase "TSan" ./Scripts/sanitize thread || true

if [ -n "$xen_pid" ]; then
  rc=0
  wait "$xen_pid" || rc=$?
  echo "test.sh: real Xen (${xen_shapes[*]}), its log:"
  cat "$xen_log"
  finish "real Xen (${xen_shapes[*]})" $rc $((SECONDS - xen_start))
else
  echo "test.sh: real Xen: not run, the release build failed" >&2
  failed+=("real Xen")
fi

echo "test.sh: all phases took $((SECONDS - began))s"
echo "phases: $passed passed, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
  printf -v list '%s; ' "${failed[@]}"
  echo "test.sh: FAILED: ${list%; }" >&2
  exit 1
fi
