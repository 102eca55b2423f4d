#!/usr/bin/env bash
# Install what latentscale needs on Debian 12 (as root, or with sudo).
set -euo pipefail
pkgs="build-essential cmake pkg-config libgsl-dev libjansson-dev liblbfgs-dev clang valgrind python3 python3-numpy chromium chromium-driver python3-selenium"
# The Python package (python_wheel test) and the example notebook (notebook test).
pkgs="$pkgs python3-pip python3-setuptools python3-wheel python3-venv python3-build"
pkgs="$pkgs python3-matplotlib jupyter-nbconvert python3-ipykernel python3-nbformat"
# pandas, optional for users: the tests check the DataFrames with the real one.
pkgs="$pkgs python3-pandas"
# The R package (r/, r_package test).
pkgs="$pkgs r-base-dev r-cran-testthat r-cran-jsonlite"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
