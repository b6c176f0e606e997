#!/usr/bin/env bash
# The project's full test suite, from a fresh clone on Debian with Swift installed.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build
