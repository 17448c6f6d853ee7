#!/usr/bin/env bash
# The whole test suite: set-up, then every crate's unit and integration tests (the data-plane
# tests start real akidb-dataplane processes on loopback).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# FAISS (C++) is built once per target dir; keep it outside the clone so later runs reuse it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/akidb-target}"
cargo build --workspace --bins --locked
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked -- --test-threads="${AKIDB_TEST_THREADS:-2}" 2>&1 | tee "$log" || status=$?
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
