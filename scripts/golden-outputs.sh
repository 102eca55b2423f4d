#!/usr/bin/env bash
# Write the outputs of a fixed set of commands (the demo, the README's worked
# example, a factor fit and a partial credit fit on bfi) into OUTDIR, so that
# two builds can be compared byte for byte:
#   scripts/golden-outputs.sh build-old /tmp/old && scripts/golden-outputs.sh build /tmp/new
#   diff -r /tmp/old /tmp/new
# Needs ../shared/data; exits 77 without it.  Lines that report wall-clock
# time are dropped from the captured summaries (they differ between runs).
set -euo pipefail
build=${1:?usage: golden-outputs.sh BUILD_DIR OUTDIR}
out=${2:?usage: golden-outputs.sh BUILD_DIR OUTDIR}
here=$(cd "$(dirname "$0")/.." && pwd)
D=${LS_SHARED_DATA:-$here/../shared/data}
[ -f "$D/openllm_merged.csv" ] || { echo "golden-outputs: $D not found, nothing compared" >&2; exit 77; }
ls=$(cd "$build" && pwd)/latentscale
mkdir -p "$out"
cd "$out"
untimed() { grep -v -E '[0-9.]+ ?s( wall|\)|$)|seconds|elapsed' || true; }

mkdir -p demo
"$ls" demo --dir demo 2>demo.err | untimed >demo.txt
"$ls" fit "$D/openllm_merged.csv" --floors "$D/benchmarks.csv" \
  --benchmarks math,ifeval,hellaswag,bbh,mmlu-pro,mmlu,arc,truthfulqa,gsm8k,winogrande,gpqa,musr \
  --skills 3 --out fit3.json 2>fit3.err | untimed >fit3.txt
printf 'model,family,size,tokens\nqwen2-32b,qwen2,32,7\nnewlab-13b,newlab,13,4\n' >new.csv
"$ls" predict fit3.json "$D/openllm_merged.csv" --new new.csv --level 0.9 --out pred.csv >pred.txt 2>pred.err
"$ls" predict fit3.json "$D/openllm_merged.csv" --new new.csv --out pred.json >/dev/null 2>&1
"$ls" compare fit3.json "$D/openllm_merged.csv" --families yi-1.5-chat,yi-1.5 --out compare.json >compare.txt 2>compare.err
"$ls" optimal fit3.json --budgets 1e22,1e23,1e24 --out optimal.json >optimal.txt 2>optimal.err
"$ls" posterior fit3.json "$D/openllm_merged.csv" --family qwen2 --draws 200 --warmup 200 --out posterior.json >posterior.txt 2>posterior.err
"$ls" report fit3.json "$D/openllm_merged.csv" --highlight qwen2,qwen1.5,pythia \
  --compare yi-1.5-chat,yi-1.5 --out report.html >report.txt 2>report.err
"$ls" factor "$D/bfi.csv" --items 'A*,C*,E*,N*,O*' --dichotomise 4 --factors 5 \
  --identify anchor --anchors A2,C1,E3,N1,O1 --ridge 10 --out factor.json 2>factor.err | untimed >factor.txt
"$ls" factor "$D/bfi_psych.csv" --items 'A*,C*,E*,N*,O*' --dichotomise 4 --factors 1 \
  --covariates gender --dif --ridge 10 --out factor_dif.json 2>factor_dif.err | untimed >factor_dif.txt || true
{ echo "item,A,C,E,N,O"
  for s in A C E N O; do for k in 1 2 3 4 5; do
    printf '%s%s' "$s" "$k"; for t in A C E N O; do [ "$s" = "$t" ] && printf ',1' || printf ',0'; done; echo
  done; done; } >pattern.csv
"$ls" gpcm "$D/bfi.csv" --items 'A*,C*,E*,N*,O*' --pattern pattern.csv --out gpcm.json 2>gpcm.err | untimed >gpcm.txt
"$ls" gpcm "$D/bfi.csv" --items 'A*' --factors 1 --method mml --out gpcm_mml.json 2>gpcm_mml.err | untimed >gpcm_mml.txt
# the temporary folder's name in the demo's summary differs between runs
sed -i -e '/latentscale-demo-/d' demo.txt
echo "golden-outputs: $(ls | wc -l) files in $out"
