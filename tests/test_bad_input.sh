#!/usr/bin/env bash
# The bad-input catalogue: every way a hand-edited leaderboard, a floors
# file, an option or an output path can be wrong, each with the exact
# one-line message and exit code the command line gives, and proof that it
# touched nothing: no output created, a previous output left byte for byte.
# Then what must be accepted (CRLF, BOM, quotes with commas and newlines,
# very long lines) and fits that are killed or interrupted mid-run.
#
# Usage: tests/test_bad_input.sh PATH/TO/latentscale
#
# Exit codes (src/cli/main.c, cli_fail and cli_usage):
#   0    success
#   2    usage: bad option syntax or value, unknown option or command
#        (cli_usage, and LS_ERR_OPTION from the library)
#   3    input: LS_ERR_IO (unreadable file, unwritable output, a directory),
#        LS_ERR_PARSE (malformed CSV), LS_ERR_INPUT (invalid content)
#   4    numerical: LS_ERR_NUMERIC, and a fit that did not converge (that
#        one is still written, with "converged": false)
#   5    out of memory (LS_ERR_NOMEM)
#   130  interrupted (SIGINT or SIGTERM; LS_ERR_CANCEL): nothing written
# Messages: "latentscale: MESSAGE" for library errors, "latentscale CMD:
# MESSAGE" for option-parsing errors; always exactly one line on stderr.
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
here=$(cd "$(dirname "$0")" && pwd)/bad_input
pass=0; fail=0; cases=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
w=$tmp/w   # inputs and outputs; logs stay outside it
mkdir "$w"
cd "$w" || exit 1
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }

cp "$here/base.csv" base.csv
cp "$here/floors.csv" floors.csv
printf 'previous output\n' >"$tmp/old.ref"

# A fingerprint of everything in the working folder: names, sizes, contents.
snapshot() { find . -type f -print0 | sort -z | xargs -0 md5sum; }

# run_check CODE MESSAGE ARGS...: one run; exact exit code, exactly one
# stderr line equal to MESSAGE, the folder unchanged.
run_check() {
  local code=$1 msg=$2; shift 2
  local before; before=$(snapshot)
  "$bin" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; local rc=$?
  local after; after=$(snapshot)
  local got; got=$(cat "$tmp/stderr")
  if [ "$rc" -ne "$code" ]; then bad "[$*] exit $rc, expected $code: $got"; return 1; fi
  if [ "$(wc -l <"$tmp/stderr")" -ne 1 ]; then bad "[$*] stderr is not one line: $got"; return 1; fi
  if [ "$got" != "$msg" ]; then bad "[$*] stderr"$'\n'"   got: $got"$'\n'"  want: $msg"; return 1; fi
  if [ "$before" != "$after" ]; then
    bad "[$*] changed the folder:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"; return 1
  fi
  return 0
}

# fails CODE MESSAGE ARGS...: one catalogue case, run twice: with --out
# naming a new file (must not appear) and with --out naming an existing
# output (must stay byte-identical).
fails() {
  local code=$1 msg=$2; shift 2
  cases=$((cases+1))
  rm -f new.json
  cp "$tmp/old.ref" old.json
  run_check "$code" "$msg" "$@" --out new.json || return
  run_check "$code" "$msg" "$@" --out old.json || return
  cmp -s old.json "$tmp/old.ref" || { bad "[$*] old output modified"; return; }
  ok
}

# fails_raw CODE MESSAGE ARGS...: a case whose arguments are taken as they
# are (the output option is the point of the case, or must not be added).
fails_raw() {
  local code=$1 msg=$2; shift 2
  cases=$((cases+1))
  cp "$tmp/old.ref" old.json
  run_check "$code" "$msg" "$@" || return
  cmp -s old.json "$tmp/old.ref" || { bad "[$*] old output modified"; return; }
  ok
}

# set_field LINE FIELD VALUE: base.csv with one cell replaced.
set_field() { awk -F, -v OFS=, -v l="$1" -v f="$2" -v v="$3" 'NR == l { $f = v } 1' base.csv; }
fit1=(--skills 1 --starts 1 --quiet)

# ---------------------------------------------------------------------------
# File structure (exit 3)
: >empty.csv
fails 3 "latentscale: empty.csv: empty file (expected a header row)" fit empty.csv "${fit1[@]}"
printf '\n\n\r\n' >blank.csv
fails 3 "latentscale: blank.csv: empty file (expected a header row)" fit blank.csv "${fit1[@]}"
printf '\xef\xbb\xbf' >bomonly.csv
fails 3 "latentscale: bomonly.csv: empty file (expected a header row)" fit bomonly.csv "${fit1[@]}"
head -1 base.csv >header.csv
fails 3 "latentscale: header.csv: no data rows" fit header.csv "${fit1[@]}"
fails 3 "latentscale: none.csv: cannot read: No such file or directory" fit none.csv "${fit1[@]}"
mkdir -p adir
fails 3 "latentscale: adir: is a directory, expected a file" fit adir "${fit1[@]}"

# Columns
cut -d, -f1,3- base.csv >nofamily.csv
fails 3 "latentscale: nofamily.csv:1: missing required column 'family'" fit nofamily.csv "${fit1[@]}"
cut -d, -f2- base.csv >nomodel.csv
fails 3 "latentscale: nomodel.csv:1: missing required column 'model'" fit nomodel.csv "${fit1[@]}"
cut -d, -f1,2,4- base.csv >nosize.csv
fails 3 "latentscale: nosize.csv:1: missing required column 'size' (the default covariates are log(size),log(tokens),log(size)*log(tokens); choose others with --covariates)" \
  fit nosize.csv "${fit1[@]}"
cut -d, -f1-3,5- base.csv >notokens.csv
fails 3 "latentscale: notokens.csv:1: missing required column 'tokens' (the default covariates are log(size),log(tokens),log(size)*log(tokens); choose others with --covariates)" \
  fit notokens.csv "${fit1[@]}"
fails 3 "latentscale: base.csv:1: missing required column 'name'" fit base.csv "${fit1[@]}" --model-column name
sed '1s/ifeval/math/' base.csv >dupcol.csv
fails 3 "latentscale: dupcol.csv:1: duplicate column name 'math' (columns 5 and 6)" fit dupcol.csv "${fit1[@]}"
sed '1s/$/,/' base.csv >emptycol.csv
fails 3 "latentscale: emptycol.csv:1:8: empty column name" fit emptycol.csv "${fit1[@]}"
# other names of the size and tokens columns (--size-column, --tokens-column)
fails 3 "latentscale: base.csv:1: missing required column 'params_b' (named by --size-column)" fit base.csv "${fit1[@]}" --size-column params_b
fails 3 "latentscale: base.csv:1: missing required column 'train_tokens_t' (named by --tokens-column)" fit base.csv "${fit1[@]}" --tokens-column train_tokens_t
fails 2 "latentscale: --size-column: empty name" fit base.csv "${fit1[@]}" --size-column ''
fails 2 "latentscale: --tokens-column: empty name" fit base.csv "${fit1[@]}" --tokens-column ''
sed '1s/,size,tokens,/,params_b,train_tokens_t,/' base.csv >renamed.csv
fails 3 "latentscale: renamed.csv:1: missing required column 'size' (the default covariates are log(size),log(tokens),log(size)*log(tokens); choose others with --covariates)" \
  fit renamed.csv "${fit1[@]}"
fails 3 "latentscale: renamed.csv:1: missing required column 'tokens' (the default covariates are log(size),log(tokens),log(size)*log(tokens); choose others with --covariates)" \
  fit renamed.csv "${fit1[@]}" --size-column params_b

# Rows and quoting
sed '3s/$/,0.5/' base.csv >ragged_long.csv
fails 3 "latentscale: ragged_long.csv:3: row has 8 fields, header has 7" fit ragged_long.csv "${fit1[@]}"
sed '4s/,[^,]*$//' base.csv >ragged_short.csv
fails 3 "latentscale: ragged_short.csv:4: row has 6 fields, header has 7" fit ragged_short.csv "${fit1[@]}"
{ cat base.csv; printf 'late,fam0013,1,1,"0.5,0.4\n'; } >unterminated.csv
fails 3 "latentscale: unterminated.csv:28:5: unterminated quoted field (started on line 27)" fit unterminated.csv "${fit1[@]}"
set_field 5 5 '0.4"5' >strayquote.csv
fails 3 "latentscale: strayquote.csv:5:5: stray quote inside an unquoted field" fit strayquote.csv "${fit1[@]}"
set_field 5 5 '"0.4"5' >afterquote.csv
fails 3 "latentscale: afterquote.csv:5:5: characters after a closing quote (expected a comma or line end)" fit afterquote.csv "${fit1[@]}"

# Bytes
{ head -6 base.csv; printf 'nul,fam0099,1,1,0.5\0,0.3,0.2\n'; } >nul.csv
fails 3 "latentscale: nul.csv:7: NUL byte in column 5" fit nul.csv "${fit1[@]}"
{ head -3 base.csv; printf 'caf\xe9,fam0099,1,1,0.5,0.3,0.2\n'; } >latin1.csv
fails 3 "latentscale: latin1.csv:4: invalid UTF-8 byte 0xe9 in column 1" fit latin1.csv "${fit1[@]}"
{ head -3 base.csv; printf 'm,\xc0\xaf,1,1,0.5,0.3,0.2\n'; } >overlong.csv
fails 3 "latentscale: overlong.csv:4: invalid UTF-8 byte 0xc0 in column 2" fit overlong.csv "${fit1[@]}"
{ head -3 base.csv; printf 'm,\xed\xa0\x80,1,1,0.5,0.3,0.2\n'; } >surrogate.csv
fails 3 "latentscale: surrogate.csv:4: invalid UTF-8 byte 0xed in column 2" fit surrogate.csv "${fit1[@]}"
{ cat base.csv; printf 'm,fam\xe2\x82'; } >truncated_utf8.csv
fails 3 "latentscale: truncated_utf8.csv:27: invalid UTF-8 byte 0xe2 in column 2" fit truncated_utf8.csv "${fit1[@]}"

# Numbers: scores, covariates
set_field 3 5 abc >textscore.csv
fails 3 "latentscale: textscore.csv:3:5: column 'math': expected a number, found 'abc' (20 of the column's 21 filled cells are numbers; fix the cell or choose the benchmarks with --benchmarks)" \
  fit textscore.csv "${fit1[@]}"
fails 3 "latentscale: textscore.csv:3:5: column 'math': expected a number, found 'abc'" \
  fit textscore.csv "${fit1[@]}" --benchmarks math,ifeval
set_field 6 6 1.5 >above1.csv
fails 3 "latentscale: above1.csv:6:6: column 'ifeval': expected a score in [0, 1], found '1.5' (every other numeric column is a benchmark unless --benchmarks names them)" \
  fit above1.csv "${fit1[@]}"
set_field 6 6 -0.01 >below0.csv
fails 3 "latentscale: below0.csv:6:6: column 'ifeval': expected a score in [0, 1], found '-0.01'" \
  fit below0.csv "${fit1[@]}" --benchmarks math,ifeval,hellaswag
set_field 7 7 45.6 >percent.csv
fails 3 "latentscale: percent.csv:7:7: column 'hellaswag': expected a score in [0, 1], found '45.6'" \
  fit percent.csv "${fit1[@]}" --benchmarks math,hellaswag
set_field 4 5 NaN >nan.csv
fails 3 "latentscale: nan.csv:4:5: column 'math': expected a number, found 'NaN'" fit nan.csv "${fit1[@]}" --benchmarks math
set_field 4 6 inf >inf.csv
fails 3 "latentscale: inf.csv:4:6: column 'ifeval': expected a number, found 'inf'" fit inf.csv "${fit1[@]}" --benchmarks math,ifeval
set_field 4 7 1e999 >overflow.csv
fails 3 "latentscale: overflow.csv:4:7: column 'hellaswag': expected a number, found '1e999'" fit overflow.csv "${fit1[@]}" --benchmarks hellaswag
set_field 4 7 0x1p-2 >hex.csv
fails 3 "latentscale: hex.csv:4:7: column 'hellaswag': expected a number, found '0x1p-2'" fit hex.csv "${fit1[@]}" --benchmarks hellaswag
set_field 9 3 0 >zerosize.csv
fails 3 "latentscale: zerosize.csv:9:3: column 'size': log needs a positive value, found '0'" fit zerosize.csv "${fit1[@]}"
set_field 9 3 -7 >negsize.csv
fails 3 "latentscale: negsize.csv:9:3: column 'size': log needs a positive value, found '-7'" fit negsize.csv "${fit1[@]}"
set_field 10 4 -Inf >inftokens.csv
fails 3 "latentscale: inftokens.csv:10:4: column 'tokens': expected a number, found '-Inf'" fit inftokens.csv "${fit1[@]}"
set_field 10 4 NA >natokens.csv
fails 3 "latentscale: natokens.csv:10:4: column 'tokens': covariate is missing (drop such rows with --drop-incomplete)" fit natokens.csv "${fit1[@]}"
# Units: size in billions of parameters, tokens in trillions; raw counts are refused
awk -F, -v OFS=, 'NR > 1 { $3 = $3 * 1e9 } 1' base.csv >sizecounts.csv
fails 3 "latentscale: sizecounts.csv: column 'size': size is in billions of parameters: found a median of 8.28629e+09; divide by 1e9" \
  fit sizecounts.csv "${fit1[@]}"
awk -F, -v OFS=, 'NR > 1 { $4 = $4 * 1e12 } 1' base.csv >tokencounts.csv
fails 3 "latentscale: tokencounts.csv: column 'tokens': tokens is in trillions of tokens: found a median of 2.30523e+12; divide by 1e12" \
  fit tokencounts.csv "${fit1[@]}"
{ head -1 base.csv; printf 'm1,f,1,1,0.5,0.5,'; head -c 1048576 /dev/zero | tr '\0' '9'; printf '\n'; tail -n +3 base.csv; } >longfield.csv
fails 3 "latentscale: longfield.csv:2:7: column 'hellaswag': expected a number, found '9999999999999999999999999999999999999999...'" \
  fit longfield.csv "${fit1[@]}" --benchmarks math,hellaswag

# Names
set_field 8 1 '' >nomodelname.csv
fails 3 "latentscale: nomodelname.csv:8:1: column 'model': empty model name" fit nomodelname.csv "${fit1[@]}"
set_field 8 2 '' >nofamilyname.csv
fails 3 "latentscale: nofamilyname.csv:8:2: column 'family': empty family name" fit nofamilyname.csv "${fit1[@]}"

# Content the model cannot use
awk -F, -v OFS=, 'NR > 1 { $6 = "" } 1' base.csv >nobench.csv
fails 3 "latentscale: nobench.csv: benchmark 'ifeval' has no observed scores" fit nobench.csv "${fit1[@]}"
awk -F, -v OFS=, '$2 == "fam0010" { $5 = ""; $6 = "NA" } 1' base.csv >nofamscores.csv
fails 3 "latentscale: nofamscores.csv:20: family 'fam0010' has no observed scores on the chosen benchmarks (drop such families with --drop-incomplete)" \
  fit nofamscores.csv "${fit1[@]}"
# a row without size and a family without scores: refused, naming --drop-incomplete;
# with it both are dropped, named in one warning line and in the fit's JSON
set_field 4 3 '' | awk -F, -v OFS=, '$2 == "fam0010" { $5 = ""; $6 = "NA"; $7 = "" } 1' >incomplete.csv
fails 3 "latentscale: incomplete.csv:4:3: column 'size': covariate is missing (drop such rows with --drop-incomplete)" \
  fit incomplete.csv "${fit1[@]}"
fails 3 "latentscale: incomplete.csv:4:3: column 'size': covariate is missing (drop such rows with --drop-incomplete)" \
  select incomplete.csv --skills 1..1 --folds 0 --starts 1
cases=$((cases+1))
cut -d, -f1-4 base.csv | head -3 >newdrop.csv
dropmsg="latentscale: warning: --drop-incomplete: dropped 2 of 25 models (1 missing size or tokens; 1 in a family with no score on the chosen benchmarks: fam0010): fam0003-12.4b-3, fam0010-13.8b-19"
if ! "$bin" fit incomplete.csv "${fit1[@]}" --drop-incomplete --no-calibrate --out dropped.json >/dev/null 2>"$tmp/stderr"; then
  bad "--drop-incomplete: exit $?: $(cat "$tmp/stderr")"
elif [ "$(cat "$tmp/stderr")" != "$dropmsg" ]; then
  bad "--drop-incomplete: stderr"$'\n'"   got: $(cat "$tmp/stderr")"$'\n'"  want: $dropmsg"
elif ! tr -d ' \n' <dropped.json | grep -qF '"dropped":["fam0003-12.4b-3","fam0010-13.8b-19"]'; then
  bad "--drop-incomplete: the JSON lacks the dropped models"
elif ! tr -d ' \n' <dropped.json | grep -qF '"warnings":["drop_incomplete:dropped2of25models'; then
  bad "--drop-incomplete: the JSON lacks the warning"
elif ! "$bin" predict dropped.json incomplete.csv --new newdrop.csv --param-draws 0 >/dev/null 2>"$tmp/stderr" ||
     [ "$(cat "$tmp/stderr")" != "$dropmsg" ]; then
  bad "--drop-incomplete: the fit does not load with the same drops: $(cat "$tmp/stderr")"
else ok; fi
rm -f dropped.json
# select and evaluate drop the same rows, with the same warning on stderr and in their JSON
for c in "select incomplete.csv --skills 1..1 --folds 0" "evaluate incomplete.csv --holdout largest --skills 1 --param-draws 0"; do
  cases=$((cases+1))
  if ! "$bin" $c --starts 1 --drop-incomplete --quiet --out dropped.json >/dev/null 2>"$tmp/stderr"; then
    bad "$c --drop-incomplete: exit $?: $(cat "$tmp/stderr")"
  elif [ "$(head -1 "$tmp/stderr")" != "$dropmsg" ]; then
    bad "$c --drop-incomplete: stderr '$(cat "$tmp/stderr")'"
  elif ! tr -d ' \n' <dropped.json | grep -qF '"warnings":["drop_incomplete:dropped2of25models'; then
    bad "$c --drop-incomplete: the JSON lacks the warning"
  else ok; fi
  rm -f dropped.json
done
awk -F, -v OFS=, 'NR > 1 { $5 = $6 = $7 = "" } 1' base.csv >allmissing.csv
fails 3 "latentscale: allmissing.csv: benchmark 'math' has no observed scores" fit allmissing.csv "${fit1[@]}"
awk -F, -v OFS=, 'NR > 1 && $6 != "" { $6 = "0.3" } 1' base.csv >constbench.csv
fails 3 "latentscale: constbench.csv: benchmark 'ifeval': all 20 observed scores are equal (0.3 after clipping), so its precision cannot be estimated; leave it out with --benchmarks" \
  fit constbench.csv "${fit1[@]}"
awk -F, -v OFS=, 'NR > 1 && $7 != "" { $7 = "0.25" } 1' base.csv >atfloor.csv
fails 3 "latentscale: atfloor.csv: benchmark 'hellaswag': all 20 observed scores are equal (0.25 after clipping), so its precision cannot be estimated; leave it out with --benchmarks" \
  fit atfloor.csv "${fit1[@]}" --floors floors.csv
awk -F, -v OFS=, 'NR > 1 && $5 != "" { $5 = "0" } 1' base.csv >allzero.csv
fails 3 "latentscale: allzero.csv: benchmark 'math': all 21 observed scores are equal (0.001 after clipping), so its precision cannot be estimated; leave it out with --benchmarks" \
  fit allzero.csv "${fit1[@]}"
awk -F, -v OFS=, 'NR > 1 { $4 = $3 } 1' base.csv >collinear.csv
fails 3 "latentscale: collinear.csv: covariate 'log(tokens)' is a linear combination of the covariates before it (25 rows); its effects cannot be identified; drop it with --covariates" \
  fit collinear.csv "${fit1[@]}"
awk -F, -v OFS=, 'NR > 1 { $3 = "7" } 1' base.csv >constsize.csv
fails 3 "latentscale: constsize.csv: covariate 'log(size)' is constant over all rows; drop it with --covariates" \
  fit constsize.csv "${fit1[@]}"

# Floors files (exit 3) and floor options (exit 2)
printf 'benchmark,floor\nmath,0\nhellaswag,1\n' >floor1.csv
fails 3 "latentscale: floor1.csv:3:2: column 'floor': expected a number in [0, 1), found '1'" fit base.csv "${fit1[@]}" --floors floor1.csv
printf 'benchmark,floor\nmath,-0.1\n' >floorneg.csv
fails 3 "latentscale: floorneg.csv:2:2: column 'floor': expected a number in [0, 1), found '-0.1'" fit base.csv "${fit1[@]}" --floors floorneg.csv
printf 'benchmark,floor\nmath,quarter\n' >floortext.csv
fails 3 "latentscale: floortext.csv:2:2: column 'floor': expected a number, found 'quarter'" fit base.csv "${fit1[@]}" --floors floortext.csv
printf 'name,value\nmath,0.25\n' >floorcols.csv
fails 3 "latentscale: floorcols.csv:1: expected columns 'benchmark' and 'floor'" fit base.csv "${fit1[@]}" --floors floorcols.csv
printf 'benchmark,floor\nmaths,0.1\nhella_swag,0.25\n' >floorunknown.csv
fails 3 "latentscale: floorunknown.csv: names none of the fitted benchmarks (its first is 'maths', the first fitted is 'math')" \
  fit base.csv "${fit1[@]}" --floors floorunknown.csv
printf 'benchmark,floor\nmath,0\nHellaSwag,0.25\n' >floorcase.csv
fails 3 "latentscale: floorcase.csv:3: benchmark 'HellaSwag' is not in the data; did you mean 'hellaswag'?" \
  fit base.csv "${fit1[@]}" --floors floorcase.csv
printf 'benchmark,floor\nhellaswag,0.25\nmath,0\nhellaswag,0.2\n' >floordup.csv
fails 3 "latentscale: floordup.csv:4:1: benchmark 'hellaswag' is listed twice (also on line 2)" fit base.csv "${fit1[@]}" --floors floordup.csv
printf 'benchmark,floor\nhellaswag,0.25,x\n' >floorragged.csv
fails 3 "latentscale: floorragged.csv:2: row has 3 fields, header has 2" fit base.csv "${fit1[@]}" --floors floorragged.csv
printf 'benchmark,floor\n' >floorempty.csv
fails 3 "latentscale: floorempty.csv: no data rows (expected benchmark,floor rows)" fit base.csv "${fit1[@]}" --floors floorempty.csv
fails 3 "latentscale: nofloors.csv: cannot read: No such file or directory" fit base.csv "${fit1[@]}" --floors nofloors.csv
fails 2 "latentscale: --floor hellaswag: expected a number in [0, 1), found '1'" fit base.csv "${fit1[@]}" --floor hellaswag=1
fails 2 "latentscale: --floor: unknown benchmark 'arc'" fit base.csv "${fit1[@]}" --floor arc=0.25
fails 2 "latentscale: --floor: expected name=value, found 'hellaswag'" fit base.csv "${fit1[@]}" --floor hellaswag

# Ceilings files (exit 3) and ceiling options (exit 2), read like the floors
printf 'benchmark,ceiling\nmath,0.9\nhellaswag,1.2\n' >ceil1.csv
fails 3 "latentscale: ceil1.csv:3:2: column 'ceiling': expected a number in (0, 1], found '1.2'" fit base.csv "${fit1[@]}" --ceilings ceil1.csv
printf 'benchmark,floor\nmath,0.9\n' >ceilcols.csv
fails 3 "latentscale: ceilcols.csv:1: expected columns 'benchmark' and 'ceiling'" fit base.csv "${fit1[@]}" --ceilings ceilcols.csv
printf 'benchmark,ceiling\nMATH,0.9\n' >ceilcase.csv
fails 3 "latentscale: ceilcase.csv:2: benchmark 'MATH' is not in the data; did you mean 'math'?" fit base.csv "${fit1[@]}" --ceilings ceilcase.csv
printf 'benchmark,ceiling\narc,0.9\nmmlu,0.95\n' >ceilunknown.csv
fails 3 "latentscale: ceilunknown.csv: names none of the fitted benchmarks (its first is 'arc', the first fitted is 'math')" \
  fit base.csv "${fit1[@]}" --ceilings ceilunknown.csv
fails 2 "latentscale: --ceiling hellaswag: expected a number in (0, 1], found '0'" fit base.csv "${fit1[@]}" --ceiling hellaswag=0
fails 2 "latentscale: --ceiling: unknown benchmark 'arc'" fit base.csv "${fit1[@]}" --ceiling arc=0.9
fails 2 "latentscale: benchmark 'hellaswag': the ceiling 0.25 must exceed the floor 0.25 by at least 0.01" \
  fit base.csv "${fit1[@]}" --floors floors.csv --ceiling hellaswag=0.25

# Options (exit 2)
fails 2 "latentscale: --skills: K = 4, but it must be between 1 and the number of benchmarks (3)" fit base.csv --skills 4 --starts 1
fails 2 "latentscale: --skills: expected 1..40, found 0" fit base.csv --skills 0 --starts 1
fails 2 "latentscale fit: --skills: expected a non-negative integer, found 'abc'" fit base.csv --skills abc
fails 2 "latentscale fit: --skills: expected a non-negative integer, found ' 2'" fit base.csv --skills ' 2'
fails 2 "latentscale fit: --starts: expected a non-negative integer, found '-1'" fit base.csv --skills 1 --starts -1
fails 2 "latentscale: --starts: expected 1..1000, found 0" fit base.csv --skills 1 --starts 0
fails 2 "latentscale: --clip: expected a number in (0, 0.5), found 0.6" fit base.csv --skills 1 --clip 0.6
fails 2 "latentscale: --clip: expected a number in (0, 0.5), found 0" fit base.csv --skills 1 --clip 0
fails 2 "latentscale fit: --clip: expected a number, found 'nan'" fit base.csv --skills 1 --clip nan
fails 2 "latentscale fit: --seed: expected a non-negative integer, found 'abc'" fit base.csv --skills 1 --seed abc
fails 2 "latentscale fit: --seed: expected a non-negative integer, found ' -1'" fit base.csv --skills 1 --seed ' -1'
fails 2 "latentscale fit: --seed: expected a non-negative integer, found '18446744073709551616'" fit base.csv --skills 1 --seed 18446744073709551616
fails 2 "latentscale: --gtol: must be positive" fit base.csv --skills 1 --gtol 0
fails 2 "latentscale: --max-iter: must be at least 1" fit base.csv --skills 1 --max-iter 0
fails 2 "latentscale: --logit-clamp: expected a number >= 0 (0 = off)" fit base.csv --skills 1 --logit-clamp -1
fails 2 "latentscale: --family-effect: cannot be combined with --precision-covariates yet" fit base.csv --skills 1 --precision-covariates --family-effect
fails 2 "latentscale: --family-effect: needs a quadrature rule: at most 7 skills, and not the laplace integration (found 1 skills)" fit base.csv --skills 1 --integration laplace --family-effect
fails 2 "latentscale: Gauss-Hermite rule: need 1..200 nodes per dimension" fit base.csv --skills 1 --nodes 201
fails 2 "latentscale fit: --integration: expected auto, gh, sparse, qmc or laplace" fit base.csv --skills 1 --integration simpson
fails 2 "latentscale fit: --threads: expected a non-negative integer, found 'two'" fit base.csv --skills 1 --threads two
# --threads 100000 once crashed inside libgomp; the library caps it.
fails 2 "latentscale: --threads: expected 0..1024, found 100000" fit base.csv --skills 1 --starts 1 --threads 100000
fails 2 "latentscale: --anchors: unknown benchmark 'mmlu'" fit base.csv --skills 1 --anchors mmlu
fails 2 "latentscale: --estimate-ceilings: unknown benchmark 'nosuch'" fit base.csv --skills 1 --estimate-ceilings nosuch
fails 2 "latentscale: --ceiling: unknown benchmark 'nosuch'" simulate --out sim_c.csv --ceiling nosuch=0.9
fails 2 "latentscale: --ceiling hellaswag: expected a number in (0, 1], found '1.2'" simulate --out sim_c.csv --ceiling hellaswag=1.2
fails 2 "latentscale: --family-effect-sd: expected a number in [0, 5]" simulate --out sim_c.csv --family-effect-sd 6
fails 2 "latentscale: --estimate-ceilings: 'hellaswag' named twice" fit base.csv --skills 1 --estimate-ceilings hellaswag,hellaswag
fails 2 "latentscale: --estimate-ceilings: unknown benchmark 'nosuch'" evaluate base.csv --holdout largest --skills 1 --estimate-ceilings nosuch
# evaluate --select A..B: K chosen inside the training rows; a malformed range, --skills with it,
# a range beyond the benchmarks, no product term to drop, too few families for the sibling criterion
fails 2 "latentscale evaluate: --select: expected a range of K such as 1..4" evaluate base.csv --holdout largest --select 1-2
fails 2 "latentscale evaluate: --select: expected a range of K such as 1..4" evaluate base.csv --holdout largest --select 2..1
fails 2 "latentscale evaluate: --select chooses K: give either --select A..B or --skills K, not both" evaluate base.csv --holdout largest --select 1..2 --skills 2
fails 2 "latentscale evaluate: --select-interaction needs --select A..B" evaluate base.csv --holdout largest --select-interaction
fails 2 "latentscale evaluate: --select-ceilings needs --select A..B" evaluate base.csv --holdout largest --select-ceilings
fails 2 "latentscale: --select-ceilings: chooses the ceilings from the data; give it or the ceilings to estimate (math), not both" evaluate base.csv --holdout largest --select 1..1 --select-ceilings --estimate-ceilings math
fails 2 "latentscale: --select: expected a range of K within 1..3 (the benchmarks), found 1..4" evaluate base.csv --holdout largest --select 1..4
fails 2 "latentscale: --select-interaction: the covariates (log(size),log(tokens)) have no product term to drop" evaluate base.csv --holdout largest --select 1..1 --select-interaction --covariates 'log(size),log(tokens)'
fails 3 "latentscale: --select: the sibling criterion needs at least 5 training families with two or more models and a size and tokens for each" evaluate base.csv --holdout largest --select 1..1 --starts 1
# select chooses the configuration on all rows: the same option errors, and the data need the sibling criterion
fails 2 "latentscale: --select-ceilings: chooses the ceilings from the data; give it or the ceilings to estimate (math), not both" select base.csv --skills 1..1 --folds 0 --select-ceilings --estimate-ceilings math
fails 2 "latentscale: --select-interaction: the covariates (log(size),log(tokens)) have no product term to drop" select base.csv --skills 1..1 --folds 0 --select-interaction --covariates 'log(size),log(tokens)'
fails 3 "latentscale: the sibling criterion, which chooses the interaction and the ceilings, needs at least 5 families with two or more models and a size and tokens for each" select base.csv --skills 1..1 --folds 0 --starts 1 --select-interaction
fails 2 "latentscale: --anchors: 'math' named twice" fit base.csv --skills 2 --anchors math,math
fails 2 "latentscale: --benchmarks: unknown column 'gsm8k' in base.csv" fit base.csv --skills 1 --benchmarks math,gsm8k
fails 2 "latentscale: --benchmarks: 'math' named twice" fit base.csv --skills 1 --benchmarks math,math
fails 2 "latentscale: --covariates: unknown column 'params' in base.csv" fit base.csv --skills 1 --covariates 'log(params)'
fails 2 "latentscale: --covariates: term 'size*size*size*size*size' has more than 4 factors" fit base.csv --skills 1 --covariates 'size*size*size*size*size'
fails 2 "latentscale: --covariates: empty term" fit base.csv --skills 1 --covariates 'log(size),'
fails 2 "latentscale fit: unknown option '--skils' (see --help)" fit base.csv --skils 1
fails 2 "latentscale fit: unknown option '-k' (options start with --)" fit base.csv -k 1
fails 2 "latentscale fit: unknown option '--sk?lls' (see --help)" fit base.csv $'--sk\nlls' 1
fails 2 "latentscale fit: --seed: expected a non-negative integer, found '1?2'" fit base.csv --skills 1 --seed $'1\r2'
fails 2 "latentscale fit: --quiet takes no value" fit base.csv --quiet=yes
fails 2 "latentscale fit: expected one data file (see --help)" fit --skills 1
fails 2 "latentscale fit: expected one data file (see --help)" fit base.csv base.csv --skills 1
fails_raw 2 "latentscale fit: --out needs a value" fit base.csv --skills 1 --out
fails_raw 2 "latentscale: unknown command 'fitt' (try latentscale --help)" fitt base.csv --out new.json
fails_raw 2 "latentscale simulate: --out is required" simulate --n-families 5
# one option name, one meaning: old spellings are refused, naming the new one
fails_raw 2 "latentscale simulate: --families is now --n-families (a count)" simulate --families 5 --out sim_r.csv
fails_raw 2 "latentscale simulate: --benchmarks is now --n-benchmarks (a count)" simulate --benchmarks 5 --out sim_r.csv
fails_raw 2 "latentscale demo: --families is now --n-families (a count)" demo --families 20
fails_raw 2 "latentscale demo: --benchmarks is now --n-benchmarks (a count)" demo --benchmarks 5
fails 2 "latentscale: --n-families: expected 1..1000000" simulate --n-families 0
fails 2 "latentscale: --n-benchmarks: expected 1..200" simulate --n-benchmarks 201
fails 2 "latentscale optimal: --draws is now --param-draws (draws of the parameters, as in predict and compare)" optimal fit_ref.json --draws 10
fails 2 "latentscale report: --families is now --highlight (the families highlighted in figure 1)" report fit_ref.json base.csv --families fam0008
fails 2 "latentscale factor: --family is now --response (the response distribution)" factor base.csv --items math,ifeval --family poisson
fails 2 "latentscale factor: --response: expected bernoulli, probit, poisson or gaussian" factor base.csv --items math,ifeval --response gamma

# Fit files read back (predict FIT DATA): another version, not JSON, not a
# fit, a missing field, other data (exit 3)
"$bin" fit base.csv "${fit1[@]}" --out fit_ref.json 2>"$tmp/stderr" || bad "reference fit: $(cat "$tmp/stderr")"
cut -d, -f1-4 base.csv | head -3 >newmodels.csv
pred=(--new newmodels.csv --param-draws 0)
ver=$("$bin" version | head -1 | cut -d' ' -f2)
sed "s/\"version\": \"$ver\"/\"version\": \"0.0.9\"/" fit_ref.json >fit_oldversion.json
fails 3 "latentscale: fit_oldversion.json: written by latentscale 0.0.9, this is $ver; refit with this version" \
  predict fit_oldversion.json base.csv "${pred[@]}"
printf '{"version": "%s", "skills": 1' "$ver" >fit_truncated.json
fails 3 "latentscale: fit_truncated.json:1:$((27 + ${#ver})): invalid JSON: '}' expected near end of file" \
  predict fit_truncated.json base.csv "${pred[@]}"
fails 3 "latentscale: base.csv:1:5: invalid JSON: '[' or '{' expected near 'model'" predict base.csv base.csv "${pred[@]}"
fails 2 "latentscale: --param-cov: expected hessian or sandwich, found 'robust'" \
  predict fit_ref.json base.csv --new newmodels.csv --param-cov robust
# too few families for the calibration (on by default): not an error; the
# fit is written and says, in its summary and in its file, that it is uncalibrated
if "$bin" fit base.csv --skills 1 --starts 1 --calibrate --out calibrated.json >"$tmp/cal.err" 2>&1 &&
  grep -qF "calibration: skipped: 2 families with two or more models" "$tmp/cal.err" &&
  grep -qF "calibration: skipped: 2 families" calibrated.json && ! grep -q '"calibration": {' calibrated.json; then
  ok
else
  bad "fit with too few families for the calibration: $(cat "$tmp/cal.err")"
fi
rm -f calibrated.json
fails 2 "latentscale compare: unknown option '--no-calibration' (see --help)" \
  compare fit_ref.json base.csv --families fam0001,fam0002 --no-calibration
sed 's/"warnings": \[/"calibration": {"models": 3, "pit": [0.2, 0.1]}, "warnings": [/' fit_ref.json >fit_badcal.json
fails 3 "latentscale: fit_badcal.json: not a latentscale fit file: field 'calibration.pit': expected sorted numbers in [0, 1]" \
  predict fit_badcal.json base.csv "${pred[@]}"
sed 's/"warnings": \[/"calibration": {"models": 3, "pit": [0.1, 0.2], "folds": 5, "pit_by_benchmark": {}}, "warnings": [/' \
  fit_ref.json >fit_badcal2.json
fails 3 "latentscale: fit_badcal2.json: not a latentscale fit file: field 'calibration.pit_by_benchmark': expected an array per benchmark, together the values of 'calibration.pit'" \
  predict fit_badcal2.json base.csv "${pred[@]}"
fails 2 "latentscale: --calibration-folds: expected 1..100, found 0" \
  fit base.csv "${fit1[@]}" --calibrate --calibration-folds 0 --out calibrated.json
printf '[1]\n' >fit_array.json
fails 3 "latentscale: fit_array.json: not a latentscale fit file: top level is not an object" \
  predict fit_array.json base.csv "${pred[@]}"
sed 's/"theta":/"thetta":/' fit_ref.json >fit_notheta.json
fails 3 "latentscale: fit_notheta.json: not a latentscale fit file: missing or mistyped field 'theta'" \
  predict fit_notheta.json base.csv "${pred[@]}"
set_field 3 5 0.9 >otherdata.csv
fails 3 "latentscale: fit_ref.json: the data in otherdata.csv give log-likelihood 57.978707 at this fit's estimates, the fit recorded 67.958881: not the data it was fitted on" \
  predict fit_ref.json otherdata.csv "${pred[@]}"
fails_raw 2 "latentscale predict: --out names an input file; refusing to overwrite it" \
  predict fit_ref.json base.csv "${pred[@]}" --out fit_ref.json
cut -d, -f1-5,7 base.csv >noifeval.csv
fails 3 "latentscale: noifeval.csv does not match the fit fit_ref.json: it lacks 1 of the fit's 3 benchmarks: 'ifeval'" \
  predict fit_ref.json noifeval.csv "${pred[@]}"
cut -d, -f1-5 base.csv >onlymath.csv
fails 3 "latentscale: onlymath.csv does not match the fit fit_ref.json: it lacks 2 of the fit's 3 benchmarks: 'ifeval', 'hellaswag'" \
  predict fit_ref.json onlymath.csv "${pred[@]}"
# a fit to renamed size and tokens columns reads its new models by those names
"$bin" fit renamed.csv "${fit1[@]}" --size-column params_b --tokens-column train_tokens_t --out fit_renamed.json 2>"$tmp/stderr" ||
  bad "renamed fit: $(cat "$tmp/stderr")"
fails 3 "latentscale: newmodels.csv:1: missing required column 'params_b' (the fit's --size-column)" \
  predict fit_renamed.json renamed.csv "${pred[@]}"
fails 2 "latentscale: --param-draws: expected 0..10000000, found 20000000" optimal fit_ref.json --param-draws 20000000
fails 2 "latentscale: --threads: expected 0..4096, found 5000" optimal fit_ref.json --threads 5000

# Factor models and partial credit: too few persons or items for the
# model, constant items (issue 28, item 7)
printf 'x,Q1,Q2,Q3,Q4,Q5\n0.3,0,1,1,0,1\n-1.2,1,0,1,1,0\n0.6,1,1,0,0,1\n' >resp3.csv
fails 2 "latentscale: --factors: 2 factors and 1 covariate need more than 4 persons (persons > factors + covariates + 1: each item's coefficients are estimated from them), found 3" \
  factor resp3.csv --items 'Q*' --factors 2 --covariates x --dif
fails 2 "latentscale: --factors: 5 factors need more than 5 items (items > factors: each person's factor scores are estimated from them), found 5" \
  factor resp3.csv --items 'Q*' --factors 5
printf 'x,Q1,Q2,Q3,Q4,Q5\n0.3,0,1,1,0,1\n-1.2,1,0,1,1,1\n0.6,1,1,0,0,1\n1.1,0,0,1,1,1\n-0.4,1,1,0,1,1\n' >const.csv
fails 3 "latentscale: const.csv: column 'Q5': every observed response is 1; a constant item carries no information: drop it from --items" \
  factor const.csv --items 'Q*' --factors 1
awk -F, -v OFS=, 'NR > 1 { $3 = 1 } 1' const.csv >const2.csv
fails 3 "latentscale: const2.csv: 2 columns have one observed response each ('Q2', 'Q5'); constant items carry no information: drop them from --items" \
  factor const2.csv --items 'Q*' --factors 1
printf 'A1,A2,A3\n0,1,2\n1,2,2\n2,0,2\n1,1,2\n' >gp.csv
fails 3 "latentscale: gp.csv: column 'A3': every observed score is 2, one category of 3; an item needs responses in at least 2 categories (drop it from --items)" \
  gpcm gp.csv --factors 1 --exploratory
printf 'A1,A2,A3\n0,1,2\n1,2,0\n2,0,1\n' >gp3.csv
fails 2 "latentscale: --factors: item 'A1' with 1 slope and 2 steps needs more than 3 persons (persons > slopes + steps: each item's are estimated from its persons), found 3" \
  gpcm gp3.csv --factors 1 --exploratory
# the ridge: a number >= 0 or auto (cross-validated: joint ML only, and
# only with responses to hold out)
fails 2 "latentscale factor: --ridge: expected a number >= 0 or auto, found 'fast'" factor resp3.csv --items 'Q*' --ridge fast
fails 2 "latentscale factor: --ridge: expected a number >= 0 or auto, found '-2'" factor resp3.csv --items 'Q*' --ridge -2
fails 2 "latentscale factor: --ridge: expected a number >= 0 or auto, found 'nan'" factor resp3.csv --items 'Q*' --ridge nan
fails 2 "latentscale: method mml: ridge is a joint-ML penalty; marginal ML needs none" \
  factor resp3.csv --items 'Q*' --method mml --ridge auto
# marginal ML above 3 factors: a sparse grid (issue 29, item 1), up to 6
fails 2 "latentscale: method mml: at most 6 factors (Gauss-Hermite quadrature, a sparse grid above 3); use method jml" \
  factor resp3.csv --items 'Q*' --method mml --factors 7
fails 2 "latentscale: --nodes: with more than 3 factors marginal ML integrates on a sparse grid whose largest rule has 3, 5, ..., 13 nodes, got 8" \
  factor resp3.csv --items 'Q*' --method mml --factors 4 --nodes 8
fails 2 "latentscale: --nodes: with more than 3 factors marginal ML integrates on a sparse grid whose largest rule has 3, 5, ..., 13 nodes, got 15" \
  factor resp3.csv --items 'Q*' --method auto --factors 6 --nodes 15
printf 'Q1,Q2,Q3\n1,,\n0,,\n,1,\n,0,\n,,1\n,,0\n1,,\n,0,\n' >single.csv
fails 2 "latentscale: --ridge: auto's cross-validation holds out responses in 5 folds; these data leave fold 1 none (too few persons with two or more responses): give a ridge" \
  factor single.csv --items 'Q*' --ridge auto
# partial credit from a long table (issue 29, item 4)
printf 'who,q,s\np1,A,0\np1,B,1\np2,A,1.5\np2,B,0\n' >gl_frac.csv
fails 3 "latentscale: gl_frac.csv:4:3: column 's': expected an integer score, found '1.5'" gpcm gl_frac.csv --long who,q,s
printf 'who,q,s\np1,A,0\np1,B,1\np2,A,2\np2,B,0\n' >gl.csv
fails 3 "latentscale: gl.csv:2:3: column 's': score 0 is below the lowest score 1" gpcm gl.csv --long who,q,s --lowest 1
fails 3 "latentscale: gl.csv:4:3: column 's': score 2 is above the highest category 1" \
  gpcm gl.csv --long who,q,s --categories 2
fails 2 "latentscale: long: no item column 'item' in gl.csv" gpcm gl.csv --long who,item,s
fails_raw 2 "latentscale gpcm: --items and --long: give one (wide or long table)" gpcm gl.csv --long who,q,s --items A
printf 'who,q,s\np1,A,0\np1,B,1\np2,A,2\np1,A,1\n' >gl_dup.csv
fails 3 "latentscale: gl_dup.csv:5: person 'p1', item 'A': a second response" gpcm gl_dup.csv --long who,q,s
printf 'who,q,s\np1,A,0\np1,B,1\np2,A,2\np2,B,1\n' >gl_one.csv
fails 3 "latentscale: gl_one.csv: item 'B': every observed score is 1, one category of 2; an item needs responses in at least 2 categories (drop its rows)" \
  gpcm gl_one.csv --long who,q,s
# partial credit with covariates (issue 29, item 1): marginal ML only,
# known numeric columns, one value per person in a long table
printf 'g,A1,A2,A3\n0,0,1,2\n1,1,2,0\n0,2,0,1\n1,1,1,2\n0,0,2,1\n' >gc.csv
fails 2 "latentscale gpcm: --covariates: need --method mml (the GVEM fit takes no covariates)" \
  gpcm gc.csv --items 'A*' --covariates g
fails 2 "latentscale: --covariate-mode: latent regression needs method mml" \
  gpcm gc.csv --items 'A*' --covariate-mode latent-regression
fails 2 "latentscale gpcm: --covariate-mode: expected dif or latent-regression" \
  gpcm gc.csv --items 'A*' --covariates g --method mml --covariate-mode foo
fails 2 "latentscale: --alpha: expected a number in (0, 1)" gpcm gc.csv --items 'A*' --covariates g --method mml --alpha 2
fails 2 "latentscale: --dif-lr: tests DIF against the latent regression: needs --covariate-mode dif" \
  gpcm gc.csv --items 'A*' --covariates g --method mml --covariate-mode latent-regression --dif-lr
fails 2 "latentscale: --covariates: no column 'zz' in gc.csv" gpcm gc.csv --items 'A*' --covariates zz --method mml
fails 2 "latentscale: --covariates: with 2 factors need a confirmatory pattern (the exploratory rotation does not carry covariate effects)" \
  gpcm gc.csv --items 'A*' --covariates g --method mml --factors 2 --exploratory
printf 'g,A1,A2,A3\n0,0,1,2\n1,1,2,0\nx,2,0,1\n1,1,1,2\n0,0,2,1\n' >gcbad.csv
fails 3 "latentscale: gcbad.csv:4:1: column 'g': expected a number, found 'x'" \
  gpcm gcbad.csv --items 'A*' --covariates g --method mml
printf 'who,q,s,g\np1,A,0,0\np1,B,1,0\np2,A,2,1\np2,B,0,2\n' >glc.csv
fails 3 "latentscale: glc.csv:5:4: column 'g': person 'p2' has 2 here and 1 on line 4 (a covariate is one value per person)" \
  gpcm glc.csv --long who,q,s --covariates g --method mml
printf 'who,q,s,g\np1,A,0,0\np1,B,1,0\np2,A,2,1\np2,B,0,abc\n' >glcbad.csv
fails 3 "latentscale: glcbad.csv:5:4: column 'g': expected a number, found 'abc'" \
  gpcm glcbad.csv --long who,q,s --covariates g --method mml

# Outputs
fails_raw 3 "latentscale: nodir/fit.json: cannot write: No such file or directory" fit base.csv "${fit1[@]}" --out nodir/fit.json
fails_raw 3 "latentscale: base.csv/fit.json: cannot write: Not a directory" fit base.csv "${fit1[@]}" --out base.csv/fit.json
fails_raw 3 "latentscale: adir: is a directory, expected a file path" fit base.csv "${fit1[@]}" --out adir
fails_raw 2 "latentscale fit: --out names an input file; refusing to overwrite it" fit base.csv "${fit1[@]}" --out ./base.csv
fails_raw 2 "latentscale fit: --out names an input file; refusing to overwrite it" fit base.csv "${fit1[@]}" --floors floors.csv --out floors.csv
fails_raw 2 "latentscale: output path is empty" fit base.csv "${fit1[@]}" --out ''
fails_raw 3 "latentscale: adir: is a directory, expected a file path" simulate --n-families 5 --out adir
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p ro && chmod 555 ro
  fails_raw 3 "latentscale: ro/fit.json: cannot write: Permission denied" fit base.csv "${fit1[@]}" --out ro/fit.json
  chmod 755 ro
else
  # root writes through permission bits; /proc refuses new files to anyone
  fails_raw 3 "latentscale: /proc/fit.json: cannot write: No such file or directory" fit base.csv "${fit1[@]}" --out /proc/fit.json
fi

# ---------------------------------------------------------------------------
# Accepted: each variant of base.csv fits to the same bytes (same relative
# paths, so the recorded command line and file name agree).
mkdir -p ref
cp base.csv ref/in.csv
(cd ref && "$bin" fit in.csv "${fit1[@]}" --out fit.json 2>"$tmp/stderr") || bad "reference fit failed: $(cat "$tmp/stderr")"
# accepts NAME: NAME/in.csv must fit to the reference bytes
accepts() {
  cases=$((cases+1))
  if ! (cd "$1" && "$bin" fit in.csv "${fit1[@]}" --out fit.json 2>"$tmp/stderr"); then
    bad "accepts $1: exit != 0: $(cat "$tmp/stderr")"; return
  fi
  cmp -s "$1/fit.json" ref/fit.json && ok || bad "accepts $1: fit differs from the reference"
}
mkdir -p crlf bom quoted blanklines nonewline na tiny; 
sed 's/$/\r/' base.csv >crlf/in.csv;                           accepts crlf
{ printf '\xef\xbb\xbf'; cat base.csv; } >bom/in.csv;          accepts bom
sed 's/[^,]*/"&"/g; 1s/"model"/" model "/' base.csv >quoted/in.csv; accepts quoted
awk '{ print } NR % 5 == 0 { print "" }' base.csv >blanklines/in.csv; accepts blanklines
head -c -1 base.csv >nonewline/in.csv;                         accepts nonewline
awk -F, -v OFS=, 'NR > 1 { for (i = 5; i <= 7; i++) if ($i == "") $i = "NA" } 1' base.csv >na/in.csv; accepts na
# a score that underflows a double is 0 (then clipped), not an error
awk -F, -v OFS=, 'NR == 2 { print; $1 = "tiny"; $5 = "1e-400"; $6 = $7 = ""; print; next } 1' base.csv >tiny/in.csv
cases=$((cases+1))
if (cd tiny && "$bin" fit in.csv "${fit1[@]}" --out fit.json 2>"$tmp/stderr"); then
  grep -q '"clipped_cells": 1,' tiny/fit.json && ok || bad "1e-400 not counted as a clipped score"
else bad "1e-400 rejected: $(cat "$tmp/stderr")"; fi

# Quoted fields with embedded commas, quotes and newlines; a text column;
# a 1 MB model name: parsed, kept, fitted.
cases=$((cases+1))
{ head -1 base.csv | sed 's/$/,notes/'
  printf '"fam0001,3.78b ""base""",%s,"x\nsecond line"\n' "$(sed -n 2p base.csv | cut -d, -f2-)"
  tail -n +3 base.csv | sed 's/,fam0002,/,"fam0002, the\nsecond",/; s/$/,ok/'
} >embedded.csv
if "$bin" fit embedded.csv "${fit1[@]}" --out embedded.json 2>"$tmp/stderr"; then
  grep -qF '"fam0002, the\nsecond"' embedded.json && ok || bad "embedded newline family name lost"
else bad "embedded commas/newlines rejected: $(cat "$tmp/stderr")"; fi
cases=$((cases+1))
{ head -1 base.csv; head -c 1048576 /dev/zero | tr '\0' m; sed -n 2p base.csv | sed 's/^[^,]*//'; tail -n +3 base.csv; } >longname.csv
if "$bin" fit longname.csv "${fit1[@]}" --out longname.json 2>"$tmp/stderr"; then
  grep -q '"models": 25,' longname.json && ok || bad "1 MB model name: wrong model count"
else bad "1 MB model name rejected: $(cat "$tmp/stderr")"; fi
rm -f longname.json embedded.json

# ---------------------------------------------------------------------------
# --quiet: nothing on stdout, the fit's warnings (here: too few families to
# calibrate) on stderr
cases=$((cases+1))
if ! "$bin" fit base.csv "${fit1[@]}" --out quiet.json >"$tmp/stdout" 2>"$tmp/stderr"; then bad "fit --quiet: exit $?"
elif [ -s "$tmp/stdout" ]; then bad "fit --quiet: stdout '$(cat "$tmp/stdout")'"
elif ! grep -q "^latentscale: warning: calibration: skipped: " "$tmp/stderr"; then
  bad "fit --quiet: the fit's warning is not on stderr: '$(cat "$tmp/stderr")'"
else ok; fi
rm -f quiet.json

# Killed and interrupted runs: a fit long enough to be caught mid-run, over
# an existing output.  SIGKILL leaves the old output and no temporary file;
# SIGINT and SIGTERM stop at the next safe point with exit 130 and write
# nothing.
"$bin" simulate --n-families 300 --skills 3 --seed 5 --out big.csv >/dev/null || bad "simulate big"
for sig in KILL INT TERM; do
  cases=$((cases+1))
  cp "$tmp/old.ref" old.json
  "$bin" fit big.csv --skills 3 --threads 1 --quiet --out old.json >/dev/null 2>"$tmp/stderr" &
  pid=$!
  sleep 1
  if ! kill -0 "$pid" 2>/dev/null; then bad "SIG$sig: the fit ended before the signal"; wait "$pid"; continue; fi
  kill -s "$sig" "$pid"
  { wait "$pid"; } 2>/dev/null; rc=$?
  want=137; [ "$sig" = KILL ] || want=130
  [ "$rc" -eq "$want" ] || { bad "SIG$sig: exit $rc, expected $want"; continue; }
  if [ "$sig" != KILL ] && [ "$(cat "$tmp/stderr")" != "latentscale: interrupted" ]; then
    bad "SIG$sig: stderr '$(cat "$tmp/stderr")'"; continue
  fi
  cmp -s old.json "$tmp/old.ref" || { bad "SIG$sig: old output modified"; continue; }
  litter=$(find . -name 'old.json.tmp.*')
  [ -z "$litter" ] || { bad "SIG$sig: temporary files left: $litter"; rm -f $litter; continue; }
  ok
done

# The same for evaluate --select (its nested selection: fits in parallel; a
# cancelled run once exited 4 with an empty message).
cases=$((cases+1))
cp "$tmp/old.ref" old.json
"$bin" evaluate big.csv --holdout largest --select 1..3 --threads 2 --quiet --out old.json >/dev/null 2>"$tmp/stderr" &
pid=$!
sleep 1
if ! kill -0 "$pid" 2>/dev/null; then bad "evaluate --select: ended before the signal"; wait "$pid"
else
  kill -s INT "$pid"
  { wait "$pid"; } 2>/dev/null; rc=$?
  if [ "$rc" -ne 130 ]; then bad "evaluate --select, SIGINT: exit $rc, expected 130"
  elif [ "$(cat "$tmp/stderr")" != "latentscale: interrupted" ]; then bad "evaluate --select, SIGINT: stderr '$(cat "$tmp/stderr")'"
  elif ! cmp -s old.json "$tmp/old.ref"; then bad "evaluate --select, SIGINT: old output modified"
  else ok; fi
fi

# The same for the cross-validated ridge of a factor fit (factor --ridge
# auto: about 45 fits; interrupted within its cross-validation).
awk 'BEGIN { srand(3); printf "Q1"; for (j = 2; j <= 40; j++) printf ",Q%d", j; print "";
  for (i = 0; i < 4000; i++) { t = 4 * (rand() - 0.5); printf "%d", rand() < 1 / (1 + exp(-t));
    for (j = 2; j <= 40; j++) printf ",%d", rand() < 1 / (1 + exp(-t)); print "" } }' >cvbig.csv
cases=$((cases+1))
cp "$tmp/old.ref" old.json
"$bin" factor cvbig.csv --items 'Q*' --factors 2 --ridge auto --threads 1 --quiet --out old.json >/dev/null 2>"$tmp/stderr" &
pid=$!
sleep 1
if ! kill -0 "$pid" 2>/dev/null; then bad "factor --ridge auto: ended before the signal"; wait "$pid"
else
  kill -s INT "$pid"
  { wait "$pid"; } 2>/dev/null; rc=$?
  if [ "$rc" -ne 130 ]; then bad "factor --ridge auto, SIGINT: exit $rc, expected 130"
  elif [ "$(cat "$tmp/stderr")" != "latentscale: interrupted" ]; then bad "factor --ridge auto, SIGINT: stderr '$(cat "$tmp/stderr")'"
  elif ! cmp -s old.json "$tmp/old.ref"; then bad "factor --ridge auto, SIGINT: old output modified"
  else ok; fi
fi

echo "$cases cases; $pass passed, $fail failed"
[ $fail -eq 0 ]
