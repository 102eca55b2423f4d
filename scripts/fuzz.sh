#!/usr/bin/env bash
# Build the libFuzzer harnesses (clang, ASan + UBSan) and run each one for a
# bounded time, starting from the seed corpus and regression inputs in
# fuzz/corpus/<harness>/ with the dictionary fuzz/<harness>.dict.  Fails if
# any harness finds a crash, a sanitizer report, a leak, a broken property
# or an input slower than the timeout; the input is kept under
# build-fuzz/artifacts/.  New coverage goes to build-fuzz/corpus/<harness>/
# (the repository's corpus is only read).
#
# Usage: scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]
#   SECONDS_PER_HARNESS  default 30; harnesses: csv data args fit fitjson factor_data
#   gpcm_data gpcm_pattern
# One process per harness, one after the other (the fit harness is itself
# single-threaded), so two cores are enough.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(csv data args fit fitjson select journal factor_data gpcm_data gpcm_pattern)

build=build-fuzz
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLS_FUZZ=ON \
  -DLS_FAULT_INJECTION=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${harnesses[@]}") >/dev/null

# LeakSanitizer's exit-time scan crashes on OpenMP threads' dynamic TLS with
# clang 14 and glibc 2.36 unless __tls_get_addr is left alone.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_NUM_THREADS=1

fail=0
mkdir -p "$build/artifacts"
printf '%-12s %8s %10s %8s %6s %6s  %s\n' harness seconds executions exec/s cov ft result
for h in "${harnesses[@]}"; do
  work="$build/corpus/$h"
  mkdir -p "$work"
  max_len=()
  [ "$h" = fit ] && max_len=(-max_len=2048)
  log="$build/fuzz_$h.log"
  if "$build/fuzz/fuzz_$h" "$work" "fuzz/corpus/$h" -dict="fuzz/$h.dict" \
       -max_total_time="$secs" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
       -artifact_prefix="$build/artifacts/$h-" "${max_len[@]}" >"$log" 2>&1; then
    result=ok
  else
    result="FAILED (see $log)"
    fail=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-12s %8s %10s %8s %6s %6s  %s\n' "$h" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "$result"
  if [ "$result" != ok ]; then
    grep -E 'ERROR|SUMMARY|property failed|runtime error|Test unit written' "$log" | head -8 || true
  fi
done
exit $fail
