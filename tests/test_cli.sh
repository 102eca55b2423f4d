#!/usr/bin/env bash
# The command line end to end: help, exit codes, one-line errors that name
# file, line and column or the option, no output file on failure, inputs
# never overwritten, a simulated leaderboard fitted and written.
set -u
bin=$1
data=${2:-}
pass=0; fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }

# expect CODE PATTERN -- args...: exit code, stderr pattern, and no fit.json
expect() {
  local code=$1 pat=$2; shift 2
  rm -f "$tmp/out.json"
  "$bin" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; local rc=$?
  if [ "$rc" -ne "$code" ]; then bad "$* -> exit $rc, expected $code: $(cat "$tmp/stderr")"; return; fi
  if ! grep -qF -- "$pat" "$tmp/stderr"; then bad "$* -> stderr '$(cat "$tmp/stderr")' lacks '$pat'"; return; fi
  if [ "$(wc -l <"$tmp/stderr")" -ne 1 ]; then bad "$* -> more than one line on stderr"; return; fi
  if [ -e "$tmp/out.json" ]; then bad "$* -> wrote an output despite the error"; return; fi
  ok
}

"$bin" --help >/dev/null && ok || bad "--help"
"$bin" fit --help | grep -q -- "--skills" && ok || bad "fit --help"
"$bin" simulate --families 40 --skills 2 --seed 3 --out "$tmp/sim.csv" --floors-out "$tmp/fl.csv" >/dev/null && ok || bad simulate
[ -s "$tmp/sim.truth.json" ] && ok || bad "simulate wrote no truth"
head -1 "$tmp/sim.csv" | grep -q "^model,family,size,tokens,math" && ok || bad "simulated header"

printf 'model,family,size,tokens,arc\nm,f,1,1,1.5\n' >"$tmp/bad1.csv"
expect 3 "bad1.csv:2:5: column 'arc': expected a score in [0, 1], found '1.5'" fit "$tmp/bad1.csv" --skills 1 --out "$tmp/out.json"
printf 'model,family,size,tokens,arc\nm,f,1,1,0.5,0.3\n' >"$tmp/bad2.csv"
expect 3 "bad2.csv:2: row has 6 fields, header has 5" fit "$tmp/bad2.csv" --out "$tmp/out.json"
expect 3 "cannot read" fit "$tmp/none.csv" --out "$tmp/out.json"
: >"$tmp/empty.csv"
expect 3 "empty file" fit "$tmp/empty.csv" --out "$tmp/out.json"
expect 2 "--skills: K = 40" fit "$tmp/sim.csv" --skills 40 --out "$tmp/out.json"
expect 2 "--benchmarks: unknown column 'nosuch'" fit "$tmp/sim.csv" --benchmarks math,nosuch --out "$tmp/out.json"
expect 2 "--anchors: unknown benchmark 'zzz'" fit "$tmp/sim.csv" --skills 1 --anchors zzz --out "$tmp/out.json"
expect 2 "unknown option '--skils'" fit "$tmp/sim.csv" --skils 2
expect 2 "--integration: expected" fit "$tmp/sim.csv" --integration simpson
cp "$tmp/sim.csv" "$tmp/keep.csv"
expect 2 "refusing to overwrite" fit "$tmp/keep.csv" --out "$tmp/keep.csv"
cmp -s "$tmp/sim.csv" "$tmp/keep.csv" && ok || bad "input was modified"
expect 3 "is a directory" fit "$tmp/sim.csv" --skills 1 --starts 1 --out "$tmp"

"$bin" fit "$tmp/sim.csv" --floors "$tmp/fl.csv" --skills 2 --starts 2 --out "$tmp/fit.json" >"$tmp/summary" 2>"$tmp/err"
rc=$?
{ [ $rc -eq 0 ] || [ $rc -eq 4 ]; } && ok || bad "fit exit $rc: $(cat "$tmp/err")"
[ -s "$tmp/fit.json" ] && ok || bad "fit wrote nothing"
grep -q "skill correlations" "$tmp/summary" && ok || bad "summary lacks correlations"
grep -q '"loglik"' "$tmp/fit.json" && ok || bad "fit json lacks loglik"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
