#!/usr/bin/env bash
# The example notebook runs: examples/scaling_law.ipynb executed top to bottom
# by `jupyter nbconvert --to notebook --execute` (any failing cell fails the
# test) against the build's library (PYTHONPATH=python, LATENTSCALE_LIB), on
# the paper's leaderboard in DATA_DIR.  Also checks that the committed
# notebook carries no outputs.  Skips (77) without DATA_DIR; fails, saying
# so, without nbconvert, ipykernel or matplotlib (scripts/install-deps.sh).
#
# Usage: test_notebook.sh PYTHON3 LIBRARY SOURCE_DIR DATA_DIR
set -euo pipefail
usage="usage: test_notebook.sh PYTHON3 LIBRARY SOURCE_DIR DATA_DIR"
py=${1:?$usage}; lib=${2:?$usage}; src=$(cd "${3:?$usage}" && pwd); data=${4:?$usage}
nb="$src/examples/scaling_law.ipynb"

if [ ! -f "$data/openllm_merged.csv" ] || [ ! -f "$data/benchmarks.csv" ]; then
  echo "SKIP: $data holds no openllm_merged.csv and benchmarks.csv (the paper's leaderboard)"
  exit 77
fi
data=$(cd "$data" && pwd)
for m in nbconvert nbformat ipykernel matplotlib numpy; do
  "$py" -c "import $m" >/dev/null 2>&1 || {
    echo "FAIL: $py cannot import $m (Debian: apt-get install jupyter-nbconvert python3-nbformat" \
         "python3-ipykernel python3-matplotlib python3-numpy; scripts/install-deps.sh)"; exit 1; }
done

# Outputs are stripped before committing: a clean diff, no stale figures.
"$py" - "$nb" <<'PYEOF'
import sys
import nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
dirty = [i for i, c in enumerate(nb.cells)
         if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
if dirty:
    sys.exit("FAIL: %s: code cells %s carry outputs; clear them (jupyter nbconvert "
             "--clear-output --inplace)" % (sys.argv[1], dirty))
PYEOF

tmp=$(mktemp -d "${TMPDIR:-/tmp}/latentscale-notebook.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PYTHONPATH="$src/python" LATENTSCALE_LIB="$lib" LS_SHARED_DATA="$data"
export IPYTHONDIR="$tmp/ipython" MPLCONFIGDIR="$tmp/mpl"
export PYDEVD_DISABLE_FILE_VALIDATION=1 OMP_WAIT_POLICY=passive
start=$(date +%s)
rc=0
"$py" -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
  --output-dir "$tmp" "$nb" >"$tmp/nbconvert.log" 2>&1 || rc=$?
# (ipykernel's debugger complains about frozen modules on every start: noise)
grep -v -E 'Debugger warning|frozen modules|Xfrozen_modules|Debugging will proceed' \
  "$tmp/nbconvert.log" || true
[ $rc -eq 0 ] || { echo "FAIL: jupyter nbconvert --execute exited $rc (a cell failed?)"; exit 1; }
# the executed copy: every code cell ran, none raised, the figures are there
"$py" - "$tmp/scaling_law.ipynb" <<'PYEOF'
import sys
import nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
code = [c for c in nb.cells if c.cell_type == "code"]
errors = [o for c in code for o in c.outputs if o.output_type == "error"]
figures = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
ran = sum(c.execution_count is not None for c in code)
print("notebook: %d code cells ran, %d figures, %d errors" % (ran, figures, len(errors)))
if errors or ran != len(code) or figures < 4:
    sys.exit("FAIL: expected every cell to run, no error and 4 figures")
PYEOF
echo "notebook: executed in $(( $(date +%s) - start )) s"
