"""The psychometric commands: `factor` and `gpcm`, as the command line runs them.

factor(data, items=..., ...) fits a generalized latent factor model with
covariates by joint maximum likelihood (docs/FACTOR.md); gpcm(data, ...) the
multidimensional generalized partial credit model by Gaussian variational EM
or marginal maximum likelihood (docs/GPCM.md).  Both take the CLI's options
as keyword arguments ('-' as '_'; `--no-se` is se=False,
`--no-scale-correction` is scale_correction=False), check them in the CLI's
order with the CLI's messages, call the same public C functions in the same
order, and return a FactorFit / GpcmFit: a dataclass of numpy arrays copied
out of the C result, which also keeps the C fit and data alive for
to_json(path) (the CLI's --out) until close() (or a with block, or garbage
collection) frees them.
"""
import ctypes
import math
import numbers
import os
import warnings
import weakref
from collections.abc import Mapping
from ctypes import byref
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from . import _capi as C
from . import _tables
from .api import _UINT, _Progress, _argv_json, _count, _names, _real
from .errors import InputError, LatentscaleError, LatentscaleWarning, OptionError

_FAMILIES = {"bernoulli": C.LS_FACTOR_BERNOULLI, "poisson": C.LS_FACTOR_POISSON,
             "gaussian": C.LS_FACTOR_GAUSSIAN, "probit": C.LS_FACTOR_PROBIT,
             "logit": C.LS_FACTOR_BERNOULLI, "binary": C.LS_FACTOR_BERNOULLI}
_IDENTIFY = {"orthogonal": 0, "triangular": 1, "anchor": 2, "anchor-identity": 3,
             "equal-diagonal": 4}
_COVCOND = {"min-l1": C.LS_FACTOR_COV_L1, "l1": C.LS_FACTOR_COV_L1,
            "orthogonal": C.LS_FACTOR_COV_ORTHOGONAL}
_COVCOND_NAME = {C.LS_FACTOR_COV_L1: "min-l1", C.LS_FACTOR_COV_ORTHOGONAL: "orthogonal"}
_CORRECTIONS = {"bonferroni": C.LS_FACTOR_BONFERRONI, "bh": C.LS_FACTOR_BH}
_CORRECTION_NAME = {v: k for k, v in _CORRECTIONS.items()}
_METHODS = {"gvem": C.LS_GPCM_GVEM, "mml": C.LS_GPCM_MML}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _frame(rows):
    pd = _tables.pandas()
    if pd is None:
        raise ImportError("to_dataframe needs pandas")
    return pd.DataFrame(rows)


def _arr(ptr, *shape):
    """Copy of a C double array (row-major), or None for NULL."""
    if not ptr:
        return None
    n = int(np.prod(shape))
    if n == 0:
        return np.empty(shape)
    return np.ctypeslib.as_array(ptr, shape=(n,)).copy().reshape(shape)


def _iarr(ptr, *shape):
    """Copy of a C int / unsigned / size_t array as int64, or None for NULL."""
    if not ptr:
        return None
    n = int(np.prod(shape))
    if n == 0:
        return np.empty(shape, dtype=np.int64)
    return np.ctypeslib.as_array(ptr, shape=(n,)).astype(np.int64).reshape(shape)


def _strs(pp, n):
    return [C.dec(pp[i]) for i in range(n)] if pp else []


def _usage(msg):
    """An option error worded as the CLI's usage message (without 'latentscale CMD: ')."""
    return OptionError(msg, code=C.LS_ERR_OPTION, status="option")


def _choice(v, table, msg):
    if not isinstance(v, str) or v not in table:
        raise _usage(msg)
    return table[v]


def _same_file(a, b):
    """The CLI's cli_same_file: both name the same existing file."""
    try:
        return os.path.samefile(a, b)
    except (OSError, TypeError, ValueError):
        return False


def _open(data):
    """An ls_table* for data: a CSV path is read by ls_factor_table_read (R's
    row names, an empty first header field, are accepted as "(row)"); a
    DataFrame or a dict of columns goes through the binding's table helper."""
    if _tables.is_path(data):
        lib = C.lib()
        err = C.new_error()
        out = C.c_void_p()
        C.check(lib.ls_factor_table_read(C.enc(data), byref(out), err), err)
        return out.value
    return _tables.open_table(data)


class _Owner:
    """Owns C structures and frees them once: at close(), or when collected.

    Copies of a result share the owner (copy / deepcopy return it as is)."""

    def __init__(self, free, *objs):
        self._finalizer = weakref.finalize(self, free, *objs)
        self.objs = objs

    def close(self):
        self._finalizer()
        self.objs = None

    @property
    def closed(self):
        return self.objs is None

    def get(self):
        if self.objs is None:
            raise LatentscaleError("this fit is closed")
        return self.objs

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return "<C objects%s>" % (" (closed)" if self.closed else "")


class _Closable:
    """close(), closed and the with block for a result holding an _Owner."""

    def close(self):
        """Free the C fit and data (idempotent); the copied values stay."""
        self._owner.close()

    @property
    def closed(self):
        return self._owner.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

@dataclass
class FactorStandardErrors:
    """Sandwich standard errors of a factor fit (shapes of the estimates):
    loadings (q x r, with the anchors' term), loadings_without_anchor_term,
    intercepts (q), covariate_effects (q x p), factor_scores (n x r)."""
    loadings: np.ndarray
    loadings_without_anchor_term: np.ndarray
    intercepts: np.ndarray
    covariate_effects: np.ndarray
    factor_scores: np.ndarray


@dataclass
class DifTest:
    """Tests of differential item functioning: for item j and covariate s,
    z = beta_js / se and the two-sided p-value (q x p arrays), flags under
    Bonferroni (p < alpha / q) and Benjamini-Hochberg at alpha, per
    covariate; `flag` is the flag of the chosen correction."""
    alpha: float
    correction: str
    items: List[str]
    covariates: List[str]
    effect: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    flag: np.ndarray
    flag_bonferroni: np.ndarray
    flag_bh: np.ndarray

    def table(self):
        """One dict per item and covariate (item order, then covariate order)."""
        rows = []
        for j, item in enumerate(self.items):
            for s, cov in enumerate(self.covariates):
                rows.append({"item": item, "covariate": cov, "effect": self.effect[j, s],
                             "se": self.se[j, s], "z": self.z[j, s],
                             "p_value": self.p_value[j, s], "flag": bool(self.flag[j, s]),
                             "flag_bonferroni": bool(self.flag_bonferroni[j, s]),
                             "flag_bh": bool(self.flag_bh[j, s])})
        return rows

    def flagged(self):
        """The flagged effects as the JSON's dif.flagged list (item, covariate,
        effect, se, z, p_value)."""
        keys = ("item", "covariate", "effect", "se", "z", "p_value")
        return [{k: r[k] for k in keys} for r in self.table() if r["flag"]]

    def to_dataframe(self):
        return _frame(self.table())


@dataclass
class FactorSelection:
    """The number of factors by the joint information criterion
    JIC = -2 l + r max(n, q) log min(n, q): one entry per r; best is an r."""
    factors: np.ndarray
    loglik: np.ndarray
    jic: np.ndarray
    converged: np.ndarray
    best: int

    def to_dataframe(self):
        return _frame({"factors": self.factors, "loglik": self.loglik, "jic": self.jic,
                       "converged": self.converged})


@dataclass(eq=False, repr=False)
class FactorFit(_Closable):
    """A generalized latent factor model fitted by joint maximum likelihood,
    in the identified parametrisation (the JSON's names).

    loadings (q x r), intercepts (q), covariate_effects (q x p), variances (q,
    Gaussian only, else None), factor_covariance and factor_correlation
    (r x r), covariate_transform (p x r: the A applied, U += x A'),
    factor_scores (n x r), standard_errors (FactorStandardErrors, or None
    with se=False), dif (DifTest or None), selection (FactorSelection or
    None); loglik, jic, n_params, converged, iterations, start_loglik, ...

    to_json(path) writes the CLI's JSON; close() frees the C objects.
    """
    family: str
    identify: str
    covariate_condition: str
    factors: int
    items: List[str]
    covariates: List[str]
    anchors: List[str]
    anchor_indices: np.ndarray
    source: str
    n_persons: int
    n_observed: int
    loglik: float
    jic: float
    n_params: int
    converged: bool
    iterations: int
    starts: int
    starts_at_best: int
    start_loglik: np.ndarray
    coefficients_at_bound: int
    seed: int
    tol: float
    bound: float
    ridge: float
    scale_corrected: bool
    loading_bootstrap: int  # bootstrap replicates behind the loadings (0: analytic)
    loadings: np.ndarray
    intercepts: np.ndarray
    covariate_effects: np.ndarray
    variances: Optional[np.ndarray]
    factor_covariance: np.ndarray
    factor_correlation: np.ndarray
    covariate_transform: np.ndarray
    factor_scores: np.ndarray
    standard_errors: Optional[FactorStandardErrors]
    dif: Optional[DifTest] = None
    selection: Optional[FactorSelection] = None
    _owner: object = field(default=None, repr=False, compare=False)
    _argv: object = field(default=None, repr=False, compare=False)

    def __repr__(self):
        return ("<latentscale.FactorFit %s r=%d q=%d n=%d loglik=%.4f jic=%.2f converged=%s%s>"
                % (self.family, self.factors, len(self.items), self.n_persons, self.loglik,
                   self.jic, self.converged, " closed" if self.closed else ""))

    @property
    def missing_share(self):
        return 1.0 - self.n_observed / (self.n_persons * len(self.items))

    def to_json(self, path):
        """Write the fit as the CLI's --out JSON (kind "factor"), atomically."""
        f, d, dif, sel = self._owner.get()[:4]
        err = C.new_error()
        C.check(C.lib().ls_factor_write_json(byref(f), byref(d),
                                             byref(dif) if self.dif is not None else None,
                                             byref(sel) if self.selection is not None else None,
                                             C.enc(path), self._argv, err), err)

    write_json = to_json

    def loadings_dataframe(self):
        """Loadings, intercepts and covariate effects per item (needs pandas)."""
        rows = []
        for j, item in enumerate(self.items):
            row = {"item": item}
            for k in range(self.factors):
                row["factor%d" % (k + 1)] = self.loadings[j, k]
                if self.standard_errors is not None:
                    row["se_factor%d" % (k + 1)] = self.standard_errors.loadings[j, k]
            row["intercept"] = self.intercepts[j]
            for s, cov in enumerate(self.covariates):
                row[cov] = self.covariate_effects[j, s]
            rows.append(row)
        return _frame(rows)


@dataclass
class GpcmStandardErrors:
    """Standard errors of a GPCM fit (cross-product information of the
    persons' marginal scores).  slopes (J x K) in confirmatory mode, or
    slopes_unrotated in exploratory mode (the other is None); steps
    (J x (maxcat - 1), NaN beyond an item's categories); factor_correlations
    (K x K, 0 on the diagonal; confirmatory only, else None).  Exploratory
    fits: slopes_rotated (J x K) and correlation_rotated (K x K), by the
    delta method through the promax rotation (None when the rotation could
    not be differentiated; a warning says why)."""
    slopes: Optional[np.ndarray]
    slopes_unrotated: Optional[np.ndarray]
    steps: np.ndarray
    factor_correlations: Optional[np.ndarray]
    slopes_rotated: Optional[np.ndarray] = None
    correlation_rotated: Optional[np.ndarray] = None


@dataclass(eq=False, repr=False)
class GpcmFit(_Closable):
    """A multidimensional generalized partial credit model (the JSON's names).

    slopes (J x K; exploratory: promax-rotated), slopes_unrotated and
    rotation (exploratory only), steps (J x (maxcat - 1) cumulative step
    parameters b_j1..b_jP, NaN beyond an item's categories; steps_list() as
    in the JSON), factor_correlations (K x K), posterior_means (n x K, the
    GVEM means in the reported frame), pattern (J x K ints),
    standard_errors (GpcmStandardErrors or None); elbo, loglik (NaN with
    se=False), vbic, bic, n_params, converged, elbo_monotone, iterations,
    mml_iterations, start_elbo, elbo_trace; categories (J), lowest_score;
    warnings (e.g. a category never observed), as in the JSON.

    to_json(path) writes the CLI's JSON; close() frees the C objects.
    """
    method: str
    exploratory: bool
    factors: int
    items: List[str]
    categories: np.ndarray
    lowest_score: float
    source: str
    n_persons: int
    n_observed: int
    elbo: float
    loglik: float
    vbic: float
    bic: float
    n_params: int
    converged: bool
    elbo_monotone: bool
    iterations: int
    mml_iterations: int
    starts: int
    starts_at_best: int
    start_elbo: np.ndarray
    elbo_trace: np.ndarray
    seed: int
    tol: float
    nodes: int
    pattern: np.ndarray
    slopes: np.ndarray
    slopes_unrotated: Optional[np.ndarray]
    rotation: Optional[np.ndarray]
    steps: np.ndarray
    factor_correlations: np.ndarray
    posterior_means: np.ndarray
    standard_errors: Optional[GpcmStandardErrors]
    timing: dict
    warnings: List[str] = field(default_factory=list)
    _owner: object = field(default=None, repr=False, compare=False)
    _argv: object = field(default=None, repr=False, compare=False)

    def __repr__(self):
        return ("<latentscale.GpcmFit %s %s K=%d J=%d n=%d elbo=%.4f loglik=%.4f converged=%s%s>"
                % (self.method, "exploratory" if self.exploratory else "confirmatory",
                   self.factors, len(self.items), self.n_persons, self.elbo, self.loglik,
                   self.converged, " closed" if self.closed else ""))

    @property
    def mode(self):
        return "exploratory (promax)" if self.exploratory else "confirmatory"

    def steps_list(self, se=False):
        """Steps (or their standard errors) as one array per item (P_j values)."""
        b = self.standard_errors.steps if se else self.steps
        return [b[j, :int(c) - 1].copy() for j, c in enumerate(self.categories)]

    def to_json(self, path):
        """Write the fit as the CLI's --out JSON, atomically."""
        f, d = self._owner.get()[:2]
        err = C.new_error()
        C.check(C.lib().ls_gpcm_write_json(byref(f), byref(d), C.enc(path), self._argv, err), err)

    write_json = to_json

    def slopes_dataframe(self):
        """Slopes and steps per item (needs pandas)."""
        rows = []
        for j, item in enumerate(self.items):
            row = {"item": item}
            for k in range(self.factors):
                row["factor%d" % (k + 1)] = self.slopes[j, k]
            for k in range(int(self.categories[j]) - 1):
                row["b%d" % (k + 1)] = self.steps[j, k]
            rows.append(row)
        return _frame(rows)


# ---------------------------------------------------------------------------
# factor
# ---------------------------------------------------------------------------

def _select_range(v):
    """--select RMIN..RMAX (the CLI's parse_range), a (lo, hi) pair, a range or an int."""
    msg = "--select: expected RMIN..RMAX, e.g. 1..6"
    if isinstance(v, str):
        parts = v.split("..")
        try:
            if len(parts) == 1:
                lo = hi = int(parts[0])
                if lo < 0:
                    raise ValueError
            elif len(parts) == 2:
                lo, hi = int(parts[0]), int(parts[1])
                if lo < 1 or hi < lo:
                    raise ValueError
            else:
                raise ValueError
        except ValueError:
            raise _usage(msg)
        return lo, hi
    if isinstance(v, range):
        return v.start, v.stop - 1
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return int(v), int(v)
    try:
        lo, hi = (int(x) for x in v)
    except (TypeError, ValueError):
        raise _usage(msg)
    if lo < 1 or hi < lo:
        raise _usage(msg)
    return lo, hi


def _anchor_indices(anchors, items, r):
    """Anchor names (or item indices) -> size_t indices, with the CLI's messages."""
    if isinstance(anchors, str):
        names = [t.lstrip(" ") for t in anchors.split(",") if t]
    else:
        names = list(anchors)
    out = []
    for tok in names:
        if isinstance(tok, numbers.Integral) and not isinstance(tok, bool):
            if tok < 0:
                raise _usage("--anchors: item index %d out of range" % tok)
            out.append(int(tok))
            continue
        tok = str(tok)
        if tok not in items:
            raise _usage("--anchors: '%s' is not one of the items" % tok[:100])
        out.append(items.index(tok))
    if len(out) != r:
        raise _usage("--anchors: %d names for %d factors" % (len(out), r))
    return out


def _free_factor(fit, data, dif, sel, have):
    lib = C.lib()
    if have.get("fit"):
        lib.ls_factor_fit_free(byref(fit))
    if have.get("dif"):
        lib.ls_factor_dif_free(byref(dif))
    if have.get("sel"):
        lib.ls_factor_selection_free(byref(sel))
    if have.get("data"):
        lib.ls_factor_data_free(byref(data))


def factor(data, *, items=None, covariates=None, factors=None, family="bernoulli",
           identify="orthogonal", anchors=None, covariate_condition="min-l1", dichotomise=None,
           dif=False, alpha=0.05, correction="bonferroni", select=None, starts=3, seed=1,
           threads=0, bound=0.0, tol=1e-7, max_iter=500, ridge=0.0, scale_correction=True,
           loading_bootstrap=None, se=True, out=None, progress=None):
    """Generalized latent factor model with covariates (the CLI's factor).

    data: a CSV path (R's row names accepted), a pandas DataFrame or a dict
    of columns; persons in rows, items in columns.  items: names or shell
    patterns ('Q*', or a list); covariates: numeric columns.  factors: r
    (default 1, or the JIC choice with select='RMIN..RMAX').  family:
    bernoulli (logit), probit, poisson or gaussian.  identify: orthogonal,
    triangular, anchor, anchor-identity or equal-diagonal; anchors: one item
    per factor (names; default the first r items).  covariate_condition:
    min-l1 or orthogonal.  dichotomise: T makes a response 1 when >= T.
    dif=True tests every covariate effect (alpha, correction bonferroni|bh).
    ridge, bound, tol, max_iter, starts, seed, threads: as on the command
    line; se=False is --no-se, scale_correction=False --no-scale-correction.
    loading_bootstrap: replicates of the parametric bootstrap that corrects
    the loadings' bias and gives their standard errors (--loading-bootstrap;
    None: the default, 50 under anchor, anchor-identity and triangular
    identification without ridge, else 0; 0: analytic).
    out: write the CLI's JSON.  progress: callable(stage, done, total)
    returning True to cancel.

    Returns a FactorFit (close it, or use a with block).  A fit whose sweeps
    did not converge is returned with converged False and a
    LatentscaleWarning (the CLI exits 4).
    """
    args = dict(locals())
    lib = C.lib()
    # the CLI's checks, in its order, with its messages
    if items is None:
        raise _usage("--items: required")
    fam = _choice(family, _FAMILIES, "--family: expected bernoulli, probit, poisson or gaussian")
    ident = _choice(identify, _IDENTIFY, "--identify: expected orthogonal, triangular, anchor, "
                                         "anchor-identity or equal-diagonal")
    covc = _choice(covariate_condition, _COVCOND,
                   "--covariate-condition: expected min-l1 or orthogonal")
    corr = _choice(correction, _CORRECTIONS, "--correction: expected bonferroni or bh")
    alpha = _real("alpha", alpha)
    if not (0 < alpha < 1):
        raise _usage("--alpha: expected a level in (0, 1)")
    if loading_bootstrap is not None:
        boot = _count("loading_bootstrap", loading_bootstrap)
        if boot > 100000:
            raise _usage("--loading-bootstrap: expected 0 to 100000 replicates")
    covs = _names("covariates", covariates)
    if dif and not covs:
        raise _usage("--dif: needs --covariates")
    if dif and not se:
        raise _usage("--dif: needs the standard errors (drop --no-se)")
    rng = _select_range(select) if select is not None else None
    if out is not None and _tables.is_path(data) and _same_file(out, data):
        raise _usage("--out names an input file; refusing to overwrite it")

    o = C.LsFactorOptions()
    lib.ls_factor_options_init(byref(o))
    if factors is not None:
        o.factors = _count("factors", factors)
    o.family, o.identify, o.covariate_condition = fam, ident, covc
    o.starts = _count("starts", starts, _UINT)
    o.seed = _count("seed", seed)
    o.threads = _count("threads", threads, _UINT)
    o.bound = _real("bound", bound)
    o.tol = _real("tol", tol)
    o.max_iter = _count("max_iter", max_iter, _UINT)
    o.ridge = _real("ridge", ridge)
    o.no_scale_correction = 0 if scale_correction else 1
    if loading_bootstrap is not None:
        o.loading_bootstrap = boot
    o.skip_se = 0 if se else 1
    dich = math.nan if dichotomise is None else _real("dichotomise", dichotomise)
    prog = _Progress(progress)
    o.progress = prog.cfunc
    item_list = _names("items", items)

    err = C.new_error()
    d, f, dr, sel = C.LsFactorData(), C.LsFactorFit(), C.LsFactorDif(), C.LsFactorSelection()
    have = {}
    owner = _Owner(_free_factor, f, d, dr, sel, have)  # frees whatever was made, also on failure
    try:
        t = _open(data)
        try:
            C.check(lib.ls_factor_data_build(t, item_list, covs, dich, fam, byref(d), err), err)
            have["data"] = True
        finally:
            lib.ls_table_free(t)
        if rng is not None:
            rc = lib.ls_factor_select(byref(d), byref(o), rng[0], rng[1], byref(sel), err)
            prog.reraise()
            C.check(rc, err)
            have["sel"] = True
            if factors is None:
                o.factors = sel.r[sel.best]
        names = _strs(d.items, d.q)
        anch = None
        if anchors is not None:
            idx = _anchor_indices(anchors, names, o.factors)
            anch = (ctypes.c_size_t * len(idx))(*idx)
            o.anchors = ctypes.cast(anch, C.c_size_t_p)
        rc = lib.ls_factor_run(byref(d), byref(o), byref(f), err)
        prog.reraise()
        C.check(rc, err)
        have["fit"] = True
        if dif:
            C.check(lib.ls_factor_dif_run(byref(f), alpha, corr, byref(dr), err), err)
            have["dif"] = True
        argv = _argv_json("factor", args)
        result = _factor_result(f, d, dr if dif else None, sel if rng is not None else None,
                                owner, argv)
        if out is not None:
            result.to_json(out)
    except BaseException:
        owner.close()
        raise
    if not result.converged:
        warnings.warn("factor: the sweeps did not converge in %d iterations (raise --max-iter)"
                      % result.iterations, LatentscaleWarning, stacklevel=2)
    return result


def _factor_result(f, d, dr, sel, owner, argv):
    lib = C.lib()
    n, q, p, r = f.n, f.q, f.p, f.r
    p1 = p + 1
    items = _strs(d.items, d.q)
    covs = _strs(d.covariates, d.p)
    beta = _arr(f.beta, q, p1)
    anchors = _iarr(f.anchors, r)
    ses = None
    if f.se_beta:
        se_beta = _arr(f.se_beta, q, p1)
        ses = FactorStandardErrors(loadings=_arr(f.se_gamma, q, r),
                                   loadings_without_anchor_term=_arr(f.se_gamma_naive, q, r),
                                   intercepts=se_beta[:, 0].copy(),
                                   covariate_effects=se_beta[:, 1:].copy(),
                                   factor_scores=_arr(f.se_U, n, r))
    dift = None
    if dr is not None:
        dift = DifTest(alpha=dr.alpha, correction=_CORRECTION_NAME[dr.correction], items=items,
                       covariates=covs, effect=beta[:, 1:].copy(),
                       se=ses.covariate_effects.copy(), z=_arr(dr.z, q, p),
                       p_value=_arr(dr.pvalue, q, p),
                       flag=_iarr(dr.flag, q, p).astype(bool),
                       flag_bonferroni=_iarr(dr.flag_bonferroni, q, p).astype(bool),
                       flag_bh=_iarr(dr.flag_bh, q, p).astype(bool))
    selection = None
    if sel is not None:
        rs = _iarr(sel.r, sel.nr)
        selection = FactorSelection(factors=rs, loglik=_arr(sel.loglik, sel.nr),
                                    jic=_arr(sel.jic, sel.nr),
                                    converged=_iarr(sel.converged, sel.nr).astype(bool),
                                    best=int(rs[sel.best]))
    return FactorFit(
        family=C.dec(lib.ls_factor_family_name(f.family)),
        identify=C.dec(lib.ls_factor_identify_name(f.identify)),
        covariate_condition=_COVCOND_NAME.get(f.covariate_condition, str(f.covariate_condition)),
        factors=r, items=items, covariates=covs, anchors=[items[a] for a in anchors],
        anchor_indices=anchors, source=C.dec(d.source) if d.source else "", n_persons=n,
        n_observed=f.nobs, loglik=f.loglik, jic=f.jic, n_params=f.nparams,
        converged=bool(f.converged), iterations=f.iterations, starts=f.starts,
        starts_at_best=f.starts_at_best, start_loglik=_arr(f.start_loglik, f.starts),
        coefficients_at_bound=f.at_bound, seed=f.seed, tol=f.tol, bound=f.bound, ridge=f.ridge,
        scale_corrected=bool(f.scale_corrected), loading_bootstrap=f.loading_bootstrap,
        loadings=_arr(f.gamma, q, r),
        intercepts=beta[:, 0].copy(), covariate_effects=beta[:, 1:].copy(),
        variances=_arr(f.dispersion, q) if f.family == C.LS_FACTOR_GAUSSIAN else None,
        factor_covariance=_arr(f.factor_cov, r, r), factor_correlation=_arr(f.factor_cor, r, r),
        covariate_transform=_arr(f.A, p, r), factor_scores=_arr(f.U, n, r),
        standard_errors=ses, dif=dift, selection=selection, _owner=owner, _argv=argv)


# ---------------------------------------------------------------------------
# gpcm
# ---------------------------------------------------------------------------

def _all_items(t):
    """Every column but R's row names, as an items list (the CLI's default)."""
    lib = C.lib()
    names = [C.dec(lib.ls_table_colname(t, c)) for c in range(lib.ls_table_ncol(t))]
    return ",".join(n for n in names if n != "(row)")


def _pattern_cell(v):
    if isinstance(v, (bool, np.bool_)):
        return 1.0 if v else 0.0
    if isinstance(v, numbers.Real):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return math.nan


def _pattern_table(pattern, items, name):
    """A pattern given as a DataFrame or dict of columns (optionally with a
    first column 'item' naming the rows), checked with the C reader's wording."""
    cols, vals = _tables.columns_of(pattern)
    J = len(items)
    named = bool(cols) and cols[0].lower() == "item"
    k = len(cols) - (1 if named else 0)
    nr = len(vals[0]) if vals else 0
    if k < 1 or k > 10:
        raise InputError("%s: a pattern needs 1..10 factor columns%s, found %d"
                         % (name, " after 'item'" if named else "", k))
    if not named and nr != J:
        raise InputError("%s: %d rows for %d items (one row per item, in item order, or name "
                         "them in an 'item' column)" % (name, nr, J))
    pat = np.zeros((J, k), dtype=np.intc)
    seen = [False] * J
    c0 = 1 if named else 0
    for r in range(nr):
        j = r
        if named:
            nm = vals[0][r]
            if nm not in items:
                raise InputError("%s:%d:1: item '%s' is not among the items fitted"
                                 % (name, r + 2, nm[:60]))
            j = items.index(nm)
            if seen[j]:
                raise InputError("%s:%d:1: item '%s' appears twice" % (name, r + 2, nm[:60]))
        seen[j] = True
        for c in range(k):
            cell = vals[c0 + c][r]
            v = _pattern_cell(cell)
            if v not in (0.0, 1.0):
                raise InputError("%s:%d:%d: expected 0 or 1 in a loading pattern, found '%s'"
                                 % (name, r + 2, c0 + c + 1, str(cell)[:40]))
            pat[j, c] = int(v)
    for j in range(J):
        if not seen[j]:
            raise InputError("%s: no row for item '%s'" % (name, items[j]))
    return pat


def _pattern_array(pattern, J):
    """A J x K array-like of 0/1."""
    try:
        a = np.asarray(pattern, dtype=float)
    except (TypeError, ValueError):
        raise InputError("pattern: expected a CSV path, a table or a J x K array of 0/1")
    if a.ndim != 2 or a.shape[0] != J or not 1 <= a.shape[1] <= 10:
        raise InputError("pattern: expected a %d x K array (K = 1..10) for %d items, found shape %s"
                         % (J, J, a.shape))
    if not np.all((a == 0) | (a == 1)):
        raise InputError("pattern: expected 0 or 1 in a loading pattern")
    return np.ascontiguousarray(a, dtype=np.intc)


def _free_gpcm(fit, data, have):
    lib = C.lib()
    if have.get("fit"):
        lib.ls_gpcm_fit_free(byref(fit))
    if have.get("data"):
        lib.ls_gpcm_data_free(byref(data))


def gpcm(data, *, items=None, factors=None, pattern=None, exploratory=False, method="gvem",
         lowest=None, categories=0, starts=3, seed=1, threads=0, tol=1e-6, max_iter=2000,
         nodes=0, gtol=1e-4, se=True, out=None, progress=None):
    """Multidimensional generalized partial credit model (the CLI's gpcm).

    data: a CSV path (R's row names accepted), a pandas DataFrame or a dict
    of columns of integer scores (NA / empty / None = missing).  items: names
    or shell patterns (default: every column but R's row names).  factors: K
    (default: the pattern's columns, else 1).  pattern: the confirmatory
    J x K 0/1 loading pattern, as a CSV path (the CLI's --pattern), a
    DataFrame or dict of columns (optional first column 'item') or a J x K
    array; or exploratory=True (lower-triangular anchors, then promax).
    method: 'gvem' or 'mml'.  lowest: the raw value scored 0; categories:
    every item's number of categories (0: from the data).  starts, seed,
    threads, tol, max_iter, nodes, gtol as on the command line; se=False is
    --no-se.  out: write the CLI's JSON.  progress: callable(stage, done,
    total) returning True to cancel.

    Returns a GpcmFit (close it, or use a with block).  A fit that did not
    converge, or whose lower bound decreased, is returned with a
    LatentscaleWarning (the CLI exits 4).
    """
    args = dict(locals())
    lib = C.lib()
    pattern_is_path = pattern is not None and _tables.is_path(pattern)
    # the CLI's checks, in its order, with its messages
    if pattern is not None and exploratory:
        raise _usage("--pattern and --exploratory exclude each other")
    mcode = _choice(method, _METHODS, "--method: expected gvem or mml")
    low = math.nan if lowest is None else _real("lowest", lowest)
    if not math.isnan(low) and (not math.isfinite(low) or low != math.floor(low)):
        raise _usage("--lowest: expected an integer")
    categories = _count("categories", 0 if categories is None else categories, _UINT)
    if categories == 1 or categories > 64:
        raise _usage("--categories: expected 2..64")
    o = C.LsGpcmOptions()
    lib.ls_gpcm_options_init(byref(o))
    o.method = mcode
    o.starts = _count("starts", starts, _UINT)
    o.seed = _count("seed", seed)
    o.threads = _count("threads", threads, _UINT)
    o.tol = _real("tol", tol)
    o.max_iter = _count("max_iter", max_iter, _UINT)
    o.nodes = _count("nodes", nodes, _UINT)
    o.gtol = _real("gtol", gtol)
    o.skip_se = 0 if se else 1
    if not o.tol > 0:
        raise _usage("--tol: expected a positive number")
    if not o.gtol > 0:
        raise _usage("--gtol: expected a positive number")
    if o.starts < 1:
        raise _usage("--starts: expected at least 1")
    if o.max_iter < 1:
        raise _usage("--max-iter: expected at least 1")
    K = 0 if factors is None else _count("factors", factors)
    if K > 10 or (factors is not None and K < 1):
        raise _usage("--factors: expected 1..10")
    if pattern is None and not exploratory and K > 1:
        raise _usage("--factors > 1 needs --pattern FILE (confirmatory) or --exploratory")
    if out is not None and _tables.is_path(data) and _same_file(out, data):
        raise _usage("--out names an input file; refusing to overwrite it")
    if out is not None and pattern_is_path and _same_file(out, pattern):
        raise _usage("--out names the pattern file; refusing to overwrite it")
    prog = _Progress(progress)
    o.progress = prog.cfunc

    err = C.new_error()
    d, f = C.LsGpcmData(), C.LsGpcmFit()
    have = {}
    owner = _Owner(_free_gpcm, f, d, have)
    try:
        t = _open(data)
        try:
            item_list = _names("items", items) if items is not None else C.enc(_all_items(t))
            C.check(lib.ls_gpcm_data_build(t, item_list, low, categories, byref(d), err), err)
            have["data"] = True
        finally:
            lib.ls_table_free(t)
        J = d.J
        names = _strs(d.items, J)
        pat = None
        if pattern_is_path:
            kk = ctypes.c_size_t()
            cp = C.c_int_p()
            C.check(lib.ls_gpcm_pattern_read(C.enc(pattern), byref(d), byref(kk), byref(cp), err),
                    err)
            try:
                pat = np.ctypeslib.as_array(cp, shape=(J * kk.value,)).astype(np.intc).reshape(
                    J, kk.value)
            finally:
                lib.ls_gpcm_pattern_free(cp)
            pname = os.fsdecode(pattern)
        elif pattern is not None:
            if _tables.is_dataframe(pattern) or isinstance(pattern, Mapping):
                pname = _tables.source_name(pattern)
                pat = _pattern_table(pattern, names, pname)
            else:
                pname = "<array>"
                pat = _pattern_array(pattern, J)
        if pat is not None:
            if factors is not None and pat.shape[1] != K:
                raise _usage("--factors: %d, but the pattern %s has %d columns"
                             % (K, pname, pat.shape[1]))
            K = pat.shape[1]
        elif not exploratory:  # one factor: every item loads
            K = 1
            pat = np.ones((J, 1), dtype=np.intc)
        o.factors = K if K else 1
        pat = None if pat is None else np.ascontiguousarray(pat, dtype=np.intc)
        rc = lib.ls_gpcm_run(byref(d), None if pat is None else pat.ctypes.data_as(C.c_int_p),
                             byref(o), byref(f), err)
        prog.reraise()
        C.check(rc, err)
        have["fit"] = True
        result = _gpcm_result(f, d, owner, _argv_json("gpcm", args))
        if out is not None:
            result.to_json(out)
    except BaseException:
        owner.close()
        raise
    if not result.converged:
        warnings.warn("gpcm: %s did not converge in %d iterations (raise --max-iter or --tol)"
                      % ("the marginal likelihood fit" if result.method == "mml" else "GVEM",
                         result.iterations), LatentscaleWarning, stacklevel=2)
    elif not result.elbo_monotone:
        warnings.warn("gpcm: the lower bound decreased during the iterations (numerical trouble)",
                      LatentscaleWarning, stacklevel=2)
    return result


def _gpcm_result(f, d, owner, argv):
    n, J, K, nb = f.n, f.J, f.K, f.maxcat - 1
    ses = None
    if f.se_a:
        se_a = _arr(f.se_a, J, K)
        ses = GpcmStandardErrors(slopes=None if f.exploratory else se_a,
                                 slopes_unrotated=se_a if f.exploratory else None,
                                 steps=_arr(f.se_b, J, nb),
                                 factor_correlations=_arr(f.se_sigma, K, K))
        sr, ss = _arr(f.se_a_rot, J, K), _arr(f.se_sigma_rot, K, K)
        if sr is not None and ss is not None:  # the JSON has both or neither
            ses.slopes_rotated, ses.correlation_rotated = sr, ss
    warns = _strs(f.warnings, f.nwarnings)
    return GpcmFit(
        method="mml" if f.method == C.LS_GPCM_MML else "gvem", exploratory=bool(f.exploratory),
        factors=K, items=_strs(d.items, J), categories=_iarr(f.ncat, J), lowest_score=d.lowest,
        source=C.dec(d.source) if d.source else "", n_persons=n, n_observed=f.nobs,
        elbo=f.elbo, loglik=f.loglik, vbic=f.vbic, bic=f.bic, n_params=f.nparams,
        converged=bool(f.converged), elbo_monotone=bool(f.monotone), iterations=f.iterations,
        mml_iterations=f.mml_iterations, starts=f.starts, starts_at_best=f.starts_at_best,
        start_elbo=_arr(f.start_elbo, f.starts), elbo_trace=_arr(f.elbo_trace, f.iterations + 1),
        seed=f.seed, tol=f.tol, nodes=f.nodes, pattern=_iarr(f.pattern, J, K),
        slopes=_arr(f.a, J, K), slopes_unrotated=_arr(f.a_unrotated, J, K),
        rotation=_arr(f.rotation, K, K), steps=_arr(f.b, J, nb),
        factor_correlations=_arr(f.sigma, K, K), posterior_means=_arr(f.mu, n, K),
        standard_errors=ses,
        timing={"gvem": f.seconds_gvem, "mml": f.seconds_mml, "se": f.seconds_se},
        warnings=warns, _owner=owner, _argv=argv)
