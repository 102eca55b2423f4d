"""Plain result objects: dataclasses of numpy arrays, names and numbers.

They hold no C memory (the binding copies every array out before freeing
the C result), except Fit (see api.Fit), which keeps the fitted model alive
for predict/posterior/compare.  Arrays are numpy float64 and keep the C
library's row-major shapes: beta p x K, lambda_ K x J, sigma K x K,
predictions n x J, allocations target x budget.
"""
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from . import _tables


class Entries(dict):
    """The entries of a C result (any task, any family), copied out: name ->
    numpy array (numbers, in the C shape: a scalar is 1 x 1, a vector n x 1)
    or list of str.  ``labels[name]`` is (row labels, column labels), each a
    list of str or None, from the entries the C result names for them."""

    def __init__(self, handle):
        super().__init__()
        from . import _capi as C
        raw = C.result_entries(handle)
        self.kind = C.dec(C.lib().ls_result_kind(handle))
        self.labels = {}
        for name, (kind, value, rl, cl) in raw.items():
            if kind == "numbers":
                vals, r, c = value
                self[name] = np.array(vals, dtype=np.float64).reshape(r, c)
            else:
                self[name] = list(value)
        for name, (kind, value, rl, cl) in raw.items():
            self.labels[name] = (self.get(rl) if rl else None, self.get(cl) if cl else None)
        from .errors import python_words
        self.warnings = [python_words(w) for w in C.result_warnings(handle)]

    def vector(self, name):
        """A numbers entry as a flat vector."""
        return self[name].reshape(-1)

    def scalar(self, name, kind=float):
        return kind(self[name].reshape(-1)[0])

    def frame(self, name):
        """A numbers entry as a pandas DataFrame labelled by its row and
        column labels."""
        pd = _tables.pandas()
        if pd is None:
            raise ImportError("to_dataframe needs pandas")
        rows, cols = self.labels.get(name, (None, None))
        return pd.DataFrame(self[name], index=rows, columns=cols)


def _frame(rows):
    pd = _tables.pandas()
    if pd is None:
        raise ImportError("to_dataframe needs pandas")
    return pd.DataFrame(rows)


@dataclass
class Params:
    """Scaling-law parameters on the natural scale (or their standard errors).

    beta (p x K): covariate effects on the skills, raw log scale;
    lambda_ (K x J): loadings ("lambda" in the C API and the JSON);
    b (J): intercepts; phi (J): Beta precisions; sigma (K x K): skill
    correlations; anchors (K): index of each skill's anchor benchmark;
    gamma (p): precision covariate effects, None for a constant-precision fit;
    ceilings (J): the ceilings, set only where a fit estimated some
    (estimate_ceilings; fixed ones have standard error 0), else None.
    """
    beta: np.ndarray
    lambda_: np.ndarray
    b: np.ndarray
    phi: np.ndarray
    sigma: np.ndarray
    anchors: np.ndarray
    gamma: Optional[np.ndarray] = None
    ceilings: Optional[np.ndarray] = None

    @property
    def K(self):
        return self.sigma.shape[0]

    @property
    def J(self):
        return self.b.shape[0]

    @property
    def p(self):
        return self.beta.shape[0]

    def as_dict(self):
        d = {"beta": self.beta, "lambda": self.lambda_, "b": self.b, "phi": self.phi,
             "sigma": self.sigma, "anchors": self.anchors}
        if self.gamma is not None:
            d["gamma"] = self.gamma
        if self.ceilings is not None:
            d["ceilings"] = self.ceilings
        return d


@dataclass
class Simulation:
    """A synthetic leaderboard: data (dict of columns, usable as a table), the
    true parameters (raw log scale, default covariates), the floors and the
    benchmark names."""
    data: dict
    truth: Params
    floors: np.ndarray
    benchmarks: List[str]
    seed: int

    def to_dataframe(self):
        return _frame(self.data)


@dataclass
class Prediction:
    """Predictive distributions, one row per new model, one column per benchmark.

    mean, median, lower, upper, map, observed: n x J arrays (observed NaN when
    missing); known: whether each model's family is in the fit's data (else
    its skills are drawn from the prior N(0, Sigma)).
    """
    models: List[str]
    families: List[str]
    benchmarks: List[str]
    known: np.ndarray
    level: float
    mean: np.ndarray
    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    map: np.ndarray
    observed: np.ndarray

    @property
    def prediction(self):
        """The point prediction: the predictive median."""
        return self.median

    def cells(self):
        """One dict per (model, benchmark), as in the CLI's files."""
        out = []
        for i, m in enumerate(self.models):
            for j, b in enumerate(self.benchmarks):
                obs = self.observed[i, j]
                out.append({"model": m, "family": self.families[i], "known_family": bool(self.known[i]),
                            "benchmark": b, "observed": None if np.isnan(obs) else float(obs),
                            "mean": self.mean[i, j], "median": self.median[i, j],
                            "lower": self.lower[i, j], "upper": self.upper[i, j], "map": self.map[i, j]})
        return out

    def to_dataframe(self):
        """Long format (one row per model and benchmark); needs pandas."""
        return _frame(self.cells())


@dataclass
class Posterior:
    """A family's posterior of its skills at the fitted parameters."""
    family: str
    skills: List[str]
    mode: np.ndarray
    laplace_cov: np.ndarray
    quad_mean: np.ndarray
    quad_cov: np.ndarray
    mcmc_mean: np.ndarray
    mcmc_cov: np.ndarray
    rhat: np.ndarray
    ess: np.ndarray
    accept: float
    sample: np.ndarray  # chains x draws x K
    seed: int


@dataclass
class Comparison:
    """Posterior of alpha_A - alpha_B per skill."""
    family_a: str
    family_b: str
    skills: List[str]
    level: float
    mean_a: np.ndarray
    mean_b: np.ndarray
    diff: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    prob_greater: np.ndarray
    seed: int


@dataclass
class Selection:
    """Model selection over K: one entry per K; best_* are K values (best_cv None without folds)."""
    K: np.ndarray
    loglik: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    cv: np.ndarray
    n_params: np.ndarray
    converged: np.ndarray
    best_aic: int
    best_bic: int
    best_cv: Optional[int]
    folds: int
    # True where loglik, aic, bic and cv are the values of the fit's check rule
    # at the estimate (importance sampling for K >= 8, a finer sparse grid for 4..7)
    sampled: Optional[np.ndarray] = None

    def to_dataframe(self):
        return _frame({"skills": self.K, "loglik": self.loglik, "n_params": self.n_params,
                       "aic": self.aic, "bic": self.bic, "cv_loglik": self.cv,
                       "converged": self.converged,
                       "sampled": (self.sampled if self.sampled is not None
                                   else np.zeros(len(self.K), dtype=bool))})


@dataclass
class Allocation:
    """Compute-optimal allocation: rows are targets (K skills, then J benchmarks),
    columns budgets (FLOPs); size in billions of parameters, tokens in trillions."""
    targets: List[str]
    kinds: List[str]
    budgets: np.ndarray
    size: np.ndarray
    size_lo: np.ndarray
    size_hi: np.ndarray
    tokens: np.ndarray
    tokens_lo: np.ndarray
    tokens_hi: np.ndarray
    value: np.ndarray
    level: float
    size_range: tuple
    tokens_range: tuple

    def to_dataframe(self):
        rows = []
        for t, name in enumerate(self.targets):
            for b, c in enumerate(self.budgets):
                rows.append({"target": name, "kind": self.kinds[t], "flops": c,
                             "size": self.size[t, b], "size_lower": self.size_lo[t, b],
                             "size_upper": self.size_hi[t, b], "tokens": self.tokens[t, b],
                             "tokens_lower": self.tokens_lo[t, b],
                             "tokens_upper": self.tokens_hi[t, b], "value": self.value[t, b]})
        return _frame(rows)


@dataclass
class Evaluation:
    """Held-out evaluation: MAE of the predictive median per benchmark (mae, J),
    overall, of the predictive mean and of the plug-in; interval coverage; the
    test-row predictions and the training fit (an api.Fit: close it, or let
    the garbage collector free it)."""
    benchmarks: List[str]
    mae: np.ndarray
    mae_overall: float
    mae_mean: float
    mae_map: float
    coverage: float
    level: float
    n_cells: int
    n_train: int
    n_test: int
    n_excluded: int
    prediction: Prediction
    fit: object = field(repr=False)

    def close(self):
        if self.fit is not None:
            self.fit.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
