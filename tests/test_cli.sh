#!/usr/bin/env bash
# The command line end to end: help, exit codes, one-line errors that name
# file, line and column or the option, no output file on failure, inputs
# never overwritten, a simulated leaderboard fitted and written.
#
# Usage: test_cli.sh LATENTSCALE [DATA_DIR [real]]
# With "real", only the runs on the shared real data (bfi, the paper's
# leaderboard), exiting 77 (CTest's skip) when DATA_DIR lacks them; without
# it, everything else.
set -u
bin=$1
data=${2:-}
part=${3:-simulated}
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

if [ "$part" = real ]; then
  if ! { [ -n "$data" ] && [ -f "$data/bfi.csv" ] && [ -f "$data/openllm_merged.csv" ]; }; then
    echo "skip: the shared data ($data/bfi.csv, openllm_merged.csv) is absent: nothing checked"
    exit 77
  fi
if [ -n "$data" ] && [ -f "$data/bfi.csv" ]; then
  "$bin" factor "$data/bfi.csv" --items 'A*,C*' --dichotomise 4 --factors 2 --identify anchor --anchors A2,C1 \
    --ridge 10 --out "$tmp/factor.json" >"$tmp/f.out" 2>&1 && grep -q '"version"' "$tmp/factor.json" && ok || bad "factor on bfi: $(tail -2 "$tmp/f.out")"
  # marginal ML on a short test, chosen by auto and said so
  "$bin" factor "$data/bfi.csv" --items 'N*' --dichotomise 4 --method auto --out "$tmp/mml.json" >"$tmp/m.out" 2>&1 \
    && grep -q '"method": "mml"' "$tmp/mml.json" && grep -q '"aic"' "$tmp/mml.json" \
    && grep -q "method auto: marginal ML" "$tmp/m.out" && grep -q "marginal log-likelihood" "$tmp/m.out" \
    && ok || bad "factor --method auto on bfi N*: $(tail -2 "$tmp/m.out")"
  "$bin" gpcm "$data/bfi.csv" --items 'A*,C*' --factors 2 --exploratory --no-se --out "$tmp/gpcm.json" >"$tmp/g.out" 2>&1 \
    && grep -q '"version"' "$tmp/gpcm.json" && ok || bad "gpcm on bfi: $(tail -2 "$tmp/g.out")"
fi

# the reference's logit clip on the paper data: max |gradient| cannot reach
# --gtol at the kinks, so the fit converges by the log-likelihood change,
# exits 0, says so, and a report from the file keeps it
if [ -n "$data" ] && [ -f "$data/openllm_merged.csv" ]; then
  "$bin" fit "$data/openllm_merged.csv" --floors "$data/benchmarks.csv" --skills 1 --logit-clamp 4.5 \
    --benchmarks math,ifeval,hellaswag,bbh,mmlu-pro,mmlu,arc,truthfulqa,gsm8k,winogrande,gpqa,musr \
    --out "$tmp/clip1.json" >"$tmp/clip1.out" 2>&1; rc=$?
  [ $rc -eq 0 ] && grep -q "converged: yes, by the log-likelihood change (kinks of the logit clamp)" "$tmp/clip1.out" \
    && grep -q '"criterion": "log-likelihood change (kinks of the logit clamp)"' "$tmp/clip1.json" \
    && ok || bad "clipped fit on the paper data: rc $rc, $(grep -i converged "$tmp/clip1.out")"
  "$bin" report "$tmp/clip1.json" "$data/openllm_merged.csv" --out "$tmp/clip1.html" >/dev/null 2>&1 \
    && grep -q "yes, by the log-likelihood change" "$tmp/clip1.html" && ok || bad "report of the clipped fit"
fi

# the first 8 rows of openllm_v1 (3 families) at K = 1 with the three
# default terms: weakly identified, said in the summary with the remedy and in
# the JSON's warnings; with the remedy's covariates, nothing said
if [ -n "$data" ] && [ -f "$data/openllm_v1.csv" ]; then
  head -9 "$data/openllm_v1.csv" >"$tmp/tiny.csv"
  "$bin" fit "$tmp/tiny.csv" --skills 1 --out "$tmp/tiny.json" >"$tmp/tiny.err" 2>&1; rc=$?
  [ $rc -eq 0 ] && grep -q "^warning: weakly identified: 3 families for 1 skill and 3 covariate terms" "$tmp/tiny.err" \
    && grep -q "use fewer covariates (--covariates log(size))" "$tmp/tiny.err" \
    && grep -q "standard deviations of the family effects (bound 20)" "$tmp/tiny.err" \
    && grep -q '"weakly identified: 3 families' "$tmp/tiny.json" \
    && ok || bad "tiny openllm_v1 table: rc $rc, $(cat "$tmp/tiny.err")"
  "$bin" fit "$tmp/tiny.csv" --skills 1 --covariates 'log(size)' --benchmarks arc,hellaswag,mmlu,truthfulqa,winogrande,gsm8k \
    --out "$tmp/tiny1.json" >"$tmp/tiny1.err" 2>&1; rc=$?
  [ $rc -eq 0 ] && ! grep -q "identified\|nearly singular" "$tmp/tiny1.err" && ok || bad "tiny table with log(size): rc $rc, $(cat "$tmp/tiny1.err")"
fi

  echo "$pass passed, $fail failed"
  [ $fail -eq 0 ]
  exit
fi

"$bin" --help >/dev/null && ok || bad "--help"
"$bin" fit --help | grep -q -- "--skills" && ok || bad "fit --help"
for c in fit predict posterior evaluate select compare report; do
  "$bin" $c --help | grep -q "size (billions of parameters" && "$bin" $c --help | grep -q "tokens (trillions" && ok || bad "$c --help lacks the units"
done
"$bin" simulate --n-families 40 --skills 2 --seed 3 --out "$tmp/sim.csv" --floors-out "$tmp/fl.csv" >/dev/null && ok || bad simulate
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

# the downstream commands on that fit
if [ -s "$tmp/fit.json" ]; then
  fam=$(sed -n 2p "$tmp/sim.csv" | cut -d, -f2)
  printf 'model,family,size,tokens\nnew-a,%s,50,5\nnew-b,never-seen,7,2\n' "$fam" >"$tmp/new.csv"
  "$bin" predict "$tmp/fit.json" "$tmp/sim.csv" --new "$tmp/new.csv" --param-draws 20 --out "$tmp/pred.csv" >"$tmp/p.out" 2>&1 && ok || bad "predict: $(cat "$tmp/p.out")"
  [ "$(wc -l <"$tmp/pred.csv")" -eq 25 ] && ok || bad "predict CSV should have 1 + 2 x 12 lines"
  head -1 "$tmp/pred.csv" | grep -q '^model,family,known_family,benchmark,observed,mean,median,lower,upper,map,level$' && ok || bad "predict CSV header"
  grep -q 'never-seen' "$tmp/p.out" && ok || bad "predict does not flag the unseen family"
  "$bin" predict "$tmp/fit.json" "$tmp/sim.csv" --new "$tmp/new.csv" --param-draws 20 --out "$tmp/pred.json" >/dev/null 2>&1 && grep -q '"cells"' "$tmp/pred.json" && ok || bad "predict JSON"
  # a model far beyond the fitted sizes and a family name in the wrong case:
  # warnings on stderr (also with --json) and in the JSON
  ufam=$(printf '%s' "$fam" | tr 'a-z' 'A-Z')
  printf 'model,family,size,tokens\nhuge,%s,5000,3\ntypo,%s,7,2\n' "$fam" "$ufam" >"$tmp/warn.csv"
  "$bin" predict "$tmp/fit.json" "$tmp/sim.csv" --new "$tmp/warn.csv" --param-draws 0 --json >"$tmp/pw.json" 2>"$tmp/pw.err"
  grep -q "^latentscale: warning: model 'huge': size 5000 is outside the fitted range" "$tmp/pw.err" \
    && grep -q "^latentscale: warning: model 'typo': family '$ufam' is not in the fit; did you mean '$fam'?" "$tmp/pw.err" \
    && grep -q "did you mean" "$tmp/pw.json" && grep -q "outside the fitted range" "$tmp/pw.json" \
    && ok || bad "predict warnings: $(cat "$tmp/pw.err")"
  "$bin" posterior "$tmp/fit.json" "$tmp/sim.csv" --family "$fam" --draws 500 --out "$tmp/post.json" >"$tmp/po.out" 2>&1 && grep -q '"rhat"' "$tmp/post.json" && ok || bad "posterior: $(cat "$tmp/po.out")"
  fam2=$(awk -F, -v f="$fam" 'NR>1 && $2!=f {print $2; exit}' "$tmp/sim.csv")
  "$bin" compare "$tmp/fit.json" "$tmp/sim.csv" --families "$fam,$fam2" --param-draws 20 --out "$tmp/cmp.json" >"$tmp/c.out" 2>&1 && grep -q '"prob_a_greater"' "$tmp/cmp.json" && ok || bad "compare: $(cat "$tmp/c.out")"
  "$bin" optimal "$tmp/fit.json" --param-draws 50 --out "$tmp/opt.json" >"$tmp/o.out" 2>&1 && grep -q '"allocations"' "$tmp/opt.json" && ok || bad "optimal: $(cat "$tmp/o.out")"
  "$bin" optimal "$tmp/fit.json" --budgets 1e21,1e23 --size-range 0.1,100 --tokens-range 0.1,10 --param-draws 0 >"$tmp/o2.out" 2>&1 && grep -q 'size searched in \[0.1, 100\]' "$tmp/o2.out" && ok || bad "optimal with ranges: $(cat "$tmp/o2.out")"
  # budgets beyond what the ranges reach: clamped to the corners, with warnings, never NaN
  "$bin" optimal "$tmp/fit.json" --budgets 1e15,1e22,1e32 --param-draws 20 --out "$tmp/opt3.json" >"$tmp/o3.out" 2>&1; rc=$?
  [ $rc -eq 0 ] && ! grep -qi nan "$tmp/o3.out" "$tmp/opt3.json" \
    && grep -q '^latentscale: warning: .*1e+15 FLOPs is below the smallest budget' "$tmp/o3.out" \
    && grep -q '^latentscale: warning: .*1e+32 FLOPs is above the largest budget' "$tmp/o3.out" \
    && [ "$(grep -c 'FLOPs is' "$tmp/opt3.json")" -eq 2 ] && ok || bad "optimal beyond the ranges: rc $rc, $(cat "$tmp/o3.out")"
  for f in pred.json post.json cmp.json opt.json; do grep -q '"version"' "$tmp/$f" && grep -q '"command_line"' "$tmp/$f" && ok || bad "$f lacks version or options"; done
  # --json: the document --out writes, alone on stdout (valid JSON, no summary),
  # no temporary files left behind; with --out as well, the same bytes in both
  # (the recorded command line differs between runs with and without --out)
  jt="$tmp/jsontmp"; mkdir -p "$jt"
  isjson() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }
  TMPDIR="$jt" "$bin" compare "$tmp/fit.json" "$tmp/sim.csv" --families "$fam,$fam2" --param-draws 20 --json >"$tmp/j1" 2>/dev/null \
    && isjson "$tmp/j1" && grep -q '"prob_a_greater"' "$tmp/j1" && ok || bad "compare --json: $(head -c 200 "$tmp/j1")"
  TMPDIR="$jt" "$bin" compare "$tmp/fit.json" "$tmp/sim.csv" --families "$fam,$fam2" --param-draws 20 --json --out "$tmp/j2.json" >"$tmp/j2" 2>/dev/null \
    && cmp -s "$tmp/j2" "$tmp/j2.json" && ok || bad "compare --json --out: stdout and file differ"
  TMPDIR="$jt" "$bin" predict "$tmp/fit.json" "$tmp/sim.csv" --new "$tmp/new.csv" --param-draws 20 --json >"$tmp/j3" 2>/dev/null \
    && isjson "$tmp/j3" && grep -q '"cells"' "$tmp/j3" && ok || bad "predict --json"
  TMPDIR="$jt" "$bin" optimal "$tmp/fit.json" --param-draws 50 --json >"$tmp/j4" 2>/dev/null && isjson "$tmp/j4" && ok || bad "optimal --json"
  TMPDIR="$jt" "$bin" posterior "$tmp/fit.json" "$tmp/sim.csv" --family "$fam" --draws 300 --json >"$tmp/j5" 2>/dev/null \
    && isjson "$tmp/j5" && grep -q '"rhat"' "$tmp/j5" && ok || bad "posterior --json"
  TMPDIR="$jt" "$bin" fit "$tmp/sim.csv" --floors "$tmp/fl.csv" --skills 1 --starts 1 --json >"$tmp/j6" 2>/dev/null \
    && isjson "$tmp/j6" && grep -q '"loglik"' "$tmp/j6" && ok || bad "fit --json"
  [ -z "$(ls -A "$jt")" ] && ok || bad "--json left temporary files: $(ls -A "$jt")"
  # an error under --json: nothing on stdout, the one-line message on stderr
  TMPDIR="$jt" "$bin" compare "$tmp/fit.json" "$tmp/sim.csv" --families "$fam,nope" --json >"$tmp/j7" 2>"$tmp/j7e"; rc=$?
  [ $rc -eq 2 ] && [ ! -s "$tmp/j7" ] && grep -q "no family 'nope'" "$tmp/j7e" && [ -z "$(ls -A "$jt")" ] && ok || bad "compare --json error: rc $rc"
  expect 2 "--json: the output is JSON" predict "$tmp/fit.json" "$tmp/sim.csv" --new "$tmp/new.csv" --json --format csv
  expect 2 "--new: required" predict "$tmp/fit.json" "$tmp/sim.csv" --out "$tmp/out.json"
  expect 2 "--family: no family 'nosuch'" posterior "$tmp/fit.json" "$tmp/sim.csv" --family nosuch --out "$tmp/out.json"
  expect 2 "--families: expected two names" compare "$tmp/fit.json" "$tmp/sim.csv" --families onlyone --out "$tmp/out.json"
  expect 2 "--level: expected a number in (0, 1)" predict "$tmp/fit.json" "$tmp/sim.csv" --new "$tmp/new.csv" --level 1.5 --out "$tmp/out.json"
  expect 3 "new.csv does not match the fit" predict "$tmp/fit.json" "$tmp/new.csv" --new "$tmp/new.csv" --out "$tmp/out.json"
  "$bin" simulate --n-families 40 --skills 2 --seed 4 --out "$tmp/other.csv" >/dev/null 2>&1
  expect 3 "not the data it was fitted on" predict "$tmp/fit.json" "$tmp/other.csv" --new "$tmp/new.csv" --out "$tmp/out.json"
  sed 's/"version": "[^"]*"/"version": "0.0.1"/' "$tmp/fit.json" >"$tmp/old.json"
  expect 3 "written by latentscale 0.0.1" predict "$tmp/old.json" "$tmp/sim.csv" --new "$tmp/new.csv" --out "$tmp/out.json"
  printf '{"version": ' >"$tmp/broken.json"
  expect 3 "broken.json:1:" optimal "$tmp/broken.json" --out "$tmp/out.json"
  expect 2 "refusing to overwrite" predict "$tmp/fit.json" "$tmp/sim.csv" --new "$tmp/new.csv" --out "$tmp/new.csv"
  expect 2 "--skills: expected a range" select "$tmp/sim.csv" --skills 3..1 --out "$tmp/out.json"
  expect 2 "give exactly one of --split FILE and --holdout largest" evaluate "$tmp/sim.csv" --out "$tmp/out.json"
  printf 'model,role\nzzz,test\n' >"$tmp/split.csv"
  expect 3 "split.csv:2: model 'zzz' is not in" evaluate "$tmp/sim.csv" --split "$tmp/split.csv" --out "$tmp/out.json"
fi

# a fit whose observed information is singular (a tight logit clip): predict
# falls back to the estimates and says so
"$bin" fit "$tmp/sim.csv" --floors "$tmp/fl.csv" --skills 1 --starts 1 --logit-clamp 0.3 --out "$tmp/clamp.json" --quiet >/dev/null 2>&1
if [ -s "$tmp/clamp.json" ]; then
  "$bin" predict "$tmp/clamp.json" "$tmp/sim.csv" --new "$tmp/new.csv" >"$tmp/pc.out" 2>&1 && grep -q 'observed information is singular' "$tmp/pc.out" \
    && ok || bad "predict on a singular fit: $(tail -2 "$tmp/pc.out")"
else
  bad "the clipped fit wrote nothing"
fi

# a pandas to_csv leaderboard: an unnamed index column first, ignored
awk 'NR == 1 { print "," $0; next } { print NR - 2 "," $0 }' "$tmp/sim.csv" >"$tmp/pandas.csv"
"$bin" fit "$tmp/pandas.csv" --skills 1 --starts 1 --out "$tmp/pandas.json" >"$tmp/pandas.out" 2>&1; rc=$?
{ [ $rc -eq 0 ] || [ $rc -eq 4 ]; } && [ -s "$tmp/pandas.json" ] && ! grep -q '(row)' "$tmp/pandas.json" \
  && ok || bad "fit on a CSV with an unnamed index column: rc $rc, $(tail -1 "$tmp/pandas.out")"

# long names are printed whole: the summary's and predict's name columns widen
sed '1s/^model,family,size,tokens,math/model,family,params_b,train_tokens_t,Benchmark_MATH_Level5_long/' "$tmp/sim.csv" >"$tmp/long.csv"
lcov='log(params_b),log(train_tokens_t),log(params_b)*log(train_tokens_t)'
"$bin" fit "$tmp/long.csv" --covariates "$lcov" --skills 1 --starts 1 --anchors Benchmark_MATH_Level5_long \
  --out "$tmp/long.json" >"$tmp/long.out" 2>&1
grep -q '^  log(params_b)\*log(train_tokens_t) ' "$tmp/long.out" && grep -q '^  Benchmark_MATH_Level5_long ' "$tmp/long.out" \
  && grep -q '^  covariate  *Benchmark_MATH_Level5_long$' "$tmp/long.out" && ok || bad "fit summary cuts long names: $(sed -n 5,6p "$tmp/long.out")"
printf 'model,family,params_b,train_tokens_t\na-model-name-longer-than-28-characters,fresh,7,2\n' >"$tmp/longnew.csv"
if [ -s "$tmp/long.json" ]; then
  "$bin" predict "$tmp/long.json" "$tmp/long.csv" --new "$tmp/longnew.csv" --param-draws 0 >"$tmp/longp.out" 2>&1
  grep -q '^a-model-name-longer-than-28-characters Benchmark_MATH_Level5_long ' "$tmp/longp.out" && ok || bad "predict cuts long names: $(sed -n 2p "$tmp/longp.out")"
else bad "the fit with long names wrote nothing: $(tail -1 "$tmp/long.out")"; fi

# demo --dir creates the folder and its missing parents
"$bin" demo --dir "$tmp/demo/new" --n-families 20 --skills 1 >"$tmp/demo.out" 2>&1 && [ -s "$tmp/demo/new/fit.json" ] \
  && [ -s "$tmp/demo/new/leaderboard.csv" ] && ok || bad "demo --dir into a new folder: $(tail -2 "$tmp/demo.out")"
: >"$tmp/plainfile"
expect 3 "plainfile: cannot create the folder: not a directory" demo --dir "$tmp/plainfile" --n-families 20 --skills 1

# other names of the size and tokens columns: the renamed table fits to the
# same log-likelihood, and predict reads new models by the fit's names
sed '1s/^model,family,size,tokens,/model,family,params_b,train_tokens_t,/' "$tmp/sim.csv" >"$tmp/renamed.csv"
"$bin" fit "$tmp/sim.csv" --floors "$tmp/fl.csv" --skills 1 --starts 1 --quiet --out "$tmp/plain1.json" 2>/dev/null
"$bin" fit "$tmp/renamed.csv" --floors "$tmp/fl.csv" --skills 1 --starts 1 --quiet --size-column params_b \
  --tokens-column train_tokens_t --out "$tmp/renamed1.json" 2>/dev/null
l1=$(grep -m1 '"loglik"' "$tmp/plain1.json"); l2=$(grep -m1 '"loglik"' "$tmp/renamed1.json")
[ -n "$l1" ] && [ "$l1" = "$l2" ] && ok || bad "renamed columns: '$l1' against '$l2'"
tr -d ' \n' <"$tmp/renamed1.json" | grep -qF '"size_column":"params_b","tokens_column":"train_tokens_t"' && ok || bad "the fit does not record the column names"
printf 'model,family,params_b,train_tokens_t\nnew-a,fresh,7,2\n' >"$tmp/renamednew.csv"
"$bin" predict "$tmp/renamed1.json" "$tmp/renamed.csv" --new "$tmp/renamednew.csv" --param-draws 0 >"$tmp/rp.out" 2>&1 \
  && grep -q '^new-a ' "$tmp/rp.out" && ok || bad "predict with the fit's column names: $(cat "$tmp/rp.out")"
expect 3 "new.csv:1: missing required column 'params_b' (the fit's --size-column)" \
  predict "$tmp/renamed1.json" "$tmp/renamed.csv" --new "$tmp/new.csv" --param-draws 0

# one vocabulary: the shared options where a command can use them, no old
# spelling in any --help, and --quiet leaves stdout empty
for c in fit predict posterior evaluate select compare optimal factor gpcm; do
  for o in threads quiet json seed; do
    "$bin" $c --help | grep -q -- "--$o " && ok || bad "$c --help lacks --$o"
  done
done
for c in simulate demo report; do
  for o in quiet seed; do "$bin" $c --help | grep -q -- "--$o " && ok || bad "$c --help lacks --$o"; done
done
for c in demo report; do "$bin" $c --help | grep -q -- "--threads " && ok || bad "$c --help lacks --threads"; done
"$bin" simulate --help | grep -q -- '--n-families N' && "$bin" simulate --help | grep -q -- '--n-benchmarks J' && ok || bad "simulate --help"
"$bin" report --help | grep -q -- '--highlight A,B' && ok || bad "report --help lacks --highlight"
"$bin" optimal --help | grep -q -- '--param-draws N' && ok || bad "optimal --help lacks --param-draws"
"$bin" factor --help | grep -q -- '--response F' && ok || bad "factor --help lacks --response"
for c in simulate demo report optimal factor; do
  "$bin" $c --help | grep -qE -- '--(families|benchmarks|draws|family) ' && bad "$c --help shows an old spelling" || ok
done
"$bin" simulate --n-families 12 --n-benchmarks 5 --skills 1 --seed 2 --quiet --out "$tmp/q.csv" >"$tmp/q.out" 2>"$tmp/q.err"
[ -s "$tmp/q.csv" ] && [ ! -s "$tmp/q.out" ] && [ "$(head -1 "$tmp/q.csv" | tr ',' '\n' | wc -l)" -eq 9 ] && ok || bad "simulate --quiet: $(cat "$tmp/q.out")"
if [ -s "$tmp/fit.json" ]; then
  "$bin" optimal "$tmp/fit.json" --param-draws 30 --quiet --out "$tmp/oq.json" >"$tmp/oq.out" 2>"$tmp/oq.err"
  [ -s "$tmp/oq.json" ] && [ ! -s "$tmp/oq.out" ] && ok || bad "optimal --quiet: $(cat "$tmp/oq.out")"
  "$bin" compare "$tmp/fit.json" "$tmp/sim.csv" --families "$fam,$fam2" --param-draws 10 --quiet --out "$tmp/cq.json" >"$tmp/cq.out" 2>"$tmp/cq.err"
  [ -s "$tmp/cq.json" ] && [ ! -s "$tmp/cq.out" ] && ok || bad "compare --quiet: $(cat "$tmp/cq.out")"
  # the draws' allocations in parallel: the same intervals for any thread count
  "$bin" optimal "$tmp/fit.json" --param-draws 2500 --threads 1 --out "$tmp/ot1.json" >/dev/null 2>&1
  "$bin" optimal "$tmp/fit.json" --param-draws 2500 --threads 2 --out "$tmp/ot2.json" >/dev/null 2>&1
  cmp -s <(sed '/"options"/,/^  }/d' "$tmp/ot1.json") <(sed '/"options"/,/^  }/d' "$tmp/ot2.json") \
    && grep -q '"size_lower"' "$tmp/ot1.json" && ok || bad "optimal --threads changes the result"
fi

# the companion models: generalized factor model and partial credit model
expect 2 "matches 'zz*'" factor "$tmp/sim.csv" --items 'zz*' --out "$tmp/out.json"
expect 2 "matches 'zz*'" gpcm "$tmp/sim.csv" --items 'zz*' --factors 2 --exploratory --out "$tmp/out.json"
expect 2 "--method: expected jml, mml or auto" factor "$tmp/sim.csv" --items 'zz*' --method bayes --out "$tmp/out.json"
expect 2 "method mml: ridge" factor "$tmp/sim.csv" --items 'zz*' --method mml --ridge 5 --out "$tmp/out.json"
expect 2 "equal_loadings: needs 1 factor" factor "$tmp/sim.csv" --items 'zz*' --method mml --equal-loadings \
  --factors 2 --out "$tmp/out.json"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
