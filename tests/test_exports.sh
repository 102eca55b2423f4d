#!/usr/bin/env bash
# The shared library exports exactly the functions of the public header:
# every LS_API declaration of include/latentscale.h is a defined dynamic
# symbol of liblatentscale.so, and no other function is (the library is
# built with hidden visibility).  Usage: test_exports.sh LIB.so HEADER
set -u
lib=$1
header=$2
command -v nm >/dev/null || { echo "skip: nm not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n 's/^LS_API .*[ *]\(ls_[a-z_0-9]*\)(.*/\1/p' "$header" | sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" || $2 == "i" {print $3}' | sort -u >"$tmp/exported"
pass=0; fail=0
nd=$(wc -l <"$tmp/declared"); ne=$(wc -l <"$tmp/exported")
[ "$nd" -gt 100 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: only $nd LS_API declarations read from $header"; }
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -z "$extra" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: exported but not in the header:"; echo "$extra" | sed 's/^/  /'; fi
if [ -z "$missing" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: declared but not exported:"; echo "$missing" | sed 's/^/  /'; fi
# every function declared in the header carries LS_API
bare=$(grep -E '^(const |unsigned )?[a-z_0-9]+ \**ls_[a-z_0-9]+\(' "$header" || true)
if [ -z "$bare" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: declarations without LS_API:"; echo "$bare"; fi
echo "exported functions: $ne; LS_API declarations: $nd"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
