"""Run the binding's tests (CTest: `python`); exit 77 (skip) without numpy.

    LATENTSCALE_LIB=build/liblatentscale.so LATENTSCALE_CLI=build/latentscale \
        PYTHONPATH=python python3 python/tests/run.py
"""
import os
import sys
import unittest

try:
    import numpy  # noqa: F401
except ImportError:
    print("SKIP: numpy is not importable by %s (Debian: apt-get install python3-numpy)"
          % sys.executable)
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
suite = unittest.defaultTestLoader.discover(here, top_level_dir=here)
result = unittest.TextTestRunner(verbosity=2).run(suite)
if not result.wasSuccessful():
    sys.exit(1)
# everything skipped (e.g. no latentscale program): tell CTest it was a skip
sys.exit(77 if result.skipped and result.testsRun <= len(result.skipped) else 0)
