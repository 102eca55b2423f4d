#!/usr/bin/env bash
# Determinism at the command line: the same input, options and seed give a
# byte-identical fit JSON across runs and across thread counts (families are
# evaluated in parallel but summed in family order).  The one difference
# allowed is the recorded command line ("options"."command_line"), which
# quotes --threads itself; it is removed before comparing thread counts.
# Simulation is checked the same way.
#
# Usage: tests/test_determinism.sh PATH/TO/latentscale
set -u
# Under AddressSanitizer (clang 14, glibc 2.36) LeakSanitizer's exit-time
# scan crashes on the dynamic TLS of OpenMP worker threads ("Tracer caught
# signal 11", "DTLS ... at 0x24f"); not intercepting __tls_get_addr avoids
# it.  Harmless elsewhere.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_tls_get_addr=0"
# On a busy machine libgomp's spinning workers make many small parallel
# regions (QMC, 2 threads) up to 15 times slower; results are the same.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
pass=0; fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }

# simulate into DIR, twice with the same relative paths
for d in s1 s2; do
  mkdir "$d"
  (cd "$d" && "$bin" simulate --n-families 25 --skills 2 --n-benchmarks 5 --seed 7 --out sim.csv \
     --floors-out fl.csv >/dev/null) || bad "simulate in $d"
done
for f in sim.csv sim.truth.json fl.csv; do
  cmp -s "s1/$f" "s2/$f" && ok || bad "simulate: $f differs between two runs"
done
cp s1/sim.csv s1/fl.csv .

strip() { sed '/"command_line": \[/,/\]/d' "$1"; }

# fit_in DIR THREADS OPTIONS...: fit sim.csv from DIR, writing DIR/fit.json
fit_in() {
  local dir=$1 th=$2; shift 2
  mkdir -p "$dir"
  (cd "$dir" && "$bin" fit ../sim.csv --floors ../fl.csv --seed 11 --threads "$th" --quiet \
     --out fit.json "$@" 2>"$tmp/stderr")
  local rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 4 ] || bad "fit $dir: exit $rc: $(cat "$tmp/stderr")"
}

# variants: the default rule with standard errors, QMC (random points from a
# fixed seed), Laplace
variants=("--skills 2 --starts 2" "--skills 2 --starts 1 --integration qmc --nodes 16 --no-se --max-iter 10"
          "--skills 1 --starts 3 --integration laplace")
i=0
for v in "${variants[@]}"; do
  i=$((i+1))
  # shellcheck disable=SC2086
  fit_in "v$i-a" 1 $v
  # shellcheck disable=SC2086
  fit_in "v$i-b" 1 $v
  # shellcheck disable=SC2086
  fit_in "v$i-c" 2 $v
  if cmp -s "v$i-a/fit.json" "v$i-b/fit.json"; then ok
  else bad "[$v] two runs with --threads 1 differ:"$'\n'"$(diff "v$i-a/fit.json" "v$i-b/fit.json" | head -20)"; fi
  if cmp -s <(strip "v$i-a/fit.json") <(strip "v$i-c/fit.json"); then ok
  else bad "[$v] --threads 1 and 2 differ:"$'\n'"$(diff <(strip "v$i-a/fit.json") <(strip "v$i-c/fit.json") | head -20)"; fi
  # the only raw difference is the thread count in the command line
  d=$(diff "v$i-a/fit.json" "v$i-c/fit.json" | grep '^[<>]' | tr -d ' ')
  [ "$d" = $'<"1",\n>"2",' ] && ok || bad "[$v] unexpected raw difference: $d"
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
