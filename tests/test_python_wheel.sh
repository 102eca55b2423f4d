#!/usr/bin/env bash
# The Python package as a user gets it: build the sdist and, from it, the
# wheel (python3 -m build --no-isolation, setup.py compiling the C library
# with CMake), check what they carry, install the wheel into a fresh virtual
# environment (--system-site-packages, for Debian's numpy) and run the
# binding's test suite against the installed package: from an empty folder,
# with no PYTHONPATH and no LATENTSCALE_LIB, so the package and its
# liblatentscale.so must come from the environment.
#
# Usage: test_python_wheel.sh PYTHON3 LATENTSCALE_CLI SOURCE_DIR
# Exits 77 (skip), saying so, when pip, venv, setuptools, wheel or build are
# missing (Debian: python3-pip python3-venv python3-setuptools python3-wheel
# python3-build; scripts/install-deps.sh).
set -euo pipefail
py=${1:?usage: test_python_wheel.sh PYTHON3 LATENTSCALE_CLI SOURCE_DIR}
cli=${2:?usage: test_python_wheel.sh PYTHON3 LATENTSCALE_CLI SOURCE_DIR}
src=$(cd "${3:?usage: test_python_wheel.sh PYTHON3 LATENTSCALE_CLI SOURCE_DIR}" && pwd)

missing=""
for m in pip venv ensurepip setuptools wheel build numpy; do
  "$py" -c "import $m" >/dev/null 2>&1 || missing="$missing $m"
done
if [ -n "$missing" ]; then
  echo "SKIP: $py lacks$missing (Debian: apt-get install python3-pip python3-venv" \
       "python3-setuptools python3-wheel python3-build python3-numpy)"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/latentscale-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset PYTHONPATH LATENTSCALE_LIB PYTHONHOME
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# A copy of what the package build reads, so that the build's by-products
# (egg-info, build/) stay out of the source tree.
mkdir -p "$tmp/src/python"
cp -R "$src/CMakeLists.txt" "$src/LICENSE" "$src/include" "$src/src" "$tmp/src/"
(cd "$src/python" && tar cf - --exclude=dist --exclude=build --exclude='*.egg-info' \
   --exclude=__pycache__ --exclude=tests .) | (cd "$tmp/src/python" && tar xf -)

echo "== python3 -m build --no-isolation (sdist, then the wheel from it)"
"$py" -m build --no-isolation --outdir "$tmp/dist" "$tmp/src/python" >"$tmp/build.log" 2>&1 ||
  { tail -40 "$tmp/build.log"; echo "FAIL: python3 -m build"; exit 1; }
version=$("$cli" --version | awk '{print $2}')
sdist="$tmp/dist/latentscale-$version.tar.gz"
wheel=$(ls "$tmp/dist"/latentscale-"$version"-py3-none-*.whl 2>/dev/null || true)
[ -f "$sdist" ] || { ls "$tmp/dist"; echo "FAIL: no sdist for version $version (the CLI's)"; exit 1; }
[ -n "$wheel" ] || { ls "$tmp/dist"; echo "FAIL: no py3-none wheel for version $version"; exit 1; }

fail=0
check() {  # check LISTING PATTERN WHAT: the listing must (or, with !, must not) hold PATTERN
  local listing=$1 neg="" pat=$2 what=$3
  [ "${pat:0:1}" = "!" ] && { neg=1; pat=${pat:1}; }
  if grep -qE "$pat" "$listing"; then
    [ -z "$neg" ] || { echo "FAIL: $what"; fail=1; }
  else
    [ -n "$neg" ] || { echo "FAIL: $what"; fail=1; }
  fi
}
tar tzf "$sdist" >"$tmp/sdist.txt"
"$py" -c "import sys, zipfile; print('\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))" "$wheel" \
  >"$tmp/wheel.txt"
"$py" -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
n = [x for x in z.namelist() if x.endswith('.dist-info/METADATA')][0]; print(z.read(n).decode())" \
  "$wheel" >"$tmp/metadata.txt"
check "$tmp/sdist.txt" '/csrc/CMakeLists\.txt$' "the sdist carries CMakeLists.txt"
check "$tmp/sdist.txt" '/csrc/include/latentscale\.h$' "the sdist carries the public header"
check "$tmp/sdist.txt" '/csrc/src/kernel/core\.c$' "the sdist carries src/"
check "$tmp/sdist.txt" '^latentscale-[^/]*/LICENSE$' "the sdist carries LICENSE"
check "$tmp/sdist.txt" '!/(tests|bench|fuzz)/' "the sdist leaves tests/, bench/ and fuzz/ out"
check "$tmp/wheel.txt" '^latentscale/liblatentscale\.so$' "the wheel carries liblatentscale.so"
check "$tmp/wheel.txt" '^latentscale/api\.py$' "the wheel carries the binding"
check "$tmp/wheel.txt" '\.dist-info/LICENSE$' "the wheel carries LICENSE"
check "$tmp/metadata.txt" '^License: GPL-3\.0-or-later$' "the metadata declare GPL-3.0-or-later"
check "$tmp/metadata.txt" "^Version: ${version//./\\.}\$" "the metadata's version is the CLI's ($version)"
check "$tmp/metadata.txt" '^Requires-Dist: numpy' "the metadata require numpy"
check "$tmp/metadata.txt" "^Requires-Dist: pandas ?; ?extra == .pandas.$" "pandas is an optional extra"
[ $fail -eq 0 ] || { echo "-- sdist:"; cat "$tmp/sdist.txt" | grep -v /csrc/src/; echo "-- wheel:";
                     cat "$tmp/wheel.txt"; exit 1; }
echo "sdist $(basename "$sdist"): $(wc -l <"$tmp/sdist.txt") entries; wheel $(basename "$wheel"):" \
     "$(wc -l <"$tmp/wheel.txt") entries"

echo "== pip install into a fresh virtual environment"
"$py" -m venv --system-site-packages "$tmp/venv"
vpy="$tmp/venv/bin/python"
"$vpy" -m pip install --no-index --no-build-isolation "$wheel" >"$tmp/pip.log" 2>&1 ||
  { cat "$tmp/pip.log"; echo "FAIL: pip install of the wheel"; exit 1; }

echo "== the test suite against the installed package"
mkdir -p "$tmp/run"
cp -R "$src/python/tests" "$tmp/run/tests"
rm -rf "$tmp/run/tests/__pycache__"
cd "$tmp/run"
"$vpy" - "$tmp/venv" <<'EOF'
import os, sys
import latentscale as ls
venv = os.path.realpath(sys.argv[1]) + os.sep
where, lib = os.path.realpath(ls.__file__), os.path.realpath(ls.library_path())
print("latentscale %s from %s, library %s" % (ls.__version__, where, lib))
assert where.startswith(venv), "latentscale was imported from %s, not the venv" % where
assert lib.startswith(venv), "liblatentscale.so was loaded from %s, not the venv" % lib
EOF
LATENTSCALE_CLI=$cli "$vpy" tests/run.py
