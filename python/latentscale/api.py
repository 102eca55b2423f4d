"""The functions of the binding, one per command of the command line.

Each builds the C options from explicit keyword arguments (the CLI's option
names with '-' as '_'; None, the default, keeps the value the library's
ls_*_options_init sets, see defaults()), calls the public API, copies the
result into plain Python objects and frees every C object before returning
(try/finally), also when the call fails.  Failures raise the
LatentscaleError subclass of the C status, with the C message.
"""
import ctypes
import functools
import json
import math
import numbers
import os
import tempfile
import warnings
import weakref
from collections.abc import Mapping
from ctypes import byref, c_double, c_void_p

import numpy as np

from . import _capi as C
from . import _tables
from ._docs import document
from .errors import LatentscaleError, LatentscaleWarning, OptionError, python_words
from .results import (Allocation, Comparison, Entries, Evaluation, Params, Posterior, Prediction, Selection,
                      Simulation)

_U64 = 2 ** 64 - 1
_UINT = 2 ** 32 - 1
_INTEGRATION = {"auto": C.LS_INT_AUTO, "laplace": C.LS_INT_LAPLACE, "gh": C.LS_INT_GH,
                "qmc": C.LS_INT_QMC, "sparse": C.LS_INT_SPARSE}
_SE_KINDS = {"hessian": C.LS_SE_HESSIAN, "opg": C.LS_SE_OPG, "sandwich": C.LS_SE_SANDWICH}


# ---------------------------------------------------------------------------
# Copying C arrays out
# ---------------------------------------------------------------------------

def _arr(ptr, *shape):
    """Copy of a double array (row-major) as a numpy array, or None for NULL."""
    if not ptr:
        return None
    n = int(np.prod(shape)) if shape else 0
    if n == 0:
        return np.empty(shape)
    return np.ctypeslib.as_array(ptr, shape=(n,)).copy().reshape(shape)


def _ints(ptr, n):
    if not ptr or n == 0:
        return np.empty(0, dtype=np.int64)
    return np.ctypeslib.as_array(ptr, shape=(n,)).astype(np.int64)


def _strs(pp, n):
    return [C.dec(pp[i]) for i in range(n)] if pp else []


def _params(pr, with_gamma=True, with_ceilings=False):
    """An LsParams (by value) -> Params."""
    K, J, p = pr.K, pr.J, pr.p
    return Params(beta=_arr(pr.beta, p, K), lambda_=_arr(pr.lambda_, K, J), b=_arr(pr.b, J),
                  phi=_arr(pr.phi, J), sigma=_arr(pr.sigma, K, K), anchors=_ints(pr.anchors, K),
                  gamma=_arr(pr.gamma, p) if (with_gamma and pr.hetero) else None,
                  ceilings=_arr(pr.ceiling, J) if with_ceilings else None,
                  tau=_arr(pr.tau, J) if pr.family_effect else None)


def _nat_split(v, fit_handle, K, J, p, anchors):
    """A natural vector -> Params of the same shapes, by the library's layout
    (ls_fit_nat_layout: beta, lambda, b, phi, sigma[, gamma][, ceilings])."""
    o = (ctypes.c_size_t * (C.LS_NAT_NBLOCKS + 1))()
    C.lib().ls_fit_nat_layout(fit_handle, o)

    def block(b, *shape):
        if o[b + 1] == o[b]:
            return None
        return v[o[b]:o[b + 1]].reshape(shape).copy()
    return Params(beta=block(C.LS_NAT_BETA, p, K), lambda_=block(C.LS_NAT_LAMBDA, K, J),
                  b=block(C.LS_NAT_B, J), phi=block(C.LS_NAT_PHI, J), sigma=block(C.LS_NAT_SIGMA, K, K),
                  anchors=anchors.copy(), gamma=block(C.LS_NAT_GAMMA, p),
                  ceilings=block(C.LS_NAT_CEILING, J), tau=block(C.LS_NAT_TAU, J))


def _c_params(par, keep):
    """Params -> an LsParams allocated by the library (caller frees with ls_params_free)."""
    pr = C.LsParams()
    beta = np.ascontiguousarray(par.beta, dtype=float)
    lam = np.ascontiguousarray(par.lambda_, dtype=float)
    K, J, p = lam.shape[0], lam.shape[1], beta.shape[0]
    shapes = {"beta": (beta.shape, (p, K)), "sigma": (np.shape(par.sigma), (K, K)),
              "b": (np.shape(par.b), (J,)), "phi": (np.shape(par.phi), (J,))}
    for name, (got, want) in shapes.items():
        if tuple(got) != want:
            raise OptionError("%s: expected shape %s, found %s" % (name, want, tuple(got)))
    err = C.new_error()
    C.check(C.lib().ls_params_alloc(byref(pr), K, J, p, err), err)
    keep.append(pr)  # the caller frees everything in keep

    def put(dst, src, n):
        src = np.ascontiguousarray(src, dtype=float).ravel()
        ctypes.memmove(dst, src.ctypes.data, n * 8)
    put(pr.beta, beta, p * K)
    put(pr.lambda_, lam, K * J)
    put(pr.b, par.b, J)
    put(pr.phi, par.phi, J)
    put(pr.sigma, par.sigma, K * K)
    if par.ceilings is not None:
        if np.shape(par.ceilings) != (J,):
            raise OptionError("ceilings: expected shape (%d,), found %s" % (J, np.shape(par.ceilings)))
        put(pr.ceiling, par.ceilings, J)
    anchors = np.arange(K) if par.anchors is None else np.asarray(par.anchors)
    for k in range(K):
        pr.anchors[k] = int(anchors[k])
    if par.gamma is not None:
        put(pr.gamma, par.gamma, p)
        pr.hetero = 1
    return pr


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------

def _count(name, v, hi=_U64, lo=0):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not lo <= int(v) <= hi:
        raise OptionError("%s: expected an integer in [%d, %d], found %r" % (name, lo, hi, v))
    return int(v)


def _real(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise OptionError("%s: expected a number, found %r" % (name, v))
    return float(v)


def _names(name, v):
    """None, 'a,b' or a sequence of names -> bytes 'a,b' (or None)."""
    if v is None:
        return None
    if isinstance(v, str):
        return C.enc(v)
    try:
        items = [str(x) for x in v]
    except TypeError:
        raise OptionError("%s: expected a comma-separated string or a list of names" % name)
    return C.enc(",".join(items))


def _overrides(name, v, column="floor"):
    """Floor (or ceiling) overrides: 'a=0.25,b=0.1' or a mapping name -> value."""
    if v is None or isinstance(v, str):
        return v
    if _tables.is_dataframe(v):
        v = dict(zip(v["benchmark"], v[column]))
    if isinstance(v, Mapping):
        return ",".join("%s=%r" % (k, _real("%s[%s]" % (name, k), x)) for k, x in v.items())
    raise OptionError("%s: expected 'name=value,..' or a mapping name -> %s" % (name, column))


def _integration(v):
    if isinstance(v, numbers.Integral) and not isinstance(v, bool) and v in _INTEGRATION.values():
        return int(v)
    if isinstance(v, str) and v in _INTEGRATION:
        return _INTEGRATION[v]
    raise OptionError("integration: expected auto, gh, sparse, qmc or laplace")


def _put(o, field, value, conv, *a):
    """Set an option field when the value is given (None: keep the library's default)."""
    if value is not None:
        setattr(o, field, conv(field, value, *a))


def _text(name, v):
    return C.enc(os.fsdecode(v) if isinstance(v, os.PathLike) else str(v))


def _data_options(benchmarks=None, covariates=None, floors=None, floor=None, clip=None,
                  model_column=None, family_column=None, ceilings=None, size_column=None,
                  tokens_column=None, drop_incomplete=None):
    """ls_data_options from keywords (None: the library's default).  floors: a
    floors CSV path, or a mapping benchmark -> floor (or a DataFrame with
    columns benchmark, floor); floor: overrides applied after it
    ('name=value,..' or a mapping).  ceilings: a ceilings CSV path
    (benchmark,ceiling) or a mapping benchmark -> ceiling (default: none, i.e. 1)."""
    o = C.LsDataOptions()
    C.lib().ls_data_options_init(byref(o))
    o.benchmarks = _names("benchmarks", benchmarks)
    o.covariates = _names("covariates", covariates)
    over = []
    if floors is not None:
        if _tables.is_path(floors):
            o.floors_file = C.enc(floors)
        else:
            over.append(_overrides("floors", floors))
    if floor is not None:
        over.append(_overrides("floor", floor))
    over = [s for s in over if s]
    o.floors = C.enc(",".join(over)) if over else None
    if ceilings is not None:
        if _tables.is_path(ceilings):
            o.ceilings_file = C.enc(ceilings)
        else:
            o.ceilings = C.enc(_overrides("ceilings", ceilings, "ceiling") or "") or None
    _put(o, "clip", clip, _real)
    _put(o, "model_column", model_column, _text)
    _put(o, "family_column", family_column, _text)
    _put(o, "size_column", size_column, _text)
    _put(o, "tokens_column", tokens_column, _text)
    if drop_incomplete is not None:
        o.drop_incomplete = 1 if drop_incomplete else 0
    return o


class _Progress:
    """The C progress callback around an optional Python one.

    The user's callable gets (stage, done, total) and returns True to cancel.
    Any exception in it -- KeyboardInterrupt (Ctrl-C) included -- cancels the
    computation at its next safe point and is re-raised once the C call has
    returned and everything is freed.
    """

    def __init__(self, user):
        if user is not None and not callable(user):
            raise OptionError("progress: expected a callable (stage, done, total) -> cancel?")
        self.user = user
        self.exc = None
        self.cfunc = C.PROGRESS_FN(self._call)

    def _call(self, ctx, stage, done, total):
        try:
            if self.user is not None and self.user(C.dec(stage), done, total):
                return 1
            return 0
        except BaseException as e:  # noqa: B902 -- re-raised after the call
            self.exc = e
            return 1

    def reraise(self):
        if self.exc is not None:
            e, self.exc = self.exc, None
            raise e


def _fit_options(skills=None, anchors=None, starts=None, seed=None, integration=None, nodes=None,
                 threads=None, gtol=None, max_iter=None, se=None, precision_covariates=None,
                 logit_clamp=None, progress=None, estimate_ceilings=None, family_effect=None,
                 calibration_folds=None):
    """ls_fit_options from keywords (None: the library's default), checked by the library."""
    o = C.LsFitOptions()
    C.lib().ls_fit_options_init(byref(o))
    _put(o, "skills", skills, _count)
    o.anchors = _names("anchors", anchors)
    _put(o, "starts", starts, _count, _UINT)
    _put(o, "seed", seed, _count)
    if integration is not None:
        o.integration = _integration(integration)
    _put(o, "nodes", nodes, _count, _UINT)
    _put(o, "threads", threads, _count, _UINT)
    _put(o, "gtol", gtol, _real)
    _put(o, "max_iter", max_iter, _count, _UINT)
    if se is not None:
        o.skip_se = 0 if se else 1
    if precision_covariates is not None:
        o.precision_covariates = 1 if precision_covariates else 0
    _put(o, "logit_clamp", logit_clamp, _real)
    o.estimate_ceilings = _names("estimate_ceilings", estimate_ceilings)
    if family_effect is not None:
        o.family_effect = 1 if family_effect else 0
    _put(o, "calibration_folds", calibration_folds, _count, _UINT)
    err = C.new_error()
    C.check(C.lib().ls_fit_options_check(byref(o), err), err)  # the library's check, once
    prog = _Progress(progress)
    o.progress = prog.cfunc
    return o, prog


def _predict_options(level=None, param_draws=None, latent_draws=None, seed=None, threads=None,
                     param_cov=None, ceiling_uncertainty=None):
    """ls_predict_options from keywords (None: the library's default), checked by the library."""
    o = C.LsPredictOptions()
    C.lib().ls_predict_options_init(byref(o))
    _put(o, "level", level, _real)
    _put(o, "param_draws", param_draws, _count)
    _put(o, "latent_draws", latent_draws, _count)
    _put(o, "seed", seed, _count)
    _put(o, "threads", threads, _count, _UINT)
    if param_cov is not None:
        o.param_cov = C.enc(param_cov)
    if ceiling_uncertainty is not None:
        o.ceiling_uncertainty = 1 if ceiling_uncertainty else 0
    err = C.new_error()
    C.check(C.lib().ls_predict_options_check(byref(o), err), err)  # the library's check, once
    return o


# The library's default options, read from ls_*_options_init at call time.
_OPTION_STRUCTS = {
    "data": ("LsDataOptions", "ls_data_options_init"),
    "fit": ("LsFitOptions", "ls_fit_options_init"),
    "predict": ("LsPredictOptions", "ls_predict_options_init"),
    "posterior": ("LsPosteriorOptions", "ls_posterior_options_init"),
    "optimal": ("LsOptimalOptions", "ls_optimal_options_init"),
    "simulate": ("LsSimOptions", "ls_sim_options_init"),
    "report": ("LsReportOptions", "ls_report_options_init"),
}


def defaults(task):
    """The C library's default options of a task, read at call time.

    Parameters
    ----------
    task : str
        One of 'data', 'fit', 'predict', 'posterior', 'optimal', 'simulate',
        'report' (the ls_<task>_options structure of latentscale.h).

    Returns
    -------
    dict
        Field name -> default value, as ls_<task>_options_init sets it
        (numbers, str, or None for an unset text; pointers and callbacks left
        out).  An option left at None in a function of the binding takes
        this value.

    Raises
    ------
    OptionError
        An unknown task.
    """
    if task not in _OPTION_STRUCTS:
        raise OptionError("task: expected one of %s" % ", ".join(sorted(_OPTION_STRUCTS)))
    struct, init = _OPTION_STRUCTS[task]
    o = getattr(C, struct)()
    getattr(C.lib(), init)(byref(o))
    out = {}
    for name, typ in o._fields_:
        v = getattr(o, name)
        if typ is ctypes.c_char_p:
            out[name] = None if v is None else C.dec(v)
        elif isinstance(v, (int, float)):
            out[name] = v
    return out


def _argv_json(function, args):
    """The 'options.command_line' record of an output file written from Python."""
    def plain(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, os.PathLike):
            return os.fsdecode(v)
        if _tables.is_dataframe(v):
            return "<DataFrame>"
        if isinstance(v, Mapping):
            return "<dict>" if any(isinstance(x, (list, tuple, np.ndarray)) for x in v.values()) \
                else {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return repr(v)
    return C.enc(json.dumps({"binding": "python", "function": function,
                             "arguments": {k: plain(v) for k, v in args.items()
                                           if k != "progress" and v is not None}}))


def _out(path):
    return None if path is None else C.enc(path)


# ---------------------------------------------------------------------------
# Fit: a fitted model bound to its data
# ---------------------------------------------------------------------------

def _free_handles(table, data, fit, owner):
    lib = C.lib()
    if owner:  # the fit and data belong to a result (an evaluation's training fit)
        lib.ls_result_free(owner)
    else:
        lib.ls_fit_free(fit)
        lib.ls_data_free(data)
    lib.ls_table_free(table)


class Fit:
    """A fitted scaling law, bound to its data (C handles kept alive).

    Everything is copied into numpy arrays at construction: loglik,
    loglik_check and check_points (the value at the estimate by a finer rule:
    importance sampling for a Laplace fit, with loglik_check_se its standard error and aic_check, bic_check its criteria, a sparse grid two levels finer for
    a sparse-grid fit (importance sampling if its signed sum fails); NaN and 0 otherwise; check_method names it),
    integration and nodes (the rule of loglik and its nodes per family), aic, bic, n_params, converged, convergence_criterion, gradnorm, iterations, starts_at_best; params (Params:
    beta p x K raw log scale, lambda_ K x J, b, phi, sigma, anchors, gamma),
    beta_std (p x K), se (dict 'hessian' / 'opg' / 'sandwich' -> Params of
    standard errors, or None), covariance (natural-vector covariance from the
    inverse observed information, with covariance_order), theta (the
    unconstrained optimum), benchmarks, covariates, skill_names, floors,
    families, family_modes (F x K), family_loglik (F), warnings,
    precision_test (dict or None), timing (seconds), data counts.

    summary() is the text the CLI's fit prints.
    predict / posterior / compare / optimal / write_json use the handles;
    close() (or a with block, or garbage collection) frees them.
    """

    def calibrated_level(self, q, benchmark=None):
        """The predictive quantile level a calibrated prediction reports for
        the nominal level q (q itself when the fit has no calibration; see
        fit(..., calibrate=True)): pooled over the benchmarks, or for one
        benchmark (what predictions use: an interval's end is the
        benchmark's own level where its held-out cells give one, the median
        and other ends are shrunk towards the pooled ones)."""
        if benchmark is None:
            return float(C.lib().ls_fit_calibrated_level(self._fit, float(q)))
        if benchmark not in self.benchmarks:
            raise OptionError("benchmark: %r is not one of the fit's benchmarks" % (benchmark,))
        return float(C.lib().ls_fit_calibrated_level_at(self._fit, self.benchmarks.index(benchmark), float(q)))

    @property
    def calibration(self):
        """The calibration's sorted predictive CDF values of the held-out
        largest siblings (numpy array), or None."""
        n, m, fam = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        p = C.lib().ls_fit_calibration(self._fit, byref(n), byref(m), byref(fam))
        if not p:
            return None
        return np.array([p[i] for i in range(n.value)], dtype=float)

    def __init__(self, table, data, fit, source, owner=None):
        self._finalizer = weakref.finalize(self, _free_handles, table, data, fit, owner)
        self._table, self._data, self._fit = table, data, fit
        self.source = source
        self.from_file = False  # load_fit: True (the summary then has no times)
        self._extract()

    # -- lifetime ---------------------------------------------------------
    def close(self):
        """Free the C fit, data and table (idempotent); the copied values stay."""
        self._finalizer()
        self._table = self._data = self._fit = None

    @property
    def closed(self):
        return self._fit is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handles(self):
        if self._fit is None:
            raise LatentscaleError("this fit is closed")
        return self._fit, self._data

    # -- copying ----------------------------------------------------------
    def _extract(self):
        lib, f, d = C.lib(), self._fit, self._data
        pr = lib.ls_fit_params(f).contents
        K, J, p = pr.K, pr.J, pr.p
        hetero = bool(pr.hetero)
        self.skills, self.hetero = K, hetero
        # the benchmarks whose ceilings this fit estimated (estimate_ceilings)
        est = [bool(lib.ls_fit_ceiling_estimated(f, j)) for j in range(J)]
        self.params = _params(pr, with_ceilings=any(est))
        self.benchmarks = [C.dec(lib.ls_data_benchmark(d, j)) for j in range(J)]
        self.covariates = [C.dec(lib.ls_data_covariate(d, q)) for q in range(p)]
        self.skill_names = [self.benchmarks[a] for a in self.params.anchors]
        # whether the fit chose its anchors from the data (anchors='auto')
        self.anchors_from_data = bool(lib.ls_fit_anchors_from_data(f))
        self.floors = np.array([lib.ls_data_floor(d, j) for j in range(J)])
        # the calibration's summary lines (cli_print_calibration): counts and
        # the 90 % interval's levels and the median's, pooled and per benchmark
        n, m, fam = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        self._calibration_levels = None
        if lib.ls_fit_calibration(f, byref(n), byref(m), byref(fam)):
            lv = [(lib.ls_fit_calibrated_level(f, q)) for q in (0.05, 0.95, 0.5)]
            per = [tuple(lib.ls_fit_calibrated_level_at(f, j, q) for q in (0.05, 0.95, 0.5)) for j in range(J)]
            self._calibration_levels = (n.value, m.value, lv, per)
        self.ceilings = _arr(pr.ceiling, J)  # fixed (the data's) or estimated
        self.ceilings_estimated = [b for b, e in zip(self.benchmarks, est) if e]
        F = lib.ls_data_nfamilies(d)
        self.families = [C.dec(lib.ls_data_family(d, i)) for i in range(F)]
        self.n_models = lib.ls_data_nmodels(d)
        self.n_families = F
        self.n_observed = lib.ls_data_nobserved(d)
        self.n_clipped = lib.ls_data_nclipped(d)
        self.n_duplicates = lib.ls_data_nduplicates(d)
        self.loglik = lib.ls_fit_loglik(f)
        # the log-likelihood at the estimate by the check rule: importance
        # sampling for the Laplace rule (K >= 8, with its standard error), a
        # sparse grid two levels finer for the sparse grid (K = 4..7); NaN, 0
        # points otherwise
        npts = ctypes.c_size_t()
        self.loglik_check = lib.ls_fit_loglik_check(f, ctypes.byref(npts))
        self.loglik_check_se = lib.ls_fit_loglik_check_se(f)
        ca, cb = ctypes.c_double(), ctypes.c_double()
        lib.ls_fit_check_criteria(f, ctypes.byref(ca), ctypes.byref(cb))
        self.aic_check, self.bic_check = ca.value, cb.value
        self.check_points = npts.value
        self.check_method = lib.ls_fit_check_method(f).decode()
        nn = ctypes.c_size_t()
        # the rule of loglik: its kind and nodes per family
        self.integration = lib.ls_fit_integration(f, byref(nn)).decode()
        self.nodes = nn.value
        self.aic = lib.ls_fit_aic(f)
        self.bic = lib.ls_fit_bic(f)
        self.n_params = lib.ls_fit_nparams(f)
        # 0, LS_CONVERGED_GRADIENT (1) or LS_CONVERGED_CHANGE (2, by the log-likelihood's change)
        self.convergence = int(lib.ls_fit_converged(f))
        self.converged = bool(self.convergence)
        self.convergence_criterion = lib.ls_fit_convergence_criterion(f).decode()
        self.gradnorm = lib.ls_fit_gradnorm(f)
        # the re-adapted rule could not resolve gtol: the last stage ran on
        # the node map frozen near the optimum, with this max |gradient|
        gfr = ctypes.c_double()
        self.node_map_frozen = bool(lib.ls_fit_frozen(f, ctypes.byref(gfr)))
        self.gradnorm_frozen = gfr.value
        # the Hessian half of the certificate: True (negative definite),
        # False (not: the fit is then not converged) or None (not computed)
        me = ctypes.c_double()
        hd = int(lib.ls_fit_hessian_definite(f, ctypes.byref(me)))
        self.hessian_definite = None if hd < 0 else bool(hd)
        self.information_min_eigenvalue = me.value
        self.iterations = lib.ls_fit_iterations(f)
        self.starts_at_best = lib.ls_fit_starts_at_best(f)
        self.beta_std = _arr(lib.ls_fit_beta_std(f), p, K)
        # the unconstrained vector has ls_fit_nparams entries (free parameters)
        self.theta = _arr(lib.ls_fit_theta(f), self.n_params)
        self.family_modes = np.array([_arr(lib.ls_fit_family_mode(f, i), K) for i in range(F)]
                                     ).reshape(F, K)
        self.family_loglik = _arr(lib.ls_fit_family_loglik(f), F)
        self.warnings = [python_words(C.dec(lib.ls_fit_warning(f, i))) for i in range(lib.ls_fit_nwarnings(f))]
        nnat = lib.ls_fit_nnat(f)
        self.se = {}
        for name, kind in _SE_KINDS.items():
            v = _arr(lib.ls_fit_se(f, kind), nnat)
            self.se[name] = None if v is None else _nat_split(v, f, K, J, p, self.params.anchors)
        self.covariance = _arr(lib.ls_fit_nat_cov(f), nnat, nnat)
        for par in [self.params] + list(self.se.values()):
            if par is not None:
                par.benchmarks, par.covariates = self.benchmarks, self.covariates
                par.skill_names = self.skill_names
        b, cv = self.benchmarks, self.covariates
        sk = self.skill_names
        self.covariance_order = (
            ["beta[%s,%s]" % (c, s) for c in cv for s in sk]
            + ["lambda[%s,%s]" % (s, x) for s in sk for x in b]
            + ["b[%s]" % x for x in b] + ["phi[%s]" % x for x in b]
            + ["sigma[%s,%s]" % (s, t) for s in sk for t in sk]
            + (["gamma[%s]" % c for c in cv] if hetero else [])
            + (["ceiling[%s]" % x for x in b] if any(est) else [])
            + (["tau[%s]" % x for x in b] if self.params.tau is not None else []))
        vals = [c_double() for _ in range(5)]
        if lib.ls_fit_precision_test(f, *[byref(v) for v in vals]):
            self.precision_test = dict(zip(("loglik_constant", "aic_constant", "lr", "df", "p_value"),
                                           (v.value for v in vals)))
        else:
            self.precision_test = None
        fv = [c_double() for _ in range(3)]
        if lib.ls_fit_family_effect_test(f, *[byref(v) for v in fv]):
            self.family_effect_test = dict(zip(("loglik_without", "lr", "p_value"), (v.value for v in fv)))
        else:
            self.family_effect_test = None
        t = [c_double() for _ in range(4)]
        lib.ls_fit_timing(f, *[byref(v) for v in t])
        self.timing = dict(zip(("search", "polish", "se", "total"), (v.value for v in t)))
        self.timing["calibration"] = float(lib.ls_fit_calibration_seconds(f))

    @property
    def standard_errors(self):
        """Standard errors from the inverse observed information (Params), or None."""
        return self.se.get("hessian")

    def __repr__(self):
        return ("<latentscale.Fit K=%d J=%d loglik=%.4f aic=%.2f bic=%.2f converged=%s%s>"
                % (self.skills, len(self.benchmarks), self.loglik, self.aic, self.bic,
                   self.converged, " closed" if self.closed else ""))

    # -- tasks --------------------------------------------------------------
    def write_json(self, path, _argv=None):
        """Write the fit file (the CLI's --out), atomically."""
        f, d = self._handles()
        err = C.new_error()
        C.check(C.lib().ls_fit_write_json(f, d, C.enc(path), _argv, err), err)

    @document("""Predictive distributions of new models' scores (the CLI's predict).

Each new model's skills are drawn from its family's posterior (from the
prior N(0, Sigma) for a family not in the fit's data), the parameters from
their asymptotic normal distribution.""",
              """Prediction
    n x J arrays (models x benchmarks): mean, median, lower, upper, map,
    observed (NaN where not observed); ``warnings`` lists the result's
    warnings.""", function="predict")
    def predict(self, new, *, level=None, param_draws=None, latent_draws=None, seed=None,
                threads=None, out=None, format=None, param_cov=None, ceiling_uncertainty=None):
        return predict(self, new, level=level, param_draws=param_draws, latent_draws=latent_draws,
                       seed=seed, threads=threads, out=out, format=format, param_cov=param_cov,
                       ceiling_uncertainty=ceiling_uncertainty)

    @document("""A family's posterior of its skills at the fitted parameters (the CLI's posterior).""",
              """Posterior
    mode, Laplace covariance, quadrature and MCMC moments, R-hat, ESS and the
    draws (chains x draws x K).""", function="posterior")
    def posterior(self, family, *, chains=None, warmup=None, draws=None, seed=None, threads=None,
                  out=None):
        return posterior(self, family, chains=chains, warmup=warmup, draws=draws, seed=seed,
                         threads=threads, out=out)

    @document("""Posterior of alpha_A - alpha_B per skill (the CLI's compare).""",
              """Comparison
    Per skill: the two families' posterior means, the difference's mean,
    its central interval and P(alpha_A > alpha_B).""", function="compare")
    def compare(self, family_a, family_b, *, level=None, param_draws=None, latent_draws=None,
                seed=None, threads=None, out=None, param_cov=None):
        return compare(self, family_a, family_b, level=level, param_draws=param_draws,
                       latent_draws=latent_draws, seed=seed, threads=threads, out=out,
                       param_cov=param_cov)

    @document("""Compute-optimal allocation under C = 6 N D (the CLI's optimal).

For each budget, the size N (billions of parameters) and tokens D
(trillions) that maximise each skill and each benchmark's linear predictor.""",
              """Allocation
    targets (K skills, then J benchmarks) x budgets: size (billions of
    parameters), tokens (trillions), their intervals and the value.""",
              function="optimal")
    def optimal(self, *, budgets=None, size_range=None, tokens_range=None, param_draws=None,
                level=None, seed=None, out=None):
        return optimal(self, budgets=budgets, size_range=size_range, tokens_range=tokens_range,
                       param_draws=param_draws, level=level, seed=seed, out=out)

    def summary(self):
        """The fit's summary, as ``latentscale fit`` prints it.

        The estimates with their standard errors (inverse observed
        information), the loadings and benchmark parameters, the skill
        correlations, the log-likelihood and criteria, convergence, timing and
        the warnings (options named by their Python keywords).

        Returns
        -------
        Summary
            A str whose repr is the text itself (so it displays as a table at
            the prompt); ``print(fit.summary())`` prints it.

        Raises
        ------
        Nothing: the text is built from the values copied when the Fit was
        made, so a closed fit has its summary too.
        """
        return Summary(_summary_text(self))


class Summary(str):
    """A fit's summary text; shown as itself at the prompt."""

    def __repr__(self):
        return str(self)


def _summary_text(fit):
    """The text of cli_print_fit (src/cli/commands.c), line for line, from the copied values."""
    pr, K, J, p = fit.params, fit.skills, len(fit.benchmarks), len(fit.covariates)
    se = fit.se.get("hessian")
    out = []
    W = 22
    for name in fit.covariates + fit.benchmarks:
        if 1000 > len(name) > W:
            W = len(name)
    sw = [max(10, len(n)) if len(n) < 1000 else 10 for n in fit.skill_names]

    def label(s):
        return "  %-*s" % (W, s)

    def heads():
        return "".join(" %*s" % (sw[k], fit.skill_names[k]) for k in range(K))
    out.append("latent-variable scaling law, K = %d skills" % K)
    out.append("data: %d models, %d families, %d benchmarks, %d observed scores"
               % (fit.n_models, fit.n_families, J, fit.n_observed))
    out.append("skills named by their anchors (each measures its skill only): "
               + ", ".join(fit.skill_names))
    if fit.anchors_from_data:
        out.append("  (chosen from the data, no two nearly collinear)")
    out.append("")
    out.append("covariate effects on skills (raw log scale)")
    out.append(label("covariate") + heads())
    for q in range(p):
        out.append(label(fit.covariates[q]) + "".join(" %*.4f" % (sw[k], pr.beta[q, k])
                                                       for k in range(K)))
        if se is not None:
            out.append(label("  (standard error)")
                       + "".join(" %*s" % (sw[k], "(%6.4f)" % se.beta[q, k]) for k in range(K)))
    if se is not None:
        out.append("  standard errors: inverse observed information (95 % intervals: "
                   "estimate +- 1.96 se);")
        out.append("  sandwich and OPG standard errors and every interval in the JSON")
    out.append("")
    out.append("loadings (rows: benchmarks; columns: skills) and benchmark parameters")
    est = [b in fit.ceilings_estimated for b in fit.benchmarks]
    has_ceil = any(c < 1 for c in fit.ceilings) or any(est)
    out.append(label("benchmark") + heads() + " %9s %9s %9s%s" % ("b", "phi", "floor",
                                                                  "   ceiling" if has_ceil else ""))
    for j in range(J):
        line = label(fit.benchmarks[j]) + "".join(" %*.4f" % (sw[k], pr.lambda_[k, j])
                                                  for k in range(K))
        line += " %9.4f %9.2f %9.4f" % (pr.b[j], pr.phi[j], fit.floors[j])
        if has_ceil:
            line += " %9.4f" % fit.ceilings[j]
        if est[j]:
            line += " (%6.4f)" % se.ceilings[j] if se is not None else " (estimated)"
        out.append(line)
    if any(est) and se is not None:
        out.append("  (standard errors of the estimated ceilings)")
    if K > 1:
        out.append("")
        out.append("skill correlations")
        out.append(label("") + heads())
        for r in range(K):
            out.append(label(fit.skill_names[r]) + "".join(" %*.4f" % (sw[c], pr.sigma[r, c])
                                                           for c in range(K)))
    if fit.hetero:
        out.append("")
        out.append("precision: log phi_ij = log phi_j + gamma . (x_i - mean x); phi above is at "
                   "the covariate means")
        for q in range(p):
            line = label(fit.covariates[q]) + " gamma %9.4f" % pr.gamma[q]
            if se is not None:
                line += "   (%6.4f)" % se.gamma[q]
            out.append(line)
        t = fit.precision_test
        if t is not None:
            out.append("against constant precision: log-likelihood %.4f vs %.4f, LR %.3f on %.0f "
                       "df, p = %.3g; AIC %.2f vs %.2f"
                       % (fit.loglik, t["loglik_constant"], t["lr"], t["df"], t["p_value"],
                          fit.aic, t["aic_constant"]))
    if pr.tau is not None:
        out.append("")
        out.append("family-by-benchmark effect: eta + u_fj, u_fj ~ N(0, tau_j^2), independent of the "
                   "skills")
        out.append(label("benchmark") + " %9s %9s" % ("tau", "(se)"))
        for j in range(J):
            line = label(fit.benchmarks[j]) + " %9.4f" % pr.tau[j]
            if se is not None and se.tau is not None:
                line += " (%6.4f)" % se.tau[j]
            out.append(line)
        t = fit.family_effect_test
        if t is not None:
            out.append("against no effect: log-likelihood %.4f vs %.4f, LR %.3f, p = %.3g "
                       "(chi-bar-square: tau = 0 is on the boundary)"
                       % (fit.loglik, t["loglik_without"], t["lr"], t["p_value"]))
    out.append("")
    out.append("log-likelihood %.4f   parameters %d   AIC %.2f   BIC %.2f"
               % (fit.loglik, fit.n_params, fit.aic, fit.bic))
    laplace = fit.integration == "laplace"
    sparse = fit.check_method == "sparse-grid"
    gh = fit.check_method == "gauss-hermite"
    sebuf = (" (standard error %.3f)" % fit.loglik_check_se
             if math.isfinite(fit.loglik_check_se) else "")
    if math.isfinite(fit.loglik_check):
        out.append("(%sby %s with %d %s per family the log-likelihood here is %.4f%s: AIC %.2f, "
                   "BIC %.2f)"
                   % ("Laplace approximation; " if laplace else "",
                      "the finer Gauss-Hermite rule" if gh else
                      ("a sparse grid" if laplace else "a finer sparse grid" if pr.tau is not None
                       else "the sparse grid two levels finer")
                      if sparse else "importance sampling",
                      fit.check_points, "nodes" if sparse or gh else "points", fit.loglik_check, sebuf,
                      fit.aic_check, fit.bic_check))
    change = fit.convergence == C.LS_CONVERGED_CHANGE
    hessian = ("not computed (--no-se)" if fit.hessian_definite is None
               else "negative definite" if fit.hessian_definite else "NOT negative definite")
    out.append("converged: %s%s%s (max |gradient| %.2e, Hessian %s, %d iterations; polished starts "
               "at the best value: %d)"
               % ("yes" if fit.converged else "NO", ", by the " if change else "",
                  fit.convergence_criterion if change else "", fit.gradnorm, hessian,
                  fit.iterations, fit.starts_at_best))
    if fit.node_map_frozen:
        out.append("  the integration rule does not resolve --gtol as its nodes move: on the "
                   "node map frozen")
        out.append("  near the optimum, max |gradient| %.2e" % fit.gradnorm_frozen)
    tm = fit.timing
    if not fit.from_file:  # a fit file does not record the times
        out.append("time: %.1f s (search %.1f s, polish %.1f s, standard errors %.1f s)"
                   % (tm["total"], tm["search"], tm["polish"], tm["se"])
                   + ("; calibration %.1f s" % tm["calibration"] if fit._calibration_levels is not None else ""))
    if fit._calibration_levels is not None:
        ncal, mcal, (lo, hi, med), per = fit._calibration_levels
        out.append("calibration: %d cells of %d held-out largest siblings; the 90%% interval spans the "
                   "predictive" % (ncal, mcal))
        out.append("  levels [%.3f, %.3f] pooled, the median is the %.3f quantile; per benchmark (own ends, "
                   "medians shrunk to the pooled):" % (lo, hi, med))
        line, col = "", 0
        for j, b in enumerate(fit.benchmarks):
            cell = "%s [%.3f, %.3f] %.2f" % ((b[:24],) + per[j])
            cell = (", " if col else "  ") + cell
            if col and col + len(cell) > 100:
                out.append(line + ",")
                cell = "  " + cell[2:]
                line, col = "", 0
            line += cell
            col += len(cell)
        out.append(line)
    for w in fit.warnings:
        out.append("warning: " + w)
    return "\n".join(out) + "\n"


class _Bound:
    """(fit, data) handles from a Fit, or loaded from (fit file, data) and freed on exit."""

    def __init__(self, fit, data, threads):
        self.owned = None
        if isinstance(fit, Fit):
            self.fit = fit
        elif _tables.is_path(fit):
            if data is None:
                raise OptionError("data: required with a fit file (the table the fit was fitted on)")
            self.fit = self.owned = load_fit(fit, data, threads=threads)
        else:
            raise OptionError("fit: expected a latentscale.Fit or the path of a fit file")

    def __enter__(self):
        f, d = self.fit._handles()
        return f, d, self.fit

    def __exit__(self, *exc):
        if self.owned is not None:
            self.owned.close()


def _family(lib, d, fit, name, option):
    i = lib.ls_data_find_family(d, C.enc(name))
    if i < 0:
        raise OptionError("%s: no family '%s' in %s" % (option, name, fit.source))
    return i


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

@document("""Draw a synthetic leaderboard (the CLI's simulate).

With `out`, also writes the CSV and, as the CLI does, the true parameters
to `truth_out` (default: OUT with .truth.json).""",
          """Simulation
    data (a dict of columns, usable as a table), the true Params (raw log
    scale; with `ceilings`, truth.ceilings), the floors and the benchmark
    names.""", warns=None)
def simulate(out=None, *, n_families=None, skills=None, n_benchmarks=None, missing=None, seed=None,
             truth=None, truth_out=None, floors_out=None, ceilings=None, family_effect_sd=None):
    args = dict(out=out, n_families=n_families, skills=skills, n_benchmarks=n_benchmarks,
                missing=missing, seed=seed, truth_out=truth_out, floors_out=floors_out,
                ceilings=ceilings, family_effect_sd=family_effect_sd)
    families, benchmarks = n_families, n_benchmarks
    lib = C.lib()
    so = C.LsSimOptions()
    lib.ls_sim_options_init(byref(so))
    keep = []
    try:
        if truth is not None:
            tp = _c_params(truth, keep)
            so.truth = ctypes.pointer(tp)
            skills = tp.K if skills is None else skills
            benchmarks = tp.J if benchmarks is None else benchmarks
        _put(so, "families", families, _count)
        _put(so, "skills", skills, _count)
        _put(so, "benchmarks", benchmarks, _count)
        _put(so, "missing", missing, _real)
        _put(so, "seed", seed, _count)
        _put(so, "family_effect_sd", family_effect_sd, _real)
        if ceilings is not None:
            so.ceiling_list = C.enc(_overrides("ceilings", ceilings, "ceiling") or "") or None
        err = C.new_error()
        t = c_void_p()
        tr = C.LsParams()
        fl = C.c_double_p()
        rc = lib.ls_simulate(byref(so), byref(t), byref(tr), byref(fl), err)
        try:
            C.check(rc, err)
            J = tr.J
            floors = _arr(fl, J)
            data = _tables.to_columns(t.value)
            names = [C.dec(lib.ls_table_colname(t, 4 + j)) for j in range(J)]
            argv = _argv_json("simulate", args)
            if out is not None:
                C.check(lib.ls_table_write(t, C.enc(out), err), err)
                if truth_out is None:
                    s = os.fsdecode(out)
                    truth_out = (s[:-4] if s.endswith(".csv") and len(s) > 4 else s) + ".truth.json"
            if truth_out is not None:
                C.check(lib.ls_params_write_json(byref(tr), t, fl, C.enc(truth_out), argv, err), err)
            if floors_out is not None:
                _write_floors(names, floors, floors_out)
            with_ceil = ceilings is not None or (truth is not None and truth.ceilings is not None)
            return Simulation(data=data, truth=_params(tr, with_ceilings=with_ceil),
                              floors=floors, benchmarks=names,
                              seed=so.seed)
        finally:
            lib.ls_table_free(t)
            lib.ls_params_free(byref(tr))
            _libc_free(fl)
    finally:
        for pr in keep:
            lib.ls_params_free(byref(pr))


def _libc_free(ptr):
    if ptr:
        libc = ctypes.CDLL(None)
        libc.free.argtypes = [c_void_p]
        libc.free.restype = None
        libc.free(ctypes.cast(ptr, c_void_p))


def _write_floors(names, floors, path):
    """The floors CSV exactly as the CLI writes it (%.6g)."""
    lib = C.lib()
    err = C.new_error()
    hdr = (ctypes.c_char_p * 2)(b"benchmark", b"floor")
    ft = c_void_p()
    C.check(lib.ls_table_new(b"floors", 2, hdr, byref(ft), err), err)
    try:
        for name, v in zip(names, floors):
            row = (ctypes.c_char_p * 2)(C.enc(name), C.enc("%.6g" % v))
            C.check(lib.ls_table_append(ft, row, err), err)
        C.check(lib.ls_table_write(ft, C.enc(path), err), err)
    finally:
        lib.ls_table_free(ft)


def _warn(messages, stacklevel=3):
    """Each warning of a result as a LatentscaleWarning."""
    for w in messages:
        warnings.warn(w, LatentscaleWarning, stacklevel=stacklevel)


@document("""Fit the scaling law by maximum marginal likelihood (the CLI's fit).

Adaptive quadrature per family, L-BFGS from several seeded starts, standard
errors from the observed information.""",
          """Fit
    The fitted model bound to its data (close() it, or use a with block).
    A fit that did not converge is returned with ``converged`` False.""",
          warns="""LatentscaleWarning
    One per warning of the fit (non-convergence, clipped scores, a
    near-singular information matrix, ...), also kept in ``Fit.warnings``.""")
def fit(data, *, skills=None, benchmarks=None, covariates=None, floors=None, floor=None,
        ceilings=None, clip=None, model_column=None, family_column=None, size_column=None,
        tokens_column=None, drop_incomplete=None, anchors=None, starts=None,
        seed=None, integration=None, nodes=None, threads=None, gtol=None, max_iter=None, se=None,
        precision_covariates=None, logit_clamp=None, estimate_ceilings=None, calibrate=None,
        calibration_folds=None, family_effect=None, out=None, progress=None):
    args = dict(locals())
    lib = C.lib()
    dopt = _data_options(benchmarks, covariates, floors, floor, clip, model_column, family_column,
                         ceilings, size_column, tokens_column, drop_incomplete)
    fo, prog = _fit_options(skills, anchors, starts, seed, integration, nodes, threads, gtol,
                            max_iter, se, precision_covariates, logit_clamp, progress,
                            estimate_ceilings, family_effect, calibration_folds)
    err = C.new_error()
    t = _tables.open_table(data)
    d, f = c_void_p(), c_void_p()
    try:
        if calibrate is not None:
            fo.calibrate = 1 if calibrate else 0
        rc = lib.ls_fit_table(t, byref(dopt), byref(fo), byref(d), byref(f), err)
        prog.reraise()
        C.check(rc, err)
        handles, t, d, f = (t, d.value, f.value), None, c_void_p(), c_void_p()
        # from here the Fit (its finalizer) owns the handles, even if it fails
        result = Fit(*handles, _tables.source_name(data))
    finally:
        lib.ls_fit_free(f)
        lib.ls_data_free(d)
        lib.ls_table_free(t)
    if out is not None:
        try:
            result.write_json(out, _argv_json("fit", args))
        except BaseException:
            result.close()
            raise
    _warn(result.warnings)
    return result


def load_fit(fit_json, data, *, threads=None):
    """Read a fit file and bind it to the table it was fitted on.

    The table must reproduce the log-likelihood the file recorded (else
    InputError: not the data it was fitted on).

    Parameters
    ----------
    fit_json : str or os.PathLike
        A fit file (the CLI's ``fit --out``, or ``latentscale.fit(..., out=)``).
    data : str, os.PathLike, pandas.DataFrame or dict of columns
        The leaderboard the fit was fitted on.
    threads : int, optional
        Worker threads for evaluating the likelihood (library default: 0,
        i.e. all cores).

    Returns
    -------
    Fit
        The fit bound to its data (close() it, or use a with block).

    Raises
    ------
    LatentscaleError
        FileError, ParseError (the file), InputError (the data do not match
        the fit), ...

    Warns
    -----
    LatentscaleWarning
        One per warning of the fit at the recorded estimates (e.g. the
        optimiser did not converge), also kept in ``Fit.warnings``.
    """
    lib = C.lib()
    err = C.new_error()
    threads = 0 if threads is None else _count("threads", threads, _UINT)
    t = _tables.open_table(data)
    d, f = c_void_p(), c_void_p()
    try:
        C.check(lib.ls_fit_load(C.enc(fit_json), t, threads, byref(d), byref(f), err), err)
        handles, t, d, f = (t, d.value, f.value), None, c_void_p(), c_void_p()
        result = Fit(*handles, _tables.source_name(data))
    finally:
        lib.ls_fit_free(f)
        lib.ls_data_free(d)
        lib.ls_table_free(t)
    _restore_recorded(result, fit_json)
    result.from_file = True
    _warn(result.warnings)
    return result


def _restore_recorded(fit, path):
    """What ls_fit_load does not restore, from the fit file (which the library
    has just read and checked): it re-evaluates the fit at its estimates, so
    the warnings the fit gathered (non-convergence, clipping, ...), the
    optimiser's iterations and starts, the check by a finer rule and the
    precision test are the file's.  The warnings are the file's, then any the
    re-evaluation adds."""
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except (OSError, ValueError):
        return
    if not isinstance(rec, dict):
        return

    def num(d, key):
        v = d.get(key) if isinstance(d, dict) else None
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    ws = rec.get("warnings")
    if isinstance(ws, list):
        recorded = [python_words(w) for w in ws if isinstance(w, str)]
        fit.warnings = recorded + [w for w in fit.warnings if w not in recorded]
    conv = rec.get("convergence")
    if isinstance(conv, dict):
        if num(conv, "iterations") is not None:
            fit.iterations = int(num(conv, "iterations"))
        if num(conv, "starts_at_best") is not None:
            fit.starts_at_best = int(num(conv, "starts_at_best"))
        if conv.get("node_map") == "frozen near the optimum" and not fit.node_map_frozen:
            fit.node_map_frozen = True
            fit.gradnorm_frozen = num(conv, "max_abs_gradient_frozen") or math.nan
    integ = rec.get("integration")
    if not math.isfinite(fit.loglik_check) and num(integ, "check_loglik") is not None:
        fit.loglik_check = num(integ, "check_loglik")
        se = num(integ, "check_se")
        fit.loglik_check_se = math.nan if se is None else se
        fit.check_points = int(num(integ, "check_points") or 0)
        fit.check_method = str(integ.get("check_method", fit.check_method))
        fit.aic_check = num(integ, "check_aic") if num(integ, "check_aic") is not None else math.nan
        fit.bic_check = num(integ, "check_bic") if num(integ, "check_bic") is not None else math.nan
    pt = rec.get("precision_test")
    if fit.precision_test is None and isinstance(pt, dict):
        keys = ("loglik_constant", "aic_constant", "lr", "df", "p_value")
        if all(num(pt, k) is not None for k in keys):
            fit.precision_test = {k: num(pt, k) for k in keys}
    ft = rec.get("family_effect_test")
    if fit.family_effect_test is None and isinstance(ft, dict):
        keys = ("loglik_without", "lr", "p_value")
        if all(num(ft, k) is not None for k in keys):
            fit.family_effect_test = {k: num(ft, k) for k in keys}


def _prediction(e):
    """Entries of a prediction (or an evaluation) -> Prediction."""
    return Prediction(models=e["models"], families=e["families"], benchmarks=e["benchmarks"],
                      known=e.vector("known").astype(bool), level=e.scalar("level"),
                      mean=e["mean"], median=e["median"], lower=e["lower"], upper=e["upper"],
                      map=e["map"], observed=np.asarray(e["observed"], dtype=np.float64),
                      warnings=list(e.warnings))


class _Result:
    """An ls_result handle, freed on exit."""

    def __init__(self):
        self.handle = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        C.lib().ls_result_free(self.handle)
        self.handle = c_void_p()

    def write(self, out, fmt, argv):
        if out is not None:
            err = C.new_error()
            C.check(C.lib().ls_result_write(self.handle, C.enc(out), C.enc(fmt), argv, err), err)

    def entries(self):
        return Entries(self.handle)


@document("""Predictive distributions of new models' scores (the CLI's predict).

Each new model's skills are drawn from its family's posterior (from the
prior N(0, Sigma) for a family not in the fit's data), the parameters from
their asymptotic normal distribution.""",
          """Prediction
    n x J arrays (models x benchmarks): mean, median, lower, upper, map,
    observed (NaN where not observed); ``warnings`` lists the result's
    warnings.""")
def predict(fit, new, *, data=None, level=None, param_draws=None, latent_draws=None, seed=None,
            threads=None, out=None, format=None, param_cov=None, ceiling_uncertainty=None):
    args = dict(fit=fit, new=new, data=data, level=level, param_draws=param_draws,
                latent_draws=latent_draws, seed=seed, threads=threads, out=out, format=format,
                param_cov=param_cov, ceiling_uncertainty=ceiling_uncertainty)
    lib = C.lib()
    po = _predict_options(level, param_draws, latent_draws, seed, threads, param_cov,
                          ceiling_uncertainty)
    as_json = out is not None and os.fsdecode(out).endswith(".json")
    if format is not None:
        if format not in ("csv", "json"):
            raise OptionError("format: expected csv or json")
        as_json = format == "json"
    err = C.new_error()
    with _Bound(fit, data, po.threads) as (f, d, _), _tables.table(new) as nt, _Result() as r:
        C.check(lib.ls_predict(f, d, nt, byref(po), byref(r.handle), err), err)
        r.write(out, "json" if as_json else "csv", _argv_json("predict", args))
        e = r.entries()
    _warn(e.warnings)
    return _prediction(e)


@document("""A family's posterior of its skills at the fitted parameters (the CLI's posterior).""",
          """Posterior
    mode, Laplace covariance, quadrature and MCMC moments, R-hat, ESS and the
    draws (chains x draws x K).""")
def posterior(fit, family, *, data=None, chains=None, warmup=None, draws=None, seed=None,
              threads=None, out=None):
    args = dict(fit=fit, family=family, data=data, chains=chains, warmup=warmup, draws=draws,
                seed=seed, threads=threads, out=out)
    lib = C.lib()
    o = C.LsPosteriorOptions()
    lib.ls_posterior_options_init(byref(o))
    _put(o, "chains", chains, _count, _UINT)
    _put(o, "warmup", warmup, _count)
    _put(o, "draws", draws, _count)
    _put(o, "seed", seed, _count)
    threads = 0 if threads is None else _count("threads", threads, _UINT)
    err = C.new_error()
    with _Bound(fit, data, threads) as (f, d, fo), _Result() as r:
        i = _family(lib, d, fo, family, "family")
        C.check(lib.ls_posterior_run(f, d, i, byref(o), byref(r.handle), err), err)
        r.write(out, None, _argv_json("posterior", args))
        e = r.entries()
    _warn(e.warnings)
    K, C_, N = len(e["skills"]), e.scalar("chains", int), e.scalar("draws", int)
    return Posterior(family=e["family"][0], skills=e["skills"], mode=e.vector("mode"),
                     laplace_cov=e["laplace_cov"], quad_mean=e.vector("quad_mean"),
                     quad_cov=e["quad_cov"], mcmc_mean=e.vector("mcmc_mean"),
                     mcmc_cov=e["mcmc_cov"], rhat=e.vector("rhat"), ess=e.vector("ess"),
                     accept=e.scalar("accept"), sample=e["sample"].reshape(C_, N, K),
                     seed=o.seed, warnings=list(e.warnings))


@document("""Posterior of alpha_A - alpha_B per skill (the CLI's compare).""",
          """Comparison
    Per skill: the two families' posterior means, the difference's mean,
    its central interval and P(alpha_A > alpha_B).""")
def compare(fit, family_a, family_b, *, data=None, level=None, param_draws=None,
            latent_draws=None, seed=None, threads=None, out=None, param_cov=None):
    args = dict(fit=fit, family_a=family_a, family_b=family_b, data=data, level=level,
                param_draws=param_draws, latent_draws=latent_draws, seed=seed, threads=threads,
                out=out, param_cov=param_cov)
    lib = C.lib()
    po = _predict_options(level, param_draws, latent_draws, seed, threads, param_cov)
    err = C.new_error()
    with _Bound(fit, data, po.threads) as (f, d, fo), _Result() as r:
        ia = _family(lib, d, fo, family_a, "families")
        ib = _family(lib, d, fo, family_b, "families")
        C.check(lib.ls_compare(f, d, ia, ib, byref(po), byref(r.handle), err), err)
        r.write(out, None, _argv_json("compare", args))
        e = r.entries()
    _warn(e.warnings)
    return Comparison(family_a=family_a, family_b=family_b, skills=e["skills"],
                      level=e.scalar("level"), mean_a=e.vector("mean_a"), mean_b=e.vector("mean_b"),
                      diff=e.vector("diff"), lower=e.vector("lower"), upper=e.vector("upper"),
                      prob_greater=e.vector("prob_greater"), seed=po.seed,
                      warnings=list(e.warnings))


def _range(name, v):
    if v is None:
        return None
    try:
        lo, hi = (_real(name, x) for x in v)
    except (TypeError, ValueError):
        raise OptionError("%s: expected (MIN, MAX)" % name)
    return lo, hi


@document("""Compute-optimal allocation under C = 6 N D (the CLI's optimal).

For each budget, the size N (billions of parameters) and tokens D
(trillions) that maximise each skill and each benchmark's linear predictor,
with intervals from draws of the parameters.""",
          """Allocation
    targets (K skills, then J benchmarks) x budgets: size (billions of
    parameters), tokens (trillions), their intervals and the value.""")
def optimal(fit, *, budgets=None, size_range=None, tokens_range=None, param_draws=None, level=None,
            seed=None, out=None):
    args = dict(fit=fit, budgets=budgets, size_range=size_range, tokens_range=tokens_range,
                param_draws=param_draws, level=level, seed=seed, out=out)
    lib = C.lib()
    err = C.new_error()
    srange, trange = _range("size_range", size_range), _range("tokens_range", tokens_range)
    o = C.LsOptimalOptions()
    lib.ls_optimal_options_init(byref(o))
    if srange:
        o.size_min, o.size_max = srange
    if trange:
        o.tokens_min, o.tokens_max = trange
    bv = None
    if budgets is not None:
        bv = np.ascontiguousarray([_real("budgets", x) for x in budgets], dtype=float)
        o.budgets = bv.ctypes.data_as(C.c_double_p)
        o.nbudgets = bv.size
    _put(o, "draws", param_draws, _count)
    _put(o, "level", level, _real)
    _put(o, "seed", seed, _count)
    s = c_void_p()
    if isinstance(fit, Fit):
        f, d = fit._handles()
        C.check(lib.ls_fit_summarise(f, d, byref(s), err), err)
    elif _tables.is_path(fit):
        C.check(lib.ls_fit_summary_read(C.enc(fit), byref(s), err), err)
    else:
        raise OptionError("fit: expected a latentscale.Fit or the path of a fit file")
    try:
        with _Result() as r:
            C.check(lib.ls_optimal(s, byref(o), byref(r.handle), err), err)
            r.write(out, None, _argv_json("optimal", args))
            e = r.entries()
            _warn(e.warnings)
            K = e.scalar("n_skills", int)
            T = len(e["targets"])
            return Allocation(targets=e["targets"], kinds=["skill"] * K + ["benchmark"] * (T - K),
                              budgets=e.vector("budgets"), size=e["size"], size_lo=e["size_lo"],
                              size_hi=e["size_hi"], tokens=e["tokens"], tokens_lo=e["tokens_lo"],
                              tokens_hi=e["tokens_hi"], value=e["value"], level=e.scalar("level"),
                              size_range=(e.scalar("size_min"), e.scalar("size_max")),
                              tokens_range=(e.scalar("tokens_min"), e.scalar("tokens_max")),
                              warnings=list(e.warnings))
    finally:
        lib.ls_fit_summary_free(s)


@document("""Held-out evaluation (the CLI's evaluate): refit on the training rows, predict the test rows.

Give exactly one of `split` and `holdout`. The fit and the predictions use
the same `seed` and `threads`, as on the command line.

With ``select="A..B"`` (not with `skills`) K is chosen inside the training
rows alone by the sibling MAE (each training family's largest model held
out and predicted from the other training rows), and with
``select_interaction=True`` also whether the covariates' product term stays
(twice the fits), and with ``select_ceilings=True`` which benchmarks'
ceilings are estimated (among those whose ceiling alone beats none by a
likelihood ratio above 2.71 in a screen at K = 4; more ceilings only when
they beat fewer by more than one standard error of the sibling MAE); the
chosen configuration is fitted to all training rows
and the test rows scored once.  The choice and its table are in
``Evaluation.selection``.""",
          """Evaluation
    MAE per benchmark and overall, coverage of the intervals, the test rows'
    Prediction and the training Fit (close() it, or use a with block).""")
def evaluate(data, *, split=None, holdout=None, level=None, param_draws=None, latent_draws=None,
             benchmarks=None, covariates=None, floors=None, floor=None, ceilings=None, clip=None,
             model_column=None, family_column=None, size_column=None, tokens_column=None,
             drop_incomplete=None, skills=None, anchors=None, starts=None,
             seed=None, integration=None, nodes=None, threads=None, gtol=None, max_iter=None,
             se=None, precision_covariates=None, logit_clamp=None, estimate_ceilings=None, out=None,
             progress=None, param_cov=None, calibrate=None, calibration_folds=None,
             ceiling_uncertainty=None, family_effect=None, select=None, select_interaction=None,
             select_ceilings=None):
    args = dict(locals())
    if (split is None) == (holdout is None):
        raise OptionError("give exactly one of split and holdout='largest'")
    if holdout is not None and holdout != "largest":
        raise OptionError("holdout: expected 'largest'")
    if select is not None:
        try:
            slo, shi = _skills_range(select)
        except OptionError:
            raise OptionError("select: expected a range of K such as '1..4' (or (1, 4))") from None
        if skills is not None:
            raise OptionError("select chooses K: give either select='A..B' or skills=K, not both")
    elif select_interaction:
        raise OptionError("select_interaction needs select='A..B'")
    elif select_ceilings:
        raise OptionError("select_ceilings needs select='A..B'")
    lib = C.lib()
    dopt = _data_options(benchmarks, covariates, floors, floor, clip, model_column, family_column,
                         ceilings, size_column, tokens_column, drop_incomplete)
    fo, prog = _fit_options(skills, anchors, starts, seed, integration, nodes, threads, gtol,
                            max_iter, se, precision_covariates, logit_clamp, progress,
                            estimate_ceilings, family_effect, calibration_folds)
    if calibrate is not None:
        fo.calibrate = 1 if calibrate else 0
    po = _predict_options(level, param_draws, latent_draws, seed, threads, param_cov,
                          ceiling_uncertainty)
    err = C.new_error()
    with _tables.table(data) as t:
        st = _tables.open_table(split, "<split>") if split is not None else None
        ev = c_void_p()
        try:
            if select is not None:
                rc = lib.ls_evaluate_select(t, byref(dopt), st, byref(fo), byref(po), slo, shi,
                                            (1 if select_interaction else 0) | (2 if select_ceilings else 0),
                                            byref(ev), err)
            else:
                rc = lib.ls_evaluate(t, byref(dopt), st, byref(fo), byref(po), byref(ev), err)
            prog.reraise()
            C.check(rc, err)
            if out is not None:
                C.check(lib.ls_result_write(ev, C.enc(out), None, _argv_json("evaluate", args), err), err)
            e = Entries(ev)
            pred = _prediction(e)
            res = dict(benchmarks=pred.benchmarks, mae=e.vector("mae"), mae_overall=e.scalar("mae_overall"),
                       mae_mean=e.scalar("mae_mean"), mae_map=e.scalar("mae_map"),
                       coverage=e.scalar("coverage"), level=e.scalar("level"),
                       n_cells=e.scalar("n_cells", int), n_train=e.scalar("n_train", int),
                       n_test=e.scalar("n_test", int), n_excluded=e.scalar("n_excluded", int),
                       prediction=pred)
            if "select_sibling_mae" in e:
                res["selection"] = _configuration(
                    e, "the training rows only: the test rows were not seen by the choice")
            # the training fit and its data belong to the evaluation: the Fit
            # keeps the evaluation alive and frees it
            train = c_void_p()
            f = lib.ls_evaluation_fit(ev, byref(train))
            trained = Fit(None, train.value, f, "training rows of " + _tables.source_name(data),
                          owner=ev.value)
            ev = c_void_p()
            result = Evaluation(fit=trained, warnings=list(e.warnings), **res)
            _warn(e.warnings)
            return result
        finally:
            lib.ls_result_free(ev)
            lib.ls_table_free(st)


def _configuration(e, made_inside):
    """The configuration chosen by the sibling criterion (the select_*
    entries of an evaluation or a selection), as a dict."""
    return dict(skills=[int(k) for k in e.vector("select_skills")],
                covariates=list(e["select_covariates"]), sibling_mae=e["select_sibling_mae"],
                converged=e["select_converged"].astype(bool),
                chosen_skills=e.scalar("selected_skills", int),
                chosen_covariates=e["selected_covariates"][0],
                ceilings=list(e["select_ceilings"]),
                mae_difference=e["select_mae_difference"],
                mae_difference_se=e["select_mae_difference_se"],
                chosen_ceilings=e["selected_ceilings"][0],
                ceiling_candidates=(e["select_ceiling_candidates"][0]
                                    if "select_ceiling_candidates" in e else None),
                made_inside=made_inside)


def _skills_range(v):
    if isinstance(v, str):
        parts = v.split("..")
        try:
            lo, hi = int(parts[0]), int(parts[-1])
        except ValueError:
            lo = hi = -1
        if len(parts) > 2:
            lo = -1
    elif isinstance(v, range):
        lo, hi = v.start, v.stop - 1
    elif isinstance(v, numbers.Integral) and not isinstance(v, bool):
        lo = hi = int(v)
    else:
        try:
            lo, hi = (int(x) for x in v)
        except (TypeError, ValueError):
            lo = hi = -1
    if lo < 1 or hi < lo:
        raise OptionError("skills: expected a range such as 1..12 (or (1, 12))")
    return lo, hi


@document("""Choose the number of skills (the CLI's select).

For each K in `skills`: the log-likelihood, the number of parameters, AIC,
BIC, the held-out log-likelihood over family folds and the sibling MAE
(every family's largest model held out and predicted from the other rows).
With ``select_interaction=True`` and ``select_ceilings=True`` the sibling
MAE also chooses whether the covariates' product term stays and which
benchmarks' ceilings are estimated (the configuration that
``evaluate(select=...)`` would choose from these rows): the result's
``configuration``.""",
          """Selection
    One entry per K, and the best K by AIC, BIC and cross-validation.""")
def select(data, *, skills="1..4", folds=5, benchmarks=None, covariates=None, floors=None,
           floor=None, ceilings=None, clip=None, model_column=None, family_column=None,
           size_column=None, tokens_column=None, drop_incomplete=None, starts=None, seed=None,
           threads=None, integration=None, nodes=None, gtol=None, max_iter=None, logit_clamp=None,
           estimate_ceilings=None, family_effect=None, out=None, journal=None, progress=None,
           select_interaction=None, select_ceilings=None):
    args = dict(locals())
    lo, hi = _skills_range(skills)
    lib = C.lib()
    dopt = _data_options(benchmarks, covariates, floors, floor, clip, model_column, family_column,
                         ceilings, size_column, tokens_column, drop_incomplete)
    fo, prog = _fit_options(lo, None, starts, seed, integration, nodes, threads, gtol, max_iter,
                            None, None, logit_clamp, progress, estimate_ceilings, family_effect)
    folds = _count("folds", folds, _UINT)
    err = C.new_error()
    with _tables.table(data) as t, _Result() as r:
        rc = lib.ls_select_configure(t, byref(dopt), byref(fo), lo, hi, folds,
                                     C.enc(os.fsdecode(journal)) if journal is not None else None,
                                     (1 if select_interaction else 0) | (2 if select_ceilings else 0),
                                     byref(r.handle), err)
        prog.reraise()
        C.check(rc, err)
        r.write(out, None, _argv_json("select", args))
        e = r.entries()
        _warn(e.warnings)
        Ks = e.vector("K").astype(np.int64)
        nf = e.scalar("folds", int)
        return Selection(K=Ks, loglik=e.vector("loglik"), aic=e.vector("aic"), bic=e.vector("bic"),
                         cv=e.vector("cv"), n_params=e.vector("n_params").astype(np.int64),
                         converged=e.vector("converged").astype(bool),
                         best_aic=int(Ks[e.scalar("best_aic", int)]),
                         best_bic=int(Ks[e.scalar("best_bic", int)]),
                         best_cv=int(Ks[e.scalar("best_cv", int)]) if nf else None, folds=nf,
                         sampled=e.vector("sampled").astype(bool), warnings=list(e.warnings),
                         sibling_mae=(e.vector("sibling_mae") if "sibling_mae" in e
                                      else np.full(len(Ks), np.nan)),
                         best_sibling=(int(Ks[e.scalar("best_sibling", int)])
                                       if math.isfinite(e.scalar("best_sibling")) else None),
                         reused=e.scalar("reused", int),
                         refits=(e.vector("refits").astype(np.int64) if "refits" in e else None),
                         refits_not_converged=(e.vector("refits_not_converged").astype(np.int64)
                                               if "refits_not_converged" in e else None),
                         configuration=(_configuration(e, "all rows, by the sibling criterion")
                                        if "select_sibling_mae" in e else None))


def mae(prediction, observed):
    """Mean absolute error (ls_mae) of n x J predictions against observations
    (NaN = not scored): (per benchmark J array, overall, cells scored)."""
    pred = np.ascontiguousarray(prediction, dtype=float)
    obs = np.ascontiguousarray(observed, dtype=float)
    if pred.ndim != 2 or pred.shape != obs.shape:
        raise OptionError("mae: expected two n x J arrays of the same shape")
    n, J = pred.shape
    per = np.empty(J)
    overall, cells = c_double(), ctypes.c_size_t()
    err = C.new_error()
    C.check(C.lib().ls_mae(pred.ctypes.data_as(C.c_double_p), obs.ctypes.data_as(C.c_double_p), n,
                           J, per.ctypes.data_as(C.c_double_p), byref(overall), byref(cells), err),
            err)
    return per, overall.value, cells.value


# ---------------------------------------------------------------------------
# Likelihood access
# ---------------------------------------------------------------------------

def _free_model(table, data, model):
    lib = C.lib()
    lib.ls_model_free(model)
    lib.ls_data_free(data)
    lib.ls_table_free(table)


class Model:
    """The marginal log-likelihood of a leaderboard (ls_model) for K skills.

    Options as fit()'s (None: the library's defaults, see defaults("fit")
    and defaults("data")).
    theta is the unconstrained vector (dim entries, as Fit.theta); pack/unpack
    convert Params on the standardised covariate scale (Fit.beta_std, not the
    raw-scale Fit.params.beta).  close() or a with block frees it.
    """

    def __init__(self, data, *, skills, anchors=None, integration=None, nodes=None, threads=None,
                 benchmarks=None, covariates=None, floors=None, floor=None, ceilings=None,
                 clip=None, model_column=None, family_column=None):
        lib = C.lib()
        dopt = _data_options(benchmarks, covariates, floors, floor, clip, model_column,
                             family_column, ceilings)
        K = _count("skills", skills)
        fd = defaults("fit")  # None: the fit's defaults, as the library sets them
        integ = fd["integration"] if integration is None else _integration(integration)
        nodes = fd["nodes"] if nodes is None else _count("nodes", nodes, _UINT)
        threads = fd["threads"] if threads is None else _count("threads", threads, _UINT)
        err = C.new_error()
        t = _tables.open_table(data)
        d, m = c_void_p(), c_void_p()
        try:
            C.check(lib.ls_data_build(t, byref(dopt), byref(d), err), err)
            C.check(lib.ls_model_new(d, K, _names("anchors", anchors), integ, nodes, threads,
                                     byref(m), err), err)
        except BaseException:
            _free_model(t, d, m)
            raise
        self._finalizer = weakref.finalize(self, _free_model, t, d.value, m.value)
        self._m, self._d = m.value, d.value
        self.K, self.J, self.p = K, lib.ls_data_nbenchmarks(d), lib.ls_data_ncovariates(d)
        self.dim = lib.ls_model_dim(m)
        self.nodes = lib.ls_model_nodes(m)  # nodes or points of the rule per family

    def close(self):
        self._finalizer()
        self._m = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _model(self):
        if self._m is None:
            raise LatentscaleError("this model is closed")
        return self._m

    def _theta(self, theta):
        th = np.ascontiguousarray(theta, dtype=float)
        if th.shape != (self.dim,):
            raise OptionError("theta: expected %d values, found shape %s" % (self.dim, th.shape))
        return th

    def loglik(self, theta, gradient=False, families=False):
        """The log-likelihood at theta; with gradient / families also the
        gradient (dim) and the per-family terms (F), as a tuple."""
        m, th = self._model(), self._theta(theta)
        g = np.empty(self.dim) if gradient else None
        fam = np.empty(C.lib().ls_data_nfamilies(self._d)) if families else None
        ll = c_double()
        err = C.new_error()
        ptr = (lambda a: None if a is None else a.ctypes.data_as(C.c_double_p))
        C.check(C.lib().ls_model_loglik(m, th.ctypes.data_as(C.c_double_p), byref(ll), ptr(g),
                                        ptr(fam), err), err)
        if not gradient and not families:
            return ll.value
        return (ll.value,) + ((g,) if gradient else ()) + ((fam,) if families else ())

    def unpack(self, theta):
        m, th = self._model(), self._theta(theta)
        lib = C.lib()
        pr = C.LsParams()
        err = C.new_error()
        C.check(lib.ls_params_alloc(byref(pr), self.K, self.J, self.p, err), err)
        try:
            lib.ls_model_unpack(m, th.ctypes.data_as(C.c_double_p), byref(pr))
            return _params(pr, with_gamma=False)
        finally:
            lib.ls_params_free(byref(pr))

    def pack(self, params):
        m = self._model()
        lib = C.lib()
        keep = []
        try:
            pr = _c_params(params, keep)
            th = np.empty(self.dim)
            err = C.new_error()
            C.check(lib.ls_model_pack(m, byref(pr), th.ctypes.data_as(C.c_double_p), err), err)
            return th
        finally:
            for pr in keep:
                lib.ls_params_free(byref(pr))


@document("""Write the self-contained HTML report of a fit (the CLI's report FIT DATA --out FILE).""",
          """str
    `out`.""", warns=None)
def report(fit, data=None, *, out, highlight=None, top=None, compare=None, select=None, title=None,
           level=None, grid=None, param_draws=None, latent_draws=None, optimal_draws=None,
           seed=None, threads=None, param_cov=None):
    args = dict(fit=fit, data=data, out=out, highlight=highlight, top=top, compare=compare,
                select=select, title=title, level=level, grid=grid, param_draws=param_draws,
                latent_draws=latent_draws, optimal_draws=optimal_draws, seed=seed, threads=threads,
                param_cov=param_cov)
    lib = C.lib()
    if not C.has("ls_report_write"):
        raise OptionError("report: this liblatentscale has no ls_report_write (an older library?)")

    def names(v):
        return None if v is None else C.enc(v if isinstance(v, (str, bytes)) else ",".join(v))
    keep = dict(families=names(highlight), compare=names(compare), select=C.enc(select),
                title=C.enc(title), out=C.enc(out), argv=_argv_json("report", args),
                param_cov=C.enc(param_cov))
    o = C.LsReportOptions()
    lib.ls_report_options_init(byref(o))
    o.families, o.compare, o.select_path, o.title = (keep["families"], keep["compare"],
                                                     keep["select"], keep["title"])
    _put(o, "top", top, _count)
    _put(o, "level", level, _real)
    _put(o, "grid", grid, _count)
    _put(o, "param_draws", param_draws, _count)
    _put(o, "latent_draws", latent_draws, _count)
    _put(o, "optimal_draws", optimal_draws, _count)
    _put(o, "seed", seed, _count)
    _put(o, "threads", threads, _count, _UINT)
    o.argv_json = keep["argv"]
    o.param_cov = keep["param_cov"]
    err = C.new_error()
    with _Bound(fit, data, o.threads) as (f, d, fo):
        keep["fit_name"] = C.enc(fit) if _tables.is_path(fit) else None
        o.fit_name = keep["fit_name"]
        C.check(lib.ls_report_write(f, d, byref(o), keep["out"], err), err)
    return out


def _renamed(f, **old):
    """f, refusing the keywords' old spellings with a message that names the
    new one (the command line's options were renamed the same way, so that
    one name means one thing: a count, a list of names, a kind of draw)."""
    @functools.wraps(f)
    def g(*a, **kw):
        for o, new in old.items():
            if o in kw:
                raise OptionError("%s: the keyword %s is now %s" % (f.__name__, o, new))
        return f(*a, **kw)
    return g


simulate = _renamed(simulate, families="n_families (a count)", benchmarks="n_benchmarks (a count)")
optimal = _renamed(optimal, draws="param_draws (draws of the parameters, as in predict)")
Fit.optimal = _renamed(Fit.optimal, draws="param_draws (draws of the parameters, as in predict)")
report = _renamed(report, families="highlight (the families highlighted in figure 1)")
