#!/usr/bin/env bash
# The R package (r/): R CMD build, R CMD check --no-manual (its testthat
# suite compares ls_fit, ls_factor and ls_gpcm with the command line's JSON),
# then R CMD INSTALL into a temporary library and library(latentscale) from
# an empty folder (the rpath to the build folder).
#   tests/test_r_package.sh BUILD_DIR SOURCE_DIR
# Exits 77 (skipped) without R, testthat or jsonlite (Debian: r-base-dev
# r-cran-testthat r-cran-jsonlite; scripts/install-deps.sh).  Fails on any
# ERROR or WARNING of the check.  Data: LATENTSCALE_DATA, else
# SOURCE_DIR/../shared/data (the bfi tests skip without it).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
if ! command -v R >/dev/null 2>&1 || ! command -v Rscript >/dev/null 2>&1; then
  echo "test_r_package: R is not installed (apt-get install r-base-dev r-cran-testthat r-cran-jsonlite): skipped"
  exit 77
fi
if ! Rscript -e 'quit(status = !all(sapply(c("testthat", "jsonlite"), requireNamespace, quietly = TRUE)))' >/dev/null 2>&1; then
  echo "test_r_package: the R packages testthat and jsonlite are missing (r-cran-testthat r-cran-jsonlite): skipped"
  exit 77
fi
export LATENTSCALE_INCLUDE="$src/include" LATENTSCALE_LIBDIR="$build"
export LATENTSCALE_CLI="$build/latentscale"
export LATENTSCALE_DATA="${LATENTSCALE_DATA:-$src/../shared/data}"
export _R_CHECK_FUTURE_FILE_TIMESTAMPS_=FALSE _R_CHECK_FORCE_SUGGESTS_=FALSE
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

R CMD build --no-build-vignettes "$src/r" >build.log 2>&1 || { cat build.log; exit 1; }
tarball=$(ls latentscale_*.tar.gz)
R CMD check --no-manual "$tarball" >check.log 2>&1 || true
tail -n 25 check.log
testlog=latentscale.Rcheck/tests/testthat.Rout
[ -f "$testlog" ] && grep -E "^\[ FAIL|SKIP" "$testlog" | tail -n 3 || true
status=$(grep -E "^Status:" check.log || true)
if [ -z "$status" ] || echo "$status" | grep -qE "ERROR|WARNING"; then
  echo "test_r_package: R CMD check failed: ${status:-no status line}"
  [ -f latentscale.Rcheck/00install.out ] && tail -n 30 latentscale.Rcheck/00install.out
  [ -f "$testlog.fail" ] && tail -n 40 "$testlog.fail"
  exit 1
fi

mkdir lib empty
R CMD INSTALL --library="$work/lib" "$tarball" >install.log 2>&1 || { cat install.log; exit 1; }
cd empty
env -u LATENTSCALE_LIBDIR -u LATENTSCALE_INCLUDE R_LIBS="$work/lib" \
  Rscript -e 'library(latentscale); cat("latentscale", ls_version(), "loads from an empty folder\n")' \
  || { echo "test_r_package: library(latentscale) failed after R CMD INSTALL"; exit 1; }
echo "test_r_package: $status"
