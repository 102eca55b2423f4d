"""The psychometric commands: `factor` and `gpcm`, as the command line runs them.

factor(data, items=..., ...) fits a generalized latent factor model with
covariates by joint maximum likelihood (docs/FACTOR.md); gpcm(data, ...) the
multidimensional generalized partial credit model by Gaussian variational EM
or marginal maximum likelihood (docs/GPCM.md).  Both take the CLI's options
as keyword arguments ('-' as '_'; `--no-se` is se=False,
`--no-scale-correction` is scale_correction=False), let the library check
them (its messages name the option, here by its keyword), call the same
public C functions in the same order, and return a FactorFit / GpcmFit: a
dataclass of numpy arrays copied out of the C results (results.Entries),
which also keeps the C results and data alive for to_json(path) (the CLI's
--out) until close() (or a with block, or garbage collection) frees them.
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
from .api import _UINT, _Progress, _argv_json, _count, _names, _real, _renamed
from .errors import InputError, LatentscaleError, OptionError, LatentscaleWarning
from .results import Entries

_FAMILIES = {"bernoulli": C.LS_FACTOR_BERNOULLI, "poisson": C.LS_FACTOR_POISSON,
             "gaussian": C.LS_FACTOR_GAUSSIAN, "probit": C.LS_FACTOR_PROBIT,
             "logit": C.LS_FACTOR_BERNOULLI, "binary": C.LS_FACTOR_BERNOULLI}
_IDENTIFY = {"orthogonal": 0, "triangular": 1, "anchor": 2, "anchor-identity": 3,
             "equal-diagonal": 4}
_COVCOND = {"min-l1": C.LS_FACTOR_COV_L1, "l1": C.LS_FACTOR_COV_L1,
            "orthogonal": C.LS_FACTOR_COV_ORTHOGONAL}
_CORRECTIONS = {"bonferroni": C.LS_FACTOR_BONFERRONI, "bh": C.LS_FACTOR_BH}
_FACTOR_METHODS = {"jml": C.LS_FACTOR_JML, "mml": C.LS_FACTOR_MML, "auto": C.LS_FACTOR_AUTO}
_METHODS = {"gvem": C.LS_GPCM_GVEM, "mml": C.LS_GPCM_MML}
_COVMODES = {"dif": C.LS_GPCM_COV_DIF, "latent-regression": C.LS_GPCM_COV_LREG}
# The options' fields whose keyword differs (the library's messages name fields).
_KEYWORDS = {"skip_se": "se", "no_scale_correction": "scale_correction"}
_INT_MAX = 2 ** 31 - 1


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _frame(rows):
    pd = _tables.pandas()
    if pd is None:
        raise ImportError("to_dataframe needs pandas")
    return pd.DataFrame(rows)


def _check(rc, err):
    """C.check, with a leading field the binding calls otherwise renamed."""
    if rc != C.LS_OK:
        msg = err.message.decode("utf-8", "replace")
        head, sep, rest = msg.partition(": ")
        if sep and head in _KEYWORDS:
            err.message = (_KEYWORDS[head] + sep + rest).encode("utf-8")[:C.LS_ERROR_LEN - 1]
    C.check(rc, err)


def _usage(msg):
    """An option error of the binding's own (the name of a choice, a range)."""
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
    """An ls_table* for data: a CSV path is read by ls_items_table_read (R's
    row names, an empty first header field, are accepted as "(row)"); a
    DataFrame or a dict of columns goes through the binding's table helper."""
    if _tables.is_path(data):
        err = C.new_error()
        out = C.c_void_p()
        C.check(C.lib().ls_items_table_read(C.enc(data), byref(out), err), err)
        return out.value
    return _tables.open_table(data)


def _new_handle(call, *args):
    """Call a C function whose last two arguments are (void **out, ls_error *)
    and return the new handle (raising on failure)."""
    err = C.new_error()
    out = C.c_void_p()
    _check(call(*args, byref(out), err), err)
    return out.value


def _free_handles(h):
    """Free the C results and data in h (a dict name -> handle)."""
    lib = C.lib()
    for name in ("fit", "dif", "sel"):
        if h.get(name):
            lib.ls_result_free(h[name])
    if h.get("data"):
        (lib.ls_gpcm_data_free if h.get("gpcm") else lib.ls_factor_data_free)(h["data"])
    h.clear()


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
    """Standard errors of a factor fit (shapes of the estimates): loadings
    (q x r; joint ML: sandwich with the anchors' term; marginal ML: observed
    information), loadings_without_anchor_term (joint ML only), intercepts
    (q), covariate_effects (q x p), factor_scores (n x r; marginal ML: the
    posterior sds); marginal ML also gives the sandwich versions
    loadings_sandwich, intercepts_sandwich, covariate_effects_sandwich."""
    loadings: np.ndarray
    loadings_without_anchor_term: Optional[np.ndarray]
    intercepts: np.ndarray
    covariate_effects: np.ndarray
    factor_scores: np.ndarray
    loadings_sandwich: Optional[np.ndarray] = None
    intercepts_sandwich: Optional[np.ndarray] = None
    covariate_effects_sandwich: Optional[np.ndarray] = None


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
    JIC = -2 l + r max(n, q) log min(n, q), or under marginal ML by BIC
    (criterion says which; the other's values are NaN): one entry per r;
    best is an r."""
    factors: np.ndarray
    loglik: np.ndarray
    jic: np.ndarray
    converged: np.ndarray
    best: int
    bic: Optional[np.ndarray] = None
    criterion: str = "jic"

    def to_dataframe(self):
        return _frame({"factors": self.factors, "loglik": self.loglik, "jic": self.jic,
                       "bic": self.bic, "converged": self.converged})


@dataclass(eq=False, repr=False)
class FactorFit(_Closable):
    """A generalized latent factor model fitted by joint maximum likelihood,
    in the identified parametrisation (the JSON's names).

    loadings (q x r), intercepts (q), covariate_effects (q x p), variances (q,
    Gaussian only, else None), factor_covariance and factor_correlation
    (r x r), covariate_transform (p x r: the A applied, U += x A'),
    factor_scores (n x r), standard_errors (FactorStandardErrors, or None
    with se=False), dif (DifTest or None), selection (FactorSelection or
    None); loglik, jic, n_params, converged, iterations, start_loglik, ...;
    warnings (coefficients held at the bound, a degenerate factor).

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
    warnings: List[str] = field(default_factory=list)
    method: str = "jml"  # the estimator used: jml or mml (auto resolved)
    method_reason: Optional[str] = None  # why auto chose it
    nodes: int = 0  # mml: Gauss-Hermite nodes per factor
    aic: float = math.nan  # mml: -2 loglik + 2 n_params
    bic: float = math.nan  # mml: -2 loglik + n_params log n
    # mml with covariates and dif=True: the likelihood-ratio test of no DIF at
    # all (dict: loglik_without_dif, statistic, df, p_value)
    dif_likelihood_ratio: Optional[dict] = None
    # ridge="auto": how the ridge was chosen (dict: folds, heldout, grid, score,
    # se, unconverged as numpy arrays over the ridges tried, best their index)
    ridge_cv: Optional[dict] = None
    _owner: object = field(default=None, repr=False, compare=False)
    _argv: object = field(default=None, repr=False, compare=False)

    def __repr__(self):
        crit = ("aic=%.2f" % self.aic) if self.method == "mml" else ("jic=%.2f" % self.jic)
        return ("<latentscale.FactorFit %s %s r=%d q=%d n=%d loglik=%.4f %s converged=%s%s>"
                % (self.method, self.family, self.factors, len(self.items), self.n_persons,
                   self.loglik, crit, self.converged, " closed" if self.closed else ""))

    @property
    def missing_share(self):
        return 1.0 - self.n_observed / (self.n_persons * len(self.items))

    def to_json(self, path):
        """Write the fit as the CLI's --out JSON (kind "factor"), atomically."""
        h = self._owner.get()[0]
        err = C.new_error()
        _check(C.lib().ls_factor_write_json(h["fit"], h.get("dif"), h.get("sel"), C.enc(path),
                                            self._argv, err), err)

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
    warnings (e.g. a category never observed), as in the JSON.  With
    covariates: covariates, a dict with names, mode ("dif" or
    "latent-regression"), condition, covariate_transform and its se, and
    under DIF effect, fixed, se, z, p_value, p_adjusted, flagged (J x p),
    alpha, correction, lr_test_no_dif (with dif_lr) (the JSON's "covariates");
    steps are then those at x = 0.

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
    covariates: Optional[dict] = None
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
        h = self._owner.get()[0]
        err = C.new_error()
        _check(C.lib().ls_result_write(h["fit"], C.enc(path), None, self._argv, err), err)

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
    """select='RMIN..RMAX' (the CLI's parse_range), a (lo, hi) pair, a range or an int."""
    msg = "select: expected RMIN..RMAX, e.g. 1..6"
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


def _anchor_names(anchors, d):
    """Anchors as the comma-separated names ls_factor_data_anchors maps: a
    string as given, or a sequence of names and item indices."""
    if isinstance(anchors, str):
        return anchors
    lib = C.lib()
    q = lib.ls_factor_data_nitems(d)
    names = []
    for tok in anchors:
        if isinstance(tok, numbers.Integral) and not isinstance(tok, bool):
            if not 0 <= tok < q:
                raise _usage("anchors: item index %d out of range" % tok)
            tok = C.dec(lib.ls_factor_data_item(d, int(tok)))
        names.append(str(tok))
    return ",".join(names)


def factor(data, *, items=None, covariates=None, factors=None, response="bernoulli",
           identify="orthogonal", anchors=None, covariate_condition="min-l1", dichotomise=None,
           dif=False, alpha=0.05, correction="bonferroni", select=None, starts=3, seed=1,
           threads=0, bound=0.0, tol=1e-7, max_iter=500, ridge=0.0, scale_correction=True,
           loading_bootstrap=None, se=True, method="jml", nodes=0, equal_loadings=False, long=None,
           out=None, progress=None):
    """Generalized latent factor model with covariates (the CLI's factor).

    data: a CSV path (R's row names accepted), a pandas DataFrame or a dict
    of columns; persons in rows, items in columns.  items: names or shell
    patterns ('Q*', or a list); covariates: numeric columns.  factors: r
    (default 1, or the JIC choice with select='RMIN..RMAX').  response:
    bernoulli (logit), probit, poisson or gaussian.  identify: orthogonal,
    triangular, anchor, anchor-identity or equal-diagonal; anchors: one item
    per factor (names or indices; default the first r items).
    covariate_condition: min-l1 or orthogonal.  dichotomise: T makes a
    response 1 when >= T.  dif=True tests every covariate effect (alpha,
    correction bonferroni|bh).  ridge, bound, tol, max_iter, starts, seed,
    threads: as on the command line (ridge="auto": chosen by 5-fold
    cross-validation over held-out responses, recorded in fit.ridge_cv); se=False is --no-se,
    scale_correction=False --no-scale-correction.  loading_bootstrap:
    replicates of the parametric bootstrap that corrects the loadings' bias
    and gives their standard errors (--loading-bootstrap; None: the default,
    50 under anchor, anchor-identity and triangular identification without
    ridge, else 0; 0: analytic).  method: jml (joint ML, for long tests),
    mml (marginal ML: factors ~ N(A x, I) integrated out, for short tests;
    bernoulli or probit, 1-6 factors, orthogonal or triangular) or auto (mml
    up to 50 items); nodes: mml's Gauss-Hermite nodes per factor (0: 11, 9, 7
    for 1, 2, 3 factors; 4-6 factors: the sparse grid's largest rule, odd
    3..13, default 7); equal_loadings=True: mml with one loading for every item
    (Rasch-type, as lme4's glmer).  long: a long table, one row per response:
    its (person, item, response) column names, instead of items (covariates
    then have one value per person).  out: write the CLI's JSON.  progress:
    callable(stage, done, total) returning True to cancel.

    Returns a FactorFit (close it, or use a with block).  A fit whose sweeps
    did not converge is returned with converged False and a
    LatentscaleWarning (the CLI exits 4).
    """
    args = dict(locals())
    lib = C.lib()
    fam = _choice(response, _FAMILIES, "response: expected bernoulli, probit, poisson or gaussian")
    ident = _choice(identify, _IDENTIFY, "identify: expected orthogonal, triangular, anchor, "
                                         "anchor-identity or equal-diagonal")
    covc = _choice(covariate_condition, _COVCOND, "covariate_condition: expected min-l1 or orthogonal")
    meth = _choice(method, _FACTOR_METHODS, "method: expected jml, mml or auto")
    corr = _choice(correction, _CORRECTIONS, "correction: expected bonferroni or bh")
    alpha = _real("alpha", alpha)
    covs = _names("covariates", covariates)
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
    if isinstance(ridge, str):
        if ridge != "auto":
            raise _usage("ridge: expected a number >= 0 or 'auto', found %r" % ridge)
        o.ridge = -1.0  # chosen by cross-validation over held-out responses
    else:
        o.ridge = _real("ridge", ridge)
    o.no_scale_correction = 0 if scale_correction else 1
    if loading_bootstrap is not None:
        o.loading_bootstrap = min(_count("loading_bootstrap", loading_bootstrap), _INT_MAX)
    o.skip_se = 0 if se else 1
    o.method = meth
    o.nodes = _count("nodes", nodes, _UINT)
    o.equal_loadings = 1 if equal_loadings else 0
    o.dif_lr = 1 if dif else 0
    dich = math.nan if dichotomise is None else _real("dichotomise", dichotomise)
    prog = _Progress(progress)
    o.progress = prog.cfunc
    item_list = _names("items", items)
    long_cols = _names("long", long)
    if long_cols is not None and item_list is not None:
        raise _usage("items and long: give one (wide or long table)")
    if long_cols is None and item_list is None:
        raise _usage("items: required (or, for a long table, its person, item and response columns)")
    # the library's checks of the options, before any reading
    err = C.new_error()
    _check(lib.ls_factor_options_check(byref(o), err), err)
    _check(lib.ls_factor_dif_check(alpha, corr, None, byref(o) if dif else None, err), err)

    h = {}
    owner = _Owner(_free_handles, h)  # frees whatever was made, also on failure
    try:
        t = _open(data)
        try:
            if long_cols is not None:
                h["data"] = _new_handle(lib.ls_factor_data_build_long, t, long_cols, covs, dich, fam)
            else:
                h["data"] = _new_handle(lib.ls_factor_data_build, t, item_list, covs, dich, fam)
        finally:
            lib.ls_table_free(t)
        d = h["data"]
        if dif:
            _check(lib.ls_factor_dif_check(alpha, corr, d, byref(o), err), err)
        selection = None
        if rng is not None:
            try:
                h["sel"] = _new_handle(lib.ls_factor_select, d, byref(o), rng[0], rng[1])
            finally:
                prog.reraise()
            selection = _selection(Entries(h["sel"]))
            if factors is None:
                o.factors = selection.best
        anch = None
        if anchors is not None:
            anch = (ctypes.c_size_t * max(o.factors, 1))()
            _check(lib.ls_factor_data_anchors(d, C.enc(_anchor_names(anchors, d)), o.factors,
                                              ctypes.cast(anch, C.c_size_t_p), err), err)
            o.anchors = ctypes.cast(anch, C.c_size_t_p)
        try:
            h["fit"] = _new_handle(lib.ls_factor_run, d, byref(o))
        finally:
            prog.reraise()
        if dif:
            h["dif"] = _new_handle(lib.ls_factor_dif_run, h["fit"], alpha, corr)
        result = _factor_result(Entries(h["fit"]), Entries(h["dif"]) if dif else None, selection,
                                o.seed, owner, _argv_json("factor", args))
        if out is not None:
            result.to_json(out)
    except BaseException:
        owner.close()
        raise
    for w in result.warnings:  # the fit's warnings first, as the CLI prints them
        warnings.warn(w, LatentscaleWarning, stacklevel=2)
    if not result.converged:
        warnings.warn("factor: marginal ML did not converge in %d iterations" % result.iterations
                      if result.method == "mml" else
                      "factor: the sweeps did not converge in %d iterations (raise --max-iter)"
                      % result.iterations, LatentscaleWarning, stacklevel=2)
    return result


def _selection(e):
    rs = e.vector("factors").astype(np.int64)
    return FactorSelection(factors=rs, loglik=e.vector("loglik").copy(), jic=e.vector("jic").copy(),
                           converged=e.vector("converged").astype(bool),
                           best=int(rs[e.scalar("best", int)]), bic=e.vector("bic").copy(),
                           criterion=e["criterion"][0])


def _factor_result(e, de, selection, seed, owner, argv):
    items, covs = e["items"], e["covariates"]
    beta = e["beta"]
    anchors = e.vector("anchors").astype(np.int64)
    ses = None
    if "se_beta" in e:
        se_beta = e["se_beta"]
        sw = e["se_beta_sandwich"] if "se_beta_sandwich" in e else None
        ses = FactorStandardErrors(
            loadings=e["se_loadings"],
            loadings_without_anchor_term=e["se_loadings_naive"] if "se_loadings_naive" in e else None,
            intercepts=se_beta[:, 0].copy(), covariate_effects=se_beta[:, 1:].copy(),
            factor_scores=e["se_scores"],
            loadings_sandwich=e["se_loadings_sandwich"] if sw is not None else None,
            intercepts_sandwich=sw[:, 0].copy() if sw is not None else None,
            covariate_effects_sandwich=sw[:, 1:].copy() if sw is not None else None)
    dift = None
    if de is not None:
        dift = DifTest(alpha=de.scalar("alpha"), correction=de["correction"][0], items=de["items"],
                       covariates=de["covariates"], effect=de["effect"], se=de["se"], z=de["z"],
                       p_value=de["p_value"], flag=de["flag"].astype(bool),
                       flag_bonferroni=de["flag_bonferroni"].astype(bool),
                       flag_bh=de["flag_bh"].astype(bool))
    family = e["family"][0]
    return FactorFit(
        family=family, identify=e["identify"][0], covariate_condition=e["covariate_condition"][0],
        factors=len(e["factors"]), items=items, covariates=covs, anchors=[items[a] for a in anchors],
        anchor_indices=anchors, source=e["source"][0] if "source" in e else "",
        n_persons=e.scalar("n_persons", int), n_observed=e.scalar("n_obs", int),
        loglik=e.scalar("loglik"), jic=e.scalar("jic"), n_params=e.scalar("n_params", int),
        converged=e.scalar("converged", bool), iterations=e.scalar("iterations", int),
        starts=e.scalar("starts", int), starts_at_best=e.scalar("starts_at_best", int),
        start_loglik=e.vector("start_loglik").copy(), coefficients_at_bound=e.scalar("at_bound", int),
        seed=seed, tol=e.scalar("tol"), bound=e.scalar("bound"), ridge=e.scalar("ridge"),
        scale_corrected=e.scalar("scale_corrected", bool),
        loading_bootstrap=e.scalar("loading_bootstrap", int),
        loadings=e["loadings"], intercepts=beta[:, 0].copy(), covariate_effects=beta[:, 1:].copy(),
        variances=e.vector("dispersion").copy() if family == "gaussian" else None,
        factor_covariance=e["factor_cov"], factor_correlation=e["factor_cor"],
        covariate_transform=e["covariate_transform"], factor_scores=e["scores"],
        standard_errors=ses, dif=dift, selection=selection, warnings=list(e.warnings),
        method=e["method"][0] if "method" in e else "jml",
        method_reason=e["method_reason"][0] if "method_reason" in e else None,
        nodes=e.scalar("nodes", int) if "nodes" in e else 0,
        aic=e.scalar("aic") if "aic" in e else math.nan,
        bic=e.scalar("bic") if "bic" in e else math.nan,
        dif_likelihood_ratio=dict(loglik_without_dif=e.scalar("loglik_no_dif"), statistic=e.scalar("lr_dif"),
                                  df=e.scalar("lr_dif_df", int), p_value=e.scalar("lr_dif_p"))
        if "lr_dif" in e else None,
        ridge_cv=dict(folds=e.scalar("ridge_cv_folds", int), heldout=e.scalar("ridge_cv_heldout", int),
                      grid=e.vector("ridge_cv_grid").copy(), score=e.vector("ridge_cv_score").copy(),
                      se=e.vector("ridge_cv_se").copy(),
                      unconverged=e.vector("ridge_cv_unconverged").astype(np.int64),
                      best=e.scalar("ridge_cv_best", int))
        if "ridge_cv_grid" in e else None,
        _owner=owner, _argv=argv)


# ---------------------------------------------------------------------------
# gpcm
# ---------------------------------------------------------------------------

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


def _read_pattern(pattern, d):
    """A pattern file (path) or table (DataFrame, dict of columns) read by the
    library: (J x K array, the name its messages use)."""
    lib = C.lib()
    err = C.new_error()
    kk = ctypes.c_size_t()
    cp = C.c_int_p()
    if _tables.is_path(pattern):
        name = os.fsdecode(pattern)
        rc = lib.ls_gpcm_pattern_read(C.enc(pattern), d, byref(kk), byref(cp), err)
    else:
        name = _tables.source_name(pattern)
        t = _tables.open_table(pattern, name)
        try:
            rc = lib.ls_gpcm_pattern_from_table(t, d, byref(kk), byref(cp), err)
        finally:
            lib.ls_table_free(t)
    _check(rc, err)
    J = lib.ls_gpcm_data_nitems(d)
    try:
        pat = np.ctypeslib.as_array(cp, shape=(J * kk.value,)).astype(np.intc).reshape(J, kk.value)
    finally:
        lib.ls_gpcm_pattern_free(cp)
    return pat, name


def gpcm(data, *, items=None, factors=None, pattern=None, exploratory=False, method="gvem",
         lowest=None, categories=0, starts=3, seed=1, threads=0, tol=1e-6, max_iter=2000,
         nodes=0, gtol=1e-4, se=True, out=None, progress=None, long=None, covariates=None,
         covariate_mode="dif", covariate_condition="min-l1", alpha=0.05, correction="bonferroni",
         dif_lr=False):
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
    total) returning True to cancel.  long: a long table, one row per
    response: its (person, item, response) column names, instead of items
    (the data keep the observed responses only).  covariates: numeric person
    columns (method 'mml'; long tables: one value per person); covariate_mode
    'dif' (an effect on every item, tested at level alpha with correction
    'bonferroni' or 'bh') or 'latent-regression'; covariate_condition 'min-l1'
    or 'orthogonal' (DIF's identification); dif_lr=True is --dif-lr (the
    likelihood-ratio test of no DIF at all), as the CLI's flags.

    Returns a GpcmFit (close it, or use a with block).  A fit that did not
    converge, or whose lower bound decreased, is returned with a
    LatentscaleWarning (the CLI exits 4).
    """
    args = dict(locals())
    lib = C.lib()
    if pattern is not None and exploratory:
        raise _usage("--pattern and --exploratory exclude each other")
    long_cols = _names("long", long)
    if long_cols is not None and items is not None:
        raise _usage("items and long: give one (wide or long table)")
    mcode = _choice(method, _METHODS, "method: expected gvem or mml")
    low = math.nan if lowest is None else _real("lowest", lowest)
    categories = _count("categories", 0 if categories is None else categories, _UINT)
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
    o.covariate_mode = _choice(covariate_mode, _COVMODES, "covariate_mode: expected dif or latent-regression")
    o.covariate_condition = _choice(covariate_condition, _COVCOND,
                                    "covariate_condition: expected min-l1 or orthogonal")
    o.dif_alpha = _real("alpha", alpha)
    o.dif_correction = _choice(correction, _CORRECTIONS, "correction: expected bonferroni or bh")
    o.dif_lr = 1 if dif_lr else 0
    covs = _names("covariates", covariates)
    K = 0 if factors is None else _count("factors", factors)
    # the library's checks of the options, before any reading (K: the
    # pattern's, once read, when not given)
    o.factors = 1 if factors is None else K
    err = C.new_error()
    _check(lib.ls_gpcm_options_check(byref(o), err), err)
    if covs is not None and mcode != C.LS_GPCM_MML:
        raise _usage("--covariates: need --method mml (the GVEM fit takes no covariates)")
    if pattern is None and not exploratory and K > 1:
        raise _usage("--factors > 1 needs --pattern FILE (confirmatory) or --exploratory")
    if out is not None and _tables.is_path(data) and _same_file(out, data):
        raise _usage("--out names an input file; refusing to overwrite it")
    if out is not None and pattern is not None and _tables.is_path(pattern) and _same_file(out, pattern):
        raise _usage("--out names the pattern file; refusing to overwrite it")
    prog = _Progress(progress)
    o.progress = prog.cfunc

    h = {"gpcm": True}
    owner = _Owner(_free_handles, h)
    try:
        t = _open(data)
        try:
            if long_cols is not None:
                h["data"] = _new_handle(lib.ls_gpcm_data_build_long_cov, t, long_cols, covs, low, categories)
            else:
                h["data"] = _new_handle(lib.ls_gpcm_data_build_cov, t, _names("items", items), covs, low,
                                        categories)
        finally:
            lib.ls_table_free(t)
        d = h["data"]
        J = lib.ls_gpcm_data_nitems(d)
        pat = None
        if pattern is not None and (_tables.is_path(pattern) or _tables.is_dataframe(pattern)
                                    or isinstance(pattern, Mapping)):
            pat, pname = _read_pattern(pattern, d)
        elif pattern is not None:
            pat, pname = _pattern_array(pattern, J), "<array>"
        if pat is not None:
            if factors is not None and pat.shape[1] != K:
                raise _usage("factors: %d, but the pattern %s has %d columns" % (K, pname, pat.shape[1]))
            K = pat.shape[1]
        elif not exploratory:  # one factor: every item loads
            K = 1
            pat = np.ones((J, 1), dtype=np.intc)
        o.factors = K if K else 1
        pat = None if pat is None else np.ascontiguousarray(pat, dtype=np.intc)
        try:
            h["fit"] = _new_handle(lib.ls_gpcm_run, d,
                                   None if pat is None else pat.ctypes.data_as(C.c_int_p), byref(o))
        finally:
            prog.reraise()
        result = _gpcm_result(Entries(h["fit"]), o.seed, owner, _argv_json("gpcm", args))
        if out is not None:
            result.to_json(out)
    except BaseException:
        owner.close()
        raise
    for w in result.warnings:  # the fit's warnings first, as the CLI prints them
        warnings.warn(w, LatentscaleWarning, stacklevel=2)
    if not result.converged:
        warnings.warn("gpcm: %s did not converge in %d iterations (raise --max-iter or --tol)"
                      % ("the marginal likelihood fit" if result.method == "mml" else "GVEM",
                         result.iterations), LatentscaleWarning, stacklevel=2)
    elif not result.elbo_monotone:
        warnings.warn("gpcm: the lower bound decreased during the iterations (numerical trouble)",
                      LatentscaleWarning, stacklevel=2)
    return result


def _gpcm_result(e, seed, owner, argv):
    exploratory = e.scalar("exploratory", bool)
    ses = None
    if "se_slopes" in e:
        se_a = e["se_slopes"]
        ses = GpcmStandardErrors(slopes=None if exploratory else se_a,
                                 slopes_unrotated=se_a if exploratory else None,
                                 steps=e["se_steps"], factor_correlations=e.get("se_factor_cor"))
        if "se_slopes_rotated" in e and "se_factor_cor_rotated" in e:  # the JSON has both or neither
            ses.slopes_rotated, ses.correlation_rotated = (e["se_slopes_rotated"],
                                                           e["se_factor_cor_rotated"])
    return GpcmFit(
        method=e["method"][0], exploratory=exploratory, factors=len(e["factors"]), items=e["items"],
        categories=e.vector("categories").astype(np.int64), lowest_score=e.scalar("lowest"),
        source=e["source"][0] if "source" in e else "", n_persons=e.scalar("n_persons", int),
        n_observed=e.scalar("n_obs", int), elbo=e.scalar("elbo"), loglik=e.scalar("loglik"),
        vbic=e.scalar("vbic"), bic=e.scalar("bic"), n_params=e.scalar("n_params", int),
        converged=e.scalar("converged", bool), elbo_monotone=e.scalar("monotone", bool),
        iterations=e.scalar("iterations", int), mml_iterations=e.scalar("mml_iterations", int),
        starts=e.scalar("starts", int), starts_at_best=e.scalar("starts_at_best", int),
        start_elbo=e.vector("start_elbo").copy(), elbo_trace=e.vector("elbo_trace").copy(),
        seed=seed, tol=e.scalar("tol"), nodes=e.scalar("nodes", int),
        pattern=e["pattern"].astype(np.int64), slopes=e["slopes"],
        slopes_unrotated=e.get("slopes_unrotated"), rotation=e.get("rotation"), steps=e["steps"],
        factor_correlations=e["factor_cor"], posterior_means=e["posterior_means"],
        standard_errors=ses,
        timing={"gvem": e.scalar("seconds_gvem"), "mml": e.scalar("seconds_mml"),
                "se": e.scalar("seconds_se")},
        covariates=_gpcm_covariates(e), warnings=list(e.warnings), _owner=owner, _argv=argv)


def _gpcm_covariates(e):
    """The covariate entries of a partial credit fit as a dict (None without)."""
    if "covariates" not in e:
        return None
    dif = e["covariate_mode"][0] == "dif"
    c = {"names": list(e["covariates"]), "mode": e["covariate_mode"][0],
         "covariate_transform": e["covariate_transform"],
         "se_covariate_transform": e.get("se_covariate_transform")}
    if dif:
        c["condition"] = e["covariate_condition"][0]
        c["effect"], c["fixed"] = e["dif_effect"], e["dif_fixed"].astype(np.int64)
        if "dif_se" in e:
            c.update(se=e["dif_se"], z=e["dif_z"], p_value=e["dif_p"], p_adjusted=e["dif_p_adjusted"],
                     flagged=e["dif_flag"].astype(np.int64), alpha=e.scalar("dif_alpha"),
                     correction=e["dif_correction"][0])
        if "lr_dif" in e:
            c["lr_test_no_dif"] = {"loglik_no_dif": e.scalar("loglik_no_dif"), "statistic": e.scalar("lr_dif"),
                                   "df": e.scalar("lr_dif_df", int), "p_value": e.scalar("lr_dif_p")}
    return c


factor = _renamed(factor, family="response (the response distribution)")
