#!/usr/bin/env bash
# Run the fast test programs, and one small command-line fit and report, under valgrind
# memcheck: any invalid access, use of uninitialised memory or definite leak
# fails. Usage: scripts/valgrind.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
supp="$PWD/scripts/valgrind.supp"
vg=(valgrind --quiet --trace-children=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --suppressions="$supp")
export OMP_NUM_THREADS=1
# the tests that check many configurations check a representative few
export LS_TEST_QUICK=1
fail=0
for t in csv data sparse special integration models optimisation output cli_args; do
  if "${vg[@]}" "$build/tests/test_$t" >"$build/valgrind_$t.log" 2>&1; then
    echo "valgrind: test_$t clean"
  else
    echo "valgrind: test_$t FAILED (exit $?):"; tail -40 "$build/valgrind_$t.log"; fail=1
  fi
done
# marginal ML of the factor model: the quadrature engine, Louis' identity,
# and a whole fit (the LSAT data: 1000 x 5)
if LS_TEST_ONLY=shift_derivative_matches_differences,analytic_information_matches_differences,mml_reproduces_the_published_lsat6_2pl \
   "${vg[@]}" "$build/tests/test_factor_mml" >"$build/valgrind_factor_mml.log" 2>&1; then
  echo "valgrind: test_factor_mml (engine, information, LSAT fit) clean"
else
  echo "valgrind: test_factor_mml FAILED (exit $?):"; tail -40 "$build/valgrind_factor_mml.log"; fail=1
fi
# the cross-validated ridge: its folds, a whole auto fit (the cancel test
# runs one), its options and entries
if LS_TEST_ONLY=folds_keep_every_person_and_item_in_training,options_entries_and_cancel \
   "${vg[@]}" "$build/tests/test_factor_ridge" --quick >"$build/valgrind_factor_ridge.log" 2>&1; then
  echo "valgrind: test_factor_ridge (folds, an auto fit) clean"
else
  echo "valgrind: test_factor_ridge FAILED (exit $?):"; tail -40 "$build/valgrind_factor_ridge.log"; fail=1
fi
# joint ML over the observed cells: the long reader, a sparse fit with its
# standard errors, the unit derivatives
if LS_TEST_ONLY=unit_derivatives_match_finite_differences,long_tables_read_like_wide_ones,sparse_long_data_are_fitted_from_the_observed_cells \
   "${vg[@]}" "$build/tests/test_factor" >"$build/valgrind_factor.log" 2>&1; then
  echo "valgrind: test_factor (long tables, a sparse fit) clean"
else
  echo "valgrind: test_factor FAILED (exit $?):"; tail -40 "$build/valgrind_factor.log"; fail=1
fi
# the calibration: folds of refits and predictions, per-benchmark levels, the fit file
if LS_TEST_ONLY=calibration_maps_levels_by_order_statistics,calibration_folds_predict_every_sibling_once \
   "${vg[@]}" "$build/tests/test_tasks" >"$build/valgrind_tasks.log" 2>&1; then
  echo "valgrind: test_tasks (calibration) clean"
else
  echo "valgrind: test_tasks FAILED (exit $?):"; tail -40 "$build/valgrind_tasks.log"; fail=1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the command-line fit: K = 2, so the anchors' choice from the data runs;
# not calibrated (the calibration ran under valgrind above, in test_tasks)
if "${vg[@]}" "$build/latentscale" simulate --n-families 12 --skills 1 --seed 3 --out "$tmp/s.csv" >"$build/valgrind_cli.log" 2>&1 &&
   "${vg[@]}" "$build/latentscale" fit "$tmp/s.csv" --skills 2 --starts 1 --no-calibrate --quiet --out "$tmp/f.json" >>"$build/valgrind_cli.log" 2>&1; then
  echo "valgrind: latentscale simulate + fit clean"
  if "${vg[@]}" "$build/latentscale" report "$tmp/f.json" "$tmp/s.csv" --out "$tmp/r.html" >>"$build/valgrind_cli.log" 2>&1; then
    echo "valgrind: latentscale report clean"
  else
    echo "valgrind: latentscale report FAILED:"; tail -40 "$build/valgrind_cli.log"; fail=1
  fi
else
  echo "valgrind: latentscale simulate/fit FAILED:"; tail -40 "$build/valgrind_cli.log"; fail=1
fi
exit $fail
