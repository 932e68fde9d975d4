#!/usr/bin/env bash
# Fuzzes the input parsers with cargo-fuzz (libFuzzer), FUZZ_SECONDS per target (default 15;
# run longer by hand, e.g. FUZZ_SECONDS=600 fuzz/run.sh). cargo-fuzz needs unstable compiler
# flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in domain_parsers; do
  mkdir -p "corpus/$target"
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="${FUZZ_SECONDS:-15}" -rss_limit_mb=2048
done
