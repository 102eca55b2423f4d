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
        rows, cols = self.labels.get(name, (None, None))
        return _labelled(self[name], rows, cols)


def _pandas():
    pd = _tables.pandas()
    if pd is None:
        raise ImportError("to_dataframe needs pandas, which is not importable here (Debian: "
                          "apt-get install python3-pandas; or pip install pandas)")
    return pd


def _frame(rows):
    return _pandas().DataFrame(rows)


def _labelled(values, index, columns, index_name=None, columns_name=None):
    """A DataFrame with labelled rows and columns: values is a 2-D array
    (rows x columns) or a dict column -> values; index a list of labels, or
    of tuples (a MultiIndex, index_name then a list of level names)."""
    pd = _pandas()
    if index is None:
        idx = None
    elif len(index) and isinstance(index[0], tuple):
        idx = pd.MultiIndex.from_tuples(list(index), names=index_name)
    else:
        idx = pd.Index(list(index), name=index_name)
    cols = pd.Index(list(columns), name=columns_name) if columns is not None else None
    if isinstance(values, dict):
        return pd.DataFrame({c: list(values[c]) for c in columns}, index=idx, columns=cols)
    return pd.DataFrame(np.asarray(values), index=idx, columns=cols)


def _configuration_frame(cfg, what):
    """The table of a configuration dict (Selection.configuration,
    Evaluation.selection): a row per K and configuration, K-major as in the
    JSON's table."""
    if cfg is None:
        raise ValueError("no configuration table: %s" % what)
    ks, covs = cfg["skills"], cfg["covariates"]
    ceils = cfg.get("ceilings") or [""] * len(covs)
    nc = len(covs)
    mae = np.asarray(cfg["sibling_mae"], dtype=float).reshape(len(ks), nc)
    conv = np.asarray(cfg["converged"], dtype=bool).reshape(len(ks), nc)
    nan = np.full((len(ks), nc), np.nan)
    diff = np.asarray(cfg["mae_difference"], dtype=float).reshape(len(ks), nc) if "mae_difference" in cfg else nan
    se = (np.asarray(cfg["mae_difference_se"], dtype=float).reshape(len(ks), nc)
          if "mae_difference_se" in cfg else nan)
    rows, cols = [], {c: [] for c in ("covariates", "ceilings", "sibling_mae", "mae_difference",
                                      "mae_difference_se", "converged", "chosen")}
    for a, k in enumerate(ks):
        for c in range(nc):
            rows.append((int(k), c + 1))
            cols["covariates"].append(covs[c])
            cols["ceilings"].append(ceils[c])
            cols["sibling_mae"].append(float(mae[a, c]))
            cols["mae_difference"].append(float(diff[a, c]))
            cols["mae_difference_se"].append(float(se[a, c]))
            cols["converged"].append(bool(conv[a, c]))
            cols["chosen"].append(int(k) == cfg["chosen_skills"] and covs[c] == cfg["chosen_covariates"]
                                  and ceils[c] == (cfg.get("chosen_ceilings") or ""))
    return _labelled(cols, rows, list(cols), ["skills", "configuration"])


@dataclass
class Params:
    """Scaling-law parameters on the natural scale (or their standard errors).

    beta (p x K): covariate effects on the skills, raw log scale;
    lambda_ (K x J): loadings ("lambda" in the C API and the JSON);
    b (J): intercepts; phi (J): Beta precisions; sigma (K x K): skill
    correlations; anchors (K): index of each skill's anchor benchmark;
    gamma (p): precision covariate effects, None for a constant-precision fit;
    ceilings (J): the ceilings, set only where a fit estimated some
    (estimate_ceilings; fixed ones have standard error 0), else None;
    tau (J): the sds of the family-by-benchmark effect u_fj (fit option
    family_effect), else None.
    """
    beta: np.ndarray
    lambda_: np.ndarray
    b: np.ndarray
    phi: np.ndarray
    sigma: np.ndarray
    anchors: np.ndarray
    gamma: Optional[np.ndarray] = None
    ceilings: Optional[np.ndarray] = None
    tau: Optional[np.ndarray] = None
    # labels of the rows and columns (a fit's names; None: generic)
    benchmarks: Optional[List[str]] = field(default=None, repr=False)
    covariates: Optional[List[str]] = field(default=None, repr=False)
    skill_names: Optional[List[str]] = field(default=None, repr=False)

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
        if self.tau is not None:
            d["tau"] = self.tau
        return d

    def _names(self):
        bench = self.benchmarks or ["benchmark %d" % (j + 1) for j in range(self.J)]
        cov = self.covariates or ["covariate %d" % (q + 1) for q in range(self.p)]
        sk = self.skill_names or ["skill %d" % (k + 1) for k in range(self.K)]
        return bench, cov, sk

    def blocks(self):
        """The blocks as (name, values 2-D, row labels, column labels), in the
        order of the natural vector (beta, lambda, b, phi, sigma[, gamma][, ceilings][, tau])."""
        bench, cov, sk = self._names()
        out = [("beta", self.beta, cov, sk), ("lambda", self.lambda_, sk, bench),
               ("b", np.reshape(self.b, (-1, 1)), bench, ["b"]),
               ("phi", np.reshape(self.phi, (-1, 1)), bench, ["phi"]),
               ("sigma", self.sigma, sk, sk)]
        if self.gamma is not None:
            out.append(("gamma", np.reshape(self.gamma, (-1, 1)), cov, ["gamma"]))
        if self.ceilings is not None:
            out.append(("ceilings", np.reshape(self.ceilings, (-1, 1)), bench, ["ceiling"]))
        if self.tau is not None:
            out.append(("tau", np.reshape(self.tau, (-1, 1)), bench, ["tau"]))
        return out

    def to_dataframe(self, block=None):
        """The parameters as a pandas DataFrame with labelled rows and columns.

        Parameters
        ----------
        block : str, optional
            'beta' (covariates x skills), 'lambda' (skills x benchmarks), 'b',
            'phi' (benchmarks x 1), 'sigma' (skills x skills), 'gamma'
            (covariates x 1), 'ceilings' or 'tau' (benchmarks x 1): that block as a
            matrix.  None: every parameter, one row each, indexed by
            (block, row, column), with column 'value'.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            pandas is not importable (Debian: python3-pandas).
        KeyError
            An unknown block, or one this Params does not have.
        """
        blocks = self.blocks()
        if block is not None:
            for name, v, rows, cols in blocks:
                if name == block or (block == "lambda_" and name == "lambda"):
                    return _labelled(v, rows, cols)
            raise KeyError("block: expected one of %s" % ", ".join(b[0] for b in blocks))
        index, values = [], []
        for name, v, rows, cols in blocks:
            for r, rl in enumerate(rows):
                for c, cl in enumerate(cols):
                    index.append((name, rl, cl if len(cols) > 1 else ""))
                    values.append(v[r, c])
        return _labelled({"value": values}, index, ["value"], ["block", "row", "column"])


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
    warnings: List[str] = field(default_factory=list)

    @property
    def prediction(self):
        """The point prediction: the predictive median."""
        return self.median

    def cells(self):
        """One dict per (model, benchmark), as in the CLI's files (observed NaN where missing)."""
        out = []
        for i, m in enumerate(self.models):
            for j, b in enumerate(self.benchmarks):
                obs = self.observed[i, j]
                out.append({"model": m, "family": self.families[i], "known_family": bool(self.known[i]),
                            "benchmark": b, "observed": float(obs),
                            "mean": self.mean[i, j], "median": self.median[i, j],
                            "lower": self.lower[i, j], "upper": self.upper[i, j], "map": self.map[i, j]})
        return out

    def to_dataframe(self, statistic=None):
        """The predictions as a pandas DataFrame.

        Parameters
        ----------
        statistic : str, optional
            'mean', 'median', 'lower', 'upper', 'map' or 'observed': that n x J
            array, rows labelled by model (index 'model'), columns by
            benchmark.  None: long format, one row per model and benchmark
            (columns model, family, known_family, benchmark, observed, mean,
            median, lower, upper, map; observed NaN where missing), indexed
            by (model, benchmark).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            pandas is not importable (Debian: python3-pandas).
        KeyError
            An unknown statistic.
        """
        if statistic is not None:
            if statistic not in ("mean", "median", "lower", "upper", "map", "observed"):
                raise KeyError("statistic: expected mean, median, lower, upper, map or observed")
            return _labelled(getattr(self, statistic), self.models, self.benchmarks, "model",
                             "benchmark")
        cells = self.cells()
        cols = list(cells[0]) if cells else ["model", "family", "known_family", "benchmark",
                                             "observed", "mean", "median", "lower", "upper", "map"]
        return _labelled({c: [x[c] for x in cells] for c in cols},
                         [(x["model"], x["benchmark"]) for x in cells], cols,
                         ["model", "benchmark"])


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
    warnings: List[str] = field(default_factory=list)


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
    warnings: List[str] = field(default_factory=list)

    def to_dataframe(self):
        """One row per skill (index 'skill'); columns mean_a, mean_b, diff,
        lower, upper, prob_greater (P(alpha_A > alpha_B)).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            pandas is not importable (Debian: python3-pandas).
        """
        cols = ["mean_a", "mean_b", "diff", "lower", "upper", "prob_greater"]
        return _labelled({c: getattr(self, c) for c in cols}, self.skills, cols, "skill")


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
    warnings: List[str] = field(default_factory=list)
    # MAE of the predictive median on every family's largest model, held out
    # and predicted from the other rows (NaN without size and tokens), and the
    # K it chooses (None then)
    sibling_mae: Optional[np.ndarray] = None
    best_sibling: Optional[int] = None
    # fits taken from the journal (select(journal=...)) instead of run
    reused: int = 0
    # per K: the folds' and the sibling hold-out's fits run, and how many of
    # them did not converge (their held-out scores come from their last estimates)
    refits: Optional[np.ndarray] = None
    refits_not_converged: Optional[np.ndarray] = None
    # with select_interaction or select_ceilings: the configuration chosen by
    # the sibling MAE (K, covariates, ceilings) and its table, as
    # Evaluation.selection (None otherwise)
    configuration: Optional[dict] = None

    def to_dataframe(self):
        """One row per number of skills (index 'skills', the K values);
        columns loglik, n_params, aic, bic, cv_loglik (NaN without folds),
        sibling_mae, converged, sampled, refits, refits_not_converged.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            pandas is not importable (Debian: python3-pandas).
        """
        cols = {"loglik": self.loglik, "n_params": self.n_params, "aic": self.aic,
                "bic": self.bic, "cv_loglik": self.cv,
                "sibling_mae": (self.sibling_mae if self.sibling_mae is not None
                                else np.full(len(self.K), np.nan)),
                "converged": self.converged,
                "sampled": (self.sampled if self.sampled is not None
                            else np.zeros(len(self.K), dtype=bool))}
        for name in ("refits", "refits_not_converged"):
            v = getattr(self, name)
            cols[name] = v if v is not None else np.zeros(len(self.K), dtype=np.int64)
        return _labelled(cols, [int(k) for k in self.K], list(cols), "skills")

    def configuration_dataframe(self):
        """The configuration table of select(select_interaction=...,
        select_ceilings=...): one row per K and configuration (index
        'skills', 'configuration', numbered from 1 as the command prints
        them); columns covariates, ceilings (the estimated ones, comma
        separated; '' none), sibling_mae, mae_difference and
        mae_difference_se (from the smallest, paired over the held-out
        families), converged, chosen (True on the chosen row).

        Raises
        ------
        ValueError
            the selection chose no configuration (neither flag was given).
        ImportError
            pandas is not importable (Debian: python3-pandas).
        """
        return _configuration_frame(self.configuration,
                                    "select ran without select_interaction or select_ceilings")


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
    warnings: List[str] = field(default_factory=list)

    def to_dataframe(self):
        """One row per target and budget, indexed by (kind, target, flops):
        kind is skill or benchmark (a skill is named by its anchor benchmark,
        which can be a target too: the kind keeps the rows apart); columns
        size, size_lower, size_upper (billions of parameters), tokens,
        tokens_lower, tokens_upper (trillions), value.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            pandas is not importable (Debian: python3-pandas).
        """
        cols = ["size", "size_lower", "size_upper", "tokens", "tokens_lower", "tokens_upper", "value"]
        arrays = {"size": self.size, "size_lower": self.size_lo, "size_upper": self.size_hi,
                  "tokens": self.tokens, "tokens_lower": self.tokens_lo,
                  "tokens_upper": self.tokens_hi, "value": self.value}
        index, data = [], {c: [] for c in cols}
        for t, name in enumerate(self.targets):
            for b, c in enumerate(self.budgets):
                index.append((self.kinds[t], name, float(c)))
                for k, v in arrays.items():
                    data[k].append(float(v[t, b]))
        return _labelled(data, index, cols, ["kind", "target", "flops"])


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
    warnings: List[str] = field(default_factory=list)
    # evaluate(select=...): the choice made inside the training rows only,
    # a dict with skills (the K tried), covariates (the covariate lists
    # tried), sibling_mae (K x covariate lists), converged (the same shape),
    # chosen_skills and chosen_covariates; None without select
    selection: Optional[dict] = None

    def selection_dataframe(self):
        """The table of evaluate(select=...)'s choice inside the training
        rows, as Selection.configuration_dataframe: one row per K and
        configuration, the chosen row marked.

        Raises
        ------
        ValueError
            evaluate ran without select.
        ImportError
            pandas is not importable (Debian: python3-pandas).
        """
        return _configuration_frame(self.selection, "evaluate ran without select")

    def to_dataframe(self):
        """One row per benchmark and a last row 'overall' (index
        'benchmark'); columns mae (of the predictive median, the library's),
        mae_mean (of the predictive mean), mae_map (of the plug-in),
        coverage (share of observed test scores inside the intervals) and
        cells (observed test scores).  The benchmarks' mae_mean, mae_map,
        coverage and cells are computed from ``prediction``; the overall row
        holds the library's figures.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            pandas is not importable (Debian: python3-pandas).
        """
        p = self.prediction
        obs = np.asarray(p.observed, dtype=float)
        seen = ~np.isnan(obs)
        cells = seen.sum(axis=0)

        def per(x):
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(cells > 0, np.where(seen, x, 0.0).sum(axis=0) / np.maximum(cells, 1),
                                np.nan)
        inside = (p.lower <= obs) & (obs <= p.upper)
        cols = {"mae": list(self.mae) + [self.mae_overall],
                "mae_mean": list(per(np.abs(p.mean - obs))) + [self.mae_mean],
                "mae_map": list(per(np.abs(p.map - obs))) + [self.mae_map],
                "coverage": list(per(inside.astype(float))) + [self.coverage],
                "cells": [int(c) for c in cells] + [int(self.n_cells)]}
        return _labelled(cols, list(self.benchmarks) + ["overall"], list(cols), "benchmark")

    def close(self):
        if self.fit is not None:
            self.fit.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
