#!/usr/bin/env bash
# Regenerate the hand-made seed inputs in fuzz/corpus/ (the fuzzers add
# their own finds next to them when run with scripts/fuzz.sh --merge).
# Usage: fuzz/make_seeds.sh PATH/TO/latentscale
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/corpus"
base='model,family,size,tokens,math,ifeval,hellaswag
a-1b,a,1,2,0.20,0.31,0.40
a-7b,a,7,2,0.35,0.42,0.55
b-3b,b,3,1,0.22,0.25,0.47
b-8b,b,8,1.5,,0.38,0.52
c-0.5b,c,0.5,0.3,0.05,0.12,0.30
d-70b,d,70,15,0.62,0.71,0.83
e-2b,e,2,4,0.18,0.22,0.44
f-30b,f,30,3,0.50,0.58,
'
# --- csv: the parser
printf '%s' "$base" >csv/base.csv
printf '%s' "$base" | sed 's/$/\r/' >csv/crlf.csv
{ printf '\xef\xbb\xbf'; printf '%s' "$base"; } >csv/bom.csv
printf 'a,"b ""q""",c\n1,"x,y","two\nlines"\n"",,NA\n' >csv/quoted.csv
printf 'a,b\n1,2' >csv/no_newline.csv
printf 'a,b\n\n1,2\n\n' >csv/blank_lines.csv
printf 'a,b\n1,"open\n' >csv/unterminated.csv
printf 'a,b\n1,x"y\n' >csv/stray_quote.csv
printf 'a,b\n1,"x"y\n' >csv/after_quote.csv
printf 'a,b\n1,2\x00\n' >csv/nul.csv
printf 'a,b\n1,\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n2,\xff\n' >csv/utf8.csv
printf 'v\n1e-400\n1e999\nnan\ninf\n0x10\n 2.5 \n-0\n.5\n5.\n+1\n' >csv/numbers.csv
printf 'a,a\n1,2\n' >csv/dup_header.csv
printf 'a,,c\n' >csv/empty_header.csv
printf 'a\r1\r2\r' >csv/cr_only.csv
# --- data: OPTIONS %% [FLOORS %%] LEADERBOARD
printf '%s' "$base" >data/default.csv
{ printf 'b=hellaswag,math;c=log(size)*tokens,size;f=math=0.1;x=0.01\n%%%%\n'; printf '%s' "$base"; } >data/options.txt
{ printf 'x=0.001\n%%%%\nbenchmark,floor\nmath,0\nhellaswag,0.25\nzz,0.5\n%%%%\n'; printf '%s' "$base"; } >data/floors.txt
{ printf 'm=name;y=fam\n%%%%\n'; printf '%s' "$base" | sed '1s/model/name/; 1s/family/fam/'; } >data/columns.txt
printf '%s' "$base" | sed 's/,0.40$/,abc/' >data/text_cell.csv
printf '%s' "$base" | awk -F, -v OFS=, 'NR > 1 { $4 = $3 } 1' >data/collinear.csv
printf '%s' "$base" | awk -F, -v OFS=, 'NR > 1 && $6 != "" { $6 = "0.3" } 1' >data/constant_bench.csv
printf '%s' "$base" | sed 's/,notes//; 1s/$/,flops,notes/; 2,$s/$/,1,x/' >data/text_column.csv
printf 'c=log(size)*log(size)*log(size)*log(size)*log(size)\n%%%%\n%s' "$base" >data/factors.txt
# --- args: NUL-separated argv
printf 'data.csv\x00--skills\x00002\x00--out=f.json\x00--quiet\x00--\x00--x' >args/good
printf -- '--seed\x000018446744073709551615\x00--clip\x00001e-3\x00--gtol=0x1p-3' >args/numbers
printf -- '--skills\x00 -1\x00--starts\x00-1\x00--skils\x00-k' >args/bad
printf -- '--quiet=1\x00--out' >args/flag_value
printf 'a\x00b\x00c\x00d\x00e\x00f\x00g\x00h\x00i' >args/too_many
printf -- '--out\x00x\ny\x00--nope\nz' >args/newlines
# --- fit: one flag byte, then the leaderboard
for fl in 0 1 2 3 4 8; do { printf "\\x0$fl"; printf '%s' "$base"; } >fit/base_$fl.csv; done
{ printf '\x00'; printf '%s' "$base" | head -4; } >fit/tiny.csv
{ printf '\x00'; printf '%s' "$base" | awk -F, -v OFS=, 'NR > 1 { $2 = "one" } 1'; } >fit/one_family.csv
{ printf '\x00'; printf '%s' "$base" | awk -F, -v OFS=, 'NR > 1 { $5 = ($5 == "" ? "" : "0") } 1'; } >fit/zeros.csv
{ printf '\x00'; printf '%s' "$base" | awk -F, -v OFS=, 'NR > 1 { $7 = ($7 == "" ? "" : "1") } 1'; } >fit/ones.csv
# --- factor_data: OPTIONS %% CSV (read as a file: R's row names)
fq='id,g,h,Q1,Q2,Q3,Q4
1,0,0.5,1,0,1,1
2,1,-1.2,0,0,1,NA
3,0,2.0,1,1,,0
4,1,0.1,0,1,0,1
5,0,-0.3,1,1,1,0
'
printf '%s' "$fq" >factor_data/binary.csv
{ printf 'i=Q*;c=g,h;F=1\n%%%%\n'; printf '%s' "$fq"; printf '6,1,1.1,0,0,0,1\n'; } >factor_data/fit_covariates
printf 'i=A*,B1;d=3;a=A1,B1;r=2;F=1\n%%%%\n"",A1,A2,B1,B2\n"1",1,2,3,4\n"2",4,3,2,1\n"3",2,2,5,NA\n"4",5,1,1,3\n"5",3,4,4,2\n' >factor_data/rownames_dichotomise
printf 'i=Q1,Q2,Q3;f=1;F=1\n%%%%\nQ1,Q2,Q3\n0,2,5\n1,3,0\n4,0,1\n2,2,2\n' >factor_data/poisson
printf 'i=Q*;f=2;c=x;F=1;r=1\n%%%%\nQ1,Q2,Q3,x\n0.5,-1.2,3.3,1\n1.5,0.2,-0.3,2\n-0.5,1.1,0.9,3\n2.2,NA,1.0,1\n' >factor_data/gaussian
printf 'i=Q*;c=g\n%%%%\nQ1,Q2,g\n1,0,\n0,1,1\n' >factor_data/missing_covariate
printf 'i=Q*;c=g\n%%%%\nQ1,Q2,g\n1,0,1\n0,1,1\n' >factor_data/constant_covariate
printf 'i=Q*\n%%%%\nQ1,Q2,Q3\n1,0,2\n0,1,1\n' >factor_data/not_binary
printf 'i=Q1,Z9;c=Q1\n%%%%\nQ1,Q2\n1,0\n' >factor_data/unknown_column
printf 'L=p,i,y;c=g;F=1;M=1\n%%%%\np,i,y,g\na,Q1,1,0\na,Q2,0,0\nb,Q1,0,1\nb,Q2,1,1\nb,Q3,1,1\nc,Q3,0,0\nc,Q1,1,0\nd,Q2,1,1\nd,Q3,0,1\n' >factor_data/long_mml
printf 'L=p,i,y\n%%%%\np,i,y\na,Q1,1\na,Q1,0\nb,Q2,1\n' >factor_data/long_duplicate
printf 'L=p,i,y;c=g\n%%%%\np,i,y,g\na,Q1,1,0\na,Q2,0,1\nb,Q2,1,1\n' >factor_data/long_covariate_changes
printf 'i=Q*;F=1;M=1;r=2;a=Q1,Q3\n%%%%\nQ1,Q2,Q3,Q4\n1,0,1,1\n0,0,1,0\n1,1,0,0\n0,1,0,1\n1,1,1,0\n0,0,0,1\n' >factor_data/mml_two_factors
# --- gpcm_data: OPTIONS %% CSV (read as a file: R's row names)
printf '"",A1,A2,B1\n"1",1,2,3\n"2",2,NA,1\n"3",3,1,2\n"4",1,1,1\n' >gpcm_data/rownames.csv
printf 'i=A*,B1;F=1\n%%%%\nA1,A2,B1,x\n1,2,3,9\n2,NA,1,9\n3,1,2,9\n1,1,1,9\n2,3,3,9\n' >gpcm_data/fit
printf 'l=0;k=5\n%%%%\nA1,A2\n1,2\n2,4\n0,1\n' >gpcm_data/lowest_categories
printf 'i=A*\n%%%%\nA1,A2\n1,2\n2,2.5\n' >gpcm_data/not_integer
printf 'L=who,q,s\n%%%%\nwho,q,s\np1,A,0\np1,B,1\np2,A,2\np2,B,0\n' >gpcm_data/long
printf 'l=2\n%%%%\nA1,A2\n1,2\n2,3\n' >gpcm_data/below_lowest
printf 'i=A*;c=g,age;F=1\n%%%%\nA1,A2,A3,g,age\n0,1,2,0,31\n1,2,2,1,40\n2,0,1,0,25\n1,1,0,1,52\n2,2,1,0,33\n0,0,1,1,47\n' >gpcm_data/covariates
printf 'L=who,q,s;c=g\n%%%%\nwho,q,s,g\np1,A,0,1\np1,B,1,1\np2,A,2,0\np2,B,0,0\np3,A,1,1\np3,B,2,1\n' >gpcm_data/long_covariates
printf 'k=2\n%%%%\nA1,A2\n1,2\n2,3\n' >gpcm_data/above_categories
printf 'A1,A2\n1,1\n1,1\n' >gpcm_data/one_category.csv
# --- gpcm_pattern: SCORES.CSV %% PATTERN.CSV
printf 'A1,A2,B1,B2\n1,2,3,1\n2,1,1,2\n3,3,2,3\n1,2,2,1\n2,2,3,3\n%%%%\nitem,F1,F2\nB1,0,1\nA1,1,0\nA2,1,0\nB2,0,1\n' >gpcm_pattern/named
ps='A1,A2,B1\n1,2,3\n2,1,1\n3,3,2\n%%%%\n'
printf "${ps}f1,f2\n1,0\n1,1\n0,1\n" >gpcm_pattern/in_order
printf "${ps}item,f1\nA1,1\nQ9,1\nB1,1\n" >gpcm_pattern/unknown_item
printf "${ps}f1,f2\n1,0\n1,1\n0,2\n" >gpcm_pattern/not_01
printf "${ps}item,f1,f2\nA1,1,0\nA2,1,0\nB1,1,0\n" >gpcm_pattern/empty_factor
printf "${ps}item,f1\nA1,1\nA1,1\nB1,1\n" >gpcm_pattern/twice
# --- fitjson: fits of the harness's leaderboard
tmp=$(mktemp -d)
printf '%s' "$base" >"$tmp/lb.csv"
"$bin" fit "$tmp/lb.csv" --skills 1 --starts 1 --quiet --out "$tmp/k1.json" || true
"$bin" fit "$tmp/lb.csv" --skills 2 --starts 1 --no-se --quiet --out "$tmp/k2.json" || true
# an estimated ceiling: kappa in theta, ceilings_estimated, options.estimate_ceilings
"$bin" fit "$tmp/lb.csv" --skills 1 --starts 1 --estimate-ceilings hellaswag --quiet --out "$tmp/k1c.json" || true
# the version as "@V", which fuzz_fitjson replaces by the build's
for s in k1:k1 k2:k2_no_se k1c:k1_ceiling; do
  sed 's/"version": "[^"]*"/"version": "@V"/' "$tmp/${s%%:*}.json" >"fitjson/${s##*:}.json"
done
# a calibration block written by hand (the leaderboard has too few families with two models to calibrate)
sed 's/"warnings": \[/"calibration": {"models": 5, "cells": 6, "pit": [0.01, 0.1, 0.2, 0.5, 0.6, 0.9], "folds": 5, "pit_by_benchmark": {"math": [0.01, 0.6], "ifeval": [0.1, 0.2, 0.9], "hellaswag": [0.5]}}, "warnings": [/' \
  fitjson/k1.json >fitjson/k1_calibrated.json
printf '{"version": "0.0.9"}\n' >fitjson/old_version.json
printf '{"version": "@V", "skills": 1}\n' >fitjson/truncated.json
printf '[1, 2' >fitjson/invalid.json
rm -rf "$tmp"
