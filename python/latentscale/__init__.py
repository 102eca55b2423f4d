"""latentscale: the latent-variable scaling law for LLM families, from Python.

A ctypes binding over the C library's public API (include/latentscale.h):
no compiled extension, only numpy (pandas optional).  The functions mirror
the command line:

    import latentscale as ls
    sim = ls.simulate(families=60, skills=2, seed=7)          # Simulation
    fit = ls.fit(sim.data, skills=2, floors=dict(zip(sim.benchmarks, sim.floors)))
    fit.params.beta, fit.se["hessian"].beta, fit.loglik        # numpy arrays, floats
    pred = fit.predict({"model": ["m"], "family": ["fam0001"], "size": [7.0], "tokens": [2.0]})
    pred.median, pred.lower, pred.upper                        # n x J arrays
    fa = ls.factor("responses.csv", items="Q*", covariates=["x1"], factors=2, dif=True)
    fa.loadings, fa.dif.p_value                                # q x r, q x p arrays
    gp = ls.gpcm("scores.csv", pattern="pattern.csv")          # .slopes, .steps, .elbo

Tables (leaderboards, new models, splits) are a CSV path, a pandas DataFrame
or a dict of columns; size in billions of parameters, tokens in trillions.
Options left at None take the library's defaults (latentscale.defaults(task)).
Errors raise LatentscaleError subclasses carrying the C message; the warnings
of fits and results are issued as LatentscaleWarning.  fit.summary() is the
CLI's fit summary; results have to_dataframe() with labelled rows and columns.  The shared library is found through $LATENTSCALE_LIB (the .so or
its folder), next to the package, or in the repository's build folder.
"""
from ._capi import HEADER_VERSION as __version__
from ._capi import library_path, load_library
from .api import (Fit, Model, Summary, compare, defaults, evaluate, fit, load_fit, mae, optimal,
                  posterior, predict, report, select, simulate)
from .errors import (CancelledError, ConvergenceError, FileError, InputError, LatentscaleError,
                     LatentscaleWarning, LibraryNotFoundError, NumericalError, OptionError,
                     OutOfMemoryError, ParseError)
from .results import (Allocation, Comparison, Evaluation, Params, Posterior, Prediction, Selection,
                      Simulation)
from .psychometric import (DifTest, FactorFit, FactorSelection, FactorStandardErrors, GpcmFit,
                           GpcmStandardErrors, factor, gpcm)

__all__ = [
    "fit", "select", "predict", "evaluate", "optimal", "compare", "posterior", "simulate",
    "load_fit", "mae", "report", "defaults", "Summary", "Fit", "Model", "Params", "Simulation", "Prediction", "Posterior",
    "Comparison", "Selection", "Allocation", "Evaluation", "LatentscaleError", "FileError",
    "ParseError", "InputError", "OptionError", "OutOfMemoryError", "NumericalError",
    "ConvergenceError", "CancelledError", "LibraryNotFoundError", "LatentscaleWarning",
    "load_library", "library_path", "__version__",
    "factor", "gpcm", "FactorFit", "FactorStandardErrors", "DifTest", "FactorSelection",
    "GpcmFit", "GpcmStandardErrors",
]
