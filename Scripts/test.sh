#!/usr/bin/env bash
# The project's full test suite, from a fresh clone on Debian with Swift installed.
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

# The offline model builds without the shim (no libxen needed), in its own build folder.
swift build --product xenpv --scratch-path .build-offline

# The full build with the libxenctrl shim.
swift build --build-tests --traits XenCtrl

# Without Xen every live command says so, exits non-zero, and libxc prints nothing itself.
if [ ! -e /dev/xen/privcmd ] && [ ! -e /proc/xen/privcmd ]; then
  bin=$(swift build --traits XenCtrl --show-bin-path)/xenpv
  for args in "host" "p2m 0" "dump m2p" "dump p2m 1"; do
    if out=$("$bin" $args 2>&1); then
      echo "FAIL: xenpv $args succeeded without Xen" >&2; exit 1
    fi
    if [ "$out" != "xenpv: not running on Xen: /dev/xen/privcmd is missing (run this in a Xen dom0 with the xen-privcmd module and xenfs mounted)" ]; then
      echo "FAIL: xenpv $args printed: $out" >&2; exit 1
    fi
  done
  echo "live commands without Xen: all 4 say so"
fi

# Real Xen in the loop: Debian's Xen 4.17 and a PV dom0 under QEMU, xenpv checked inside it.
./Scripts/xen-e2e default bigmem

# A short fuzz run over every parser (libFuzzer with ASan; findings fail the run).
./Scripts/fuzz all 15

# The suite under AddressSanitizer and ThreadSanitizer, the C shim included.
./Scripts/sanitize

# Every test (last, so that its summary closes the output).
swift test --skip-build --traits XenCtrl
