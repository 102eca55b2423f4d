"""Build the latentscale Python package with the C library inside it.

The metadata is in pyproject.toml; this file adds what it cannot say:

  * the version, read from the top-level CMakeLists.txt
    (`project(latentscale VERSION x.y.z)`), the one place the C library takes
    it from; the header's LS_VERSION and the binding's HEADER_VERSION
    (latentscale/_capi.py, the header its ctypes declarations mirror) must
    agree with it, or the build stops, because a binding whose version
    differs from its library's refuses to load it;
  * a build step that configures the C library with CMake in a temporary
    folder (`-DLS_WERROR=OFF -DCMAKE_BUILD_TYPE=Release -DLS_BUILD_TESTS=OFF`),
    builds only the `latentscale` shared-library target and puts
    liblatentscale.so into the package, where latentscale/_capi.py looks
    first (after $LATENTSCALE_LIB);
  * an sdist that carries the C sources the library needs (CMakeLists.txt,
    include/, src/) under csrc/, since they live outside this folder;
  * a wheel tagged py3-none-<platform>: no Python extension, but a native
    library.

The C sources are csrc/ in an sdist, else the repository around this folder
(python/..).  Building needs cmake, a C compiler, pkg-config and the
development packages of GSL, jansson and liblbfgs (scripts/install-deps.sh);
running needs their shared libraries.  CMAKE_BUILD_PARALLEL_LEVEL sets the
compile jobs (default: the number of CPUs).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
LIBNAME = "liblatentscale.so"
SDIST_C_DIR = "csrc"
# What CMakeLists.txt needs for the library alone: with LS_BUILD_TESTS=OFF
# (and LS_FUZZ off, its default) it adds no subdirectory.
C_SOURCES = ("CMakeLists.txt", "include", "src")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _c_root():
    """The folder holding the library's CMakeLists.txt, include/ and src/."""
    for root in (os.path.join(HERE, SDIST_C_DIR), os.path.dirname(HERE)):
        if all(os.path.exists(os.path.join(root, p)) for p in C_SOURCES):
            return root
    sys.exit("latentscale: the C sources (%s) are neither in %s nor in %s"
             % (", ".join(C_SOURCES), os.path.join(HERE, SDIST_C_DIR), os.path.dirname(HERE)))


def _version(root):
    """project(latentscale VERSION x.y.z), checked against the header and the binding."""
    cmake = os.path.join(root, "CMakeLists.txt")
    m = re.search(r"^\s*project\(\s*latentscale\s+VERSION\s+([0-9]+(?:\.[0-9]+)*)", _read(cmake),
                  re.M | re.I)
    if not m:
        sys.exit("latentscale: no `project(latentscale VERSION x.y.z)` in %s" % cmake)
    version = m.group(1)
    others = (
        (os.path.join(root, "include", "latentscale.h"), r'#define\s+LS_VERSION\s+"([^"]*)"'),
        (os.path.join(HERE, "latentscale", "_capi.py"), r'^HEADER_VERSION\s*=\s*"([^"]*)"'),
    )
    for path, pattern in others:
        found = re.search(pattern, _read(path), re.M)
        if not found or found.group(1) != version:
            sys.exit("latentscale: %s says version %s, CMakeLists.txt says %s; change them together"
                     % (path, found.group(1) if found else "nothing", version))
    return version


def _build_library(root, dest):
    """Configure and build the `latentscale` target in a temporary folder; copy the .so to dest."""
    cmake = shutil.which("cmake")
    if cmake is None:
        sys.exit("latentscale: building the C library needs cmake (Debian: apt-get install cmake)")
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="latentscale-cmake-") as tmp:
        for cmd in ([cmake, "-S", root, "-B", tmp, "-DLS_WERROR=OFF", "-DCMAKE_BUILD_TYPE=Release",
                     "-DLS_BUILD_TESTS=OFF", "-DLS_FAULT_INJECTION=OFF"],
                    [cmake, "--build", tmp, "--target", "latentscale", "--parallel", jobs]):
            print("latentscale: " + " ".join(cmd), flush=True)
            subprocess.check_call(cmd)
        built = os.path.join(tmp, LIBNAME)
        if not os.path.isfile(built):
            sys.exit("latentscale: CMake built no %s in %s" % (LIBNAME, tmp))
        os.makedirs(dest, exist_ok=True)
        shutil.copyfile(built, os.path.join(dest, LIBNAME))
        os.chmod(os.path.join(dest, LIBNAME), 0o755)


class BuildPyWithLibrary(build_py):
    """build_py, then the C library into the built package (never the source tree)."""

    def run(self):
        super().run()
        if not self.dry_run:
            _build_library(_c_root(), os.path.join(self.build_lib, "latentscale"))


class SdistWithCSources(sdist):
    """sdist, plus CMakeLists.txt, include/ and src/ under csrc/."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        root = _c_root()
        dest = os.path.join(base_dir, SDIST_C_DIR)
        os.makedirs(dest, exist_ok=True)
        for name in C_SOURCES:
            src = os.path.join(root, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(dest, name), dirs_exist_ok=True)
            else:
                shutil.copyfile(src, os.path.join(dest, name))


class BinaryDistribution(Distribution):
    """A distribution with a native library: installed to platlib, wheel not pure."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildPyWithLibrary, "sdist": SdistWithCSources}

try:
    from wheel.bdist_wheel import bdist_wheel

    class PlatformWheel(bdist_wheel):
        """A wheel for any Python 3 on this platform: ctypes, but a native .so inside."""

        def get_tag(self):
            return ("py3", "none", super().get_tag()[2])

    cmdclass["bdist_wheel"] = PlatformWheel
except ImportError:  # no wheel package: an sdist still builds, a wheel cannot
    from setuptools import Command

    class NoWheel(Command):
        """Stands in for bdist_wheel (and dist_info's use of it) to say what is missing."""
        user_options = []

        def initialize_options(self):
            pass

        def finalize_options(self):
            sys.exit("latentscale: building a wheel needs the 'wheel' package, which %s lacks "
                     "(Debian: apt-get install python3-wheel, then use Debian's /usr/bin/python3, "
                     "or a venv made from it with --system-site-packages)" % sys.executable)

        def run(self):
            pass

    cmdclass["bdist_wheel"] = NoWheel

setup(version=_version(_c_root()), packages=["latentscale"], license_files=["LICENSE"],
      distclass=BinaryDistribution, cmdclass=cmdclass)
