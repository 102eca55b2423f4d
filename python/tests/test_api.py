"""The binding's interface: explicit documented keywords whose defaults are the
library's, fit.summary() as the CLI prints it, labelled DataFrames, NaN for
missing values, warnings as LatentscaleWarning (issue 28, item 16).

Data: a small simulated leaderboard (25 families, K = 2, 4 benchmarks), one
converged fit and one stopped after 5 iterations (which does not converge),
each made by the CLI and by the binding.  Without pandas the DataFrame tests
run against a minimal stand-in that records the labels it is given.
"""
import contextlib
import inspect
import json
import os
import re
import shutil
import subprocess
import tempfile
import types
import unittest
import warnings

import numpy as np

import latentscale as ls
from latentscale import _tables

THREADS = 2
FIT = dict(skills=2, starts=1, seed=1, threads=THREADS)
CLI_FIT = ["--skills", "2", "--starts", "1", "--seed", "1", "--threads", str(THREADS)]
NOCONV = dict(max_iter=5, gtol=1e-12)  # stops short: not converged
S = {}

# (name, data, CLI options, the binding's keywords): K = 2; stopped short (not
# converged, a warning); K = 1 with precision covariates and estimated
# ceilings (the gamma rows, the test against constant precision, the ceiling
# column); K = 4 (the check by a finer sparse grid)
SUMMARY_CASES = [
    ("k2", "lb.csv", CLI_FIT, FIT),
    ("noconv", "lb.csv", CLI_FIT + ["--max-iter", "5", "--gtol", "1e-12"], dict(FIT, **NOCONV)),
    ("hetero", "lb.csv", ["--skills", "1", "--starts", "1", "--threads", str(THREADS),
                          "--precision-covariates", "--estimate-ceilings", "all"],
     dict(skills=1, starts=1, threads=THREADS, precision_covariates=True,
          estimate_ceilings="all")),
    ("k4", "lb4.csv", ["--skills", "4", "--starts", "1", "--threads", str(THREADS)],
     dict(skills=4, starts=1, threads=THREADS)),
    # the family-by-benchmark effect (tau rows, the test against none)
    ("fe", "lb.csv", ["--skills", "1", "--threads", str(THREADS), "--family-effect"],
     dict(skills=1, threads=THREADS, family_effect=True)),
]


def floors_of(data):
    return "floors4.csv" if data == "lb4.csv" else "floors.csv"


def cli_path():
    p = os.environ.get("LATENTSCALE_CLI")
    if not p:
        p = os.path.join(os.path.dirname(ls.library_path()), "latentscale")
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


def cli(*args, codes=(0,)):
    r = subprocess.run([S["cli"]] + [str(a) for a in args], cwd=S["dir"], capture_output=True,
                       text=True, timeout=300)
    if r.returncode not in codes:
        raise AssertionError("latentscale %s: exit %d\n%s" % (" ".join(map(str, args)),
                                                            r.returncode, r.stderr))
    return r.stdout


def setUpModule():
    S["cli"] = cli_path()
    if S["cli"] is None:
        raise unittest.SkipTest("the latentscale program was not found (set LATENTSCALE_CLI)")
    S["dir"], S["cwd"] = tempfile.mkdtemp(prefix="latentscale-api-"), os.getcwd()
    os.chdir(S["dir"])
    cli("simulate", "--n-families", 25, "--skills", 2, "--n-benchmarks", 4, "--seed", 3,
        "--out", "lb.csv", "--floors-out", "floors.csv")
    S["bench"] = ls.simulate(n_families=25, skills=2, n_benchmarks=4, seed=3).benchmarks
    with open("new.csv", "w") as f:
        f.write("model,family,size,tokens,%s\n" % S["bench"][0]
                + "new-a,fam0001,7,2,0.61\nnew-b,unseen,70,15,\nnew-c,fam0002,0.5,1,NA\n")
    # the CLI's fits and summaries (SUMMARY_CASES); noconv stops short of a
    # gtol out of reach: returned, written with "converged": false, exit 4
    cli("simulate", "--n-families", 40, "--skills", 4, "--n-benchmarks", 6, "--seed", 3,
        "--out", "lb4.csv", "--floors-out", "floors4.csv")
    S["out"] = {}
    for name, data, opts, _ in SUMMARY_CASES:
        S["out"][name] = cli("fit", data, "--floors", floors_of(data), *opts,
                             "--out", name + ".json", codes=(4,) if name == "noconv" else (0,))
    S["cli_out"] = S["out"]["k2"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ls.LatentscaleWarning)
        S["fit"] = ls.load_fit("k2.json", "lb.csv", threads=THREADS)


def tearDownModule():
    if "fit" in S:
        S["fit"].close()
    if "dir" in S:
        os.chdir(S["cwd"])
        shutil.rmtree(S["dir"], ignore_errors=True)


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ls.LatentscaleWarning)
        yield


# ---------------------------------------------------------------------------
# Keywords and docstrings
# ---------------------------------------------------------------------------

TASKS = ["fit", "select", "predict", "evaluate", "optimal", "compare", "posterior", "report",
         "load_fit", "simulate"]
METHODS = ["predict", "posterior", "compare", "optimal"]
# options whose default is the library's: None in every signature
LIBRARY_OPTIONS = {"level", "param_draws", "latent_draws", "seed", "threads", "param_cov",
                   "chains", "warmup", "draws", "skills", "starts", "integration", "nodes", "gtol",
                   "max_iter", "se", "precision_covariates", "logit_clamp", "clip",
                   "model_column", "family_column", "top", "grid", "optimal_draws", "n_families",
                   "missing"}
# keywords named unlike their ls_*_options field (the CLI's names)
FIELD_OF = {("simulate", "n_families"): "families", ("simulate", "n_benchmarks"): "benchmarks",
            ("optimal", "param_draws"): "draws"}
# which ls_*_options structure documents a function's defaults
STRUCTS = {"predict": ["predict"], "compare": ["predict"], "posterior": ["posterior"],
           "optimal": ["optimal"], "fit": ["fit", "data"], "select": ["fit", "data"],
           "evaluate": ["fit", "data", "predict"], "report": ["report"], "load_fit": ["fit"],
           "simulate": ["simulate"]}


def documented(doc):
    """{parameter: its text} from a numpydoc Parameters section."""
    m = re.search(r"\nParameters\n-+\n(.*?)\n\n(Returns|Raises)\n", doc, re.S)
    if not m:
        return {}
    out, name = {}, None
    for line in m.group(1).split("\n"):
        h = re.match(r"^(\w+) : ", line)
        if h:
            name = h.group(1)
            out[name] = ""
        elif name:
            out[name] += " " + line.strip()
    return out


class TestKeywords(unittest.TestCase):
    def test_no_bare_kwargs_anywhere_public(self):
        found = []
        for name in ls.__all__:
            obj = getattr(ls, name)
            members = [(name, obj)]
            if inspect.isclass(obj):
                members += [(name + "." + m, f) for m, f in vars(obj).items()
                            if not m.startswith("_") and callable(f)]
            for label, f in members:
                if not callable(f) or inspect.isclass(f):
                    continue
                try:
                    sig = inspect.signature(f)
                except (TypeError, ValueError):
                    continue
                if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
                    found.append(label)
        self.assertEqual(found, [], "functions taking **kwargs")
        for m in METHODS:
            sig = inspect.signature(getattr(ls.Fit, m))
            self.assertFalse(any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()), m)

    def test_methods_take_the_functions_keywords(self):
        for m in METHODS:
            fn = [p for p in inspect.signature(getattr(ls, m)).parameters.values()
                  if p.name not in ("fit", "data")]
            me = [p for p in inspect.signature(getattr(ls.Fit, m)).parameters.values()
                  if p.name != "self"]
            self.assertEqual([(p.name, p.kind, p.default) for p in me],
                             [(p.name, p.kind, p.default) for p in fn], m)

    def test_library_options_default_to_none(self):
        for name in TASKS:
            for p in inspect.signature(getattr(ls, name)).parameters.values():
                if p.name in LIBRARY_OPTIONS and (name, p.name) != ("select", "skills"):
                    self.assertIsNone(p.default, "%s(%s=%r)" % (name, p.name, p.default))
        for p in inspect.signature(ls.Model).parameters.values():
            if p.name in LIBRARY_OPTIONS and p.name != "skills":  # required
                self.assertIsNone(p.default, "Model(%s=%r)" % (p.name, p.default))
        for m in METHODS:
            for p in inspect.signature(getattr(ls.Fit, m)).parameters.values():
                if p.name in LIBRARY_OPTIONS:
                    self.assertIsNone(p.default, "Fit.%s(%s=%r)" % (m, p.name, p.default))

    def test_every_parameter_documented(self):
        funcs = [(n, getattr(ls, n)) for n in TASKS]
        funcs += [("Fit." + m, getattr(ls.Fit, m)) for m in METHODS + ["summary"]]
        funcs += [("defaults", ls.defaults)]
        for label, f in funcs:
            doc = inspect.getdoc(f) or ""
            for section in ("Returns\n-------", "Raises\n------"):
                self.assertIn(section, doc, "%s: no %s" % (label, section.split()[0]))
            params = [p.name for p in inspect.signature(f).parameters.values() if p.name != "self"]
            if params:
                self.assertIn("Parameters\n----------", doc, label)
                self.assertEqual(sorted(documented(doc)), sorted(params), label)

    def test_old_keyword_spellings_name_the_new_one(self):
        cases = [(lambda: ls.simulate(families=5), "simulate: the keyword families is now n_families"),
                 (lambda: ls.simulate(benchmarks=3), "the keyword benchmarks is now n_benchmarks"),
                 (lambda: ls.optimal("k2.json", draws=0), "optimal: the keyword draws is now param_draws"),
                 (lambda: S["fit"].optimal(draws=0), "optimal: the keyword draws is now param_draws"),
                 (lambda: ls.report("k2.json", "lb.csv", out="r.html", families=["a"]),
                  "report: the keyword families is now highlight"),
                 (lambda: ls.factor("x.csv", family="probit"), "factor: the keyword family is now response")]
        for call, want in cases:
            with self.assertRaises(ls.OptionError) as cm:
                call()
            self.assertIn(want, str(cm.exception))
        self.assertFalse(os.path.exists("r.html"))

    def test_documented_defaults_are_the_librarys(self):
        checked = 0
        funcs = [(n, getattr(ls, n)) for n in STRUCTS] + [(m, getattr(ls.Fit, m)) for m in METHODS]
        for name, f in funcs:
            table = {}
            for task in STRUCTS[name]:
                table.update(ls.defaults(task))
            for p, text in documented(inspect.getdoc(f)).items():
                m = re.search(r"\(library default: ([^,;)]+)", text)
                if not m:
                    continue
                p = FIELD_OF.get((name, p), p)
                if p not in table:  # the threads of a fit file's loading
                    self.assertIn(name, ("posterior", "load_fit"), (name, p))
                    self.assertEqual(p, "threads")
                    continue
                want = table[p]
                got = m.group(1).strip()
                if isinstance(want, (int, float)):
                    self.assertEqual(float(got), float(want), "%s(%s)" % (name, p))
                else:
                    self.assertEqual(got, want, "%s(%s)" % (name, p))
                checked += 1
        self.assertGreater(checked, 30)

    def test_units_documented(self):
        doc = inspect.getdoc(ls.optimal)
        self.assertIn("billions of parameters", doc)
        self.assertIn("trillions", doc)
        self.assertIn("billions of parameters", inspect.getdoc(ls.fit))

    def test_none_means_the_library_default(self):
        d = ls.defaults("predict")
        a = S["fit"].predict("new.csv")
        b = S["fit"].predict("new.csv", level=d["level"], param_draws=d["param_draws"],
                             latent_draws=d["latent_draws"], seed=d["seed"])
        self.assertEqual(a.level, d["level"])
        np.testing.assert_array_equal(a.median, b.median)
        c = S["fit"].predict("new.csv", seed=d["seed"] + 1)
        self.assertFalse(np.array_equal(a.median, c.median))  # the seed is really passed
        with self.assertRaises(ls.OptionError):
            S["fit"].predict("new.csv", level=1.5)
        with self.assertRaises(TypeError):
            S["fit"].predict("new.csv", levle=0.8)  # a misspelt keyword is an error
        o = ls.defaults("optimal")
        self.assertEqual(S["fit"].optimal(budgets=[1e22]).level, o["level"])
        with self.assertRaises(ls.OptionError):
            ls.defaults("nosuch")


# ---------------------------------------------------------------------------
# summary()
# ---------------------------------------------------------------------------

def estimates_part(text):
    """The lines up to the log-likelihood line (included)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("log-likelihood "):
            return lines[:i + 1]
    raise AssertionError("no log-likelihood line in:\n" + text)


def split_summary(text):
    """(the lines but the time and the warnings, the warnings) of a summary."""
    lines = text.splitlines()
    return ([x for x in lines if not x.startswith("time: ") and not x.startswith("warning: ")],
            [x for x in lines if x.startswith("warning: ")])


class TestSummary(unittest.TestCase):
    def test_the_cases_reach_their_branches(self):
        self.assertIn("converged: NO", S["out"]["noconv"])
        self.assertIn("warning: the optimiser did not converge", S["out"]["noconv"])
        self.assertIn("against constant precision", S["out"]["hetero"])
        self.assertIn("   ceiling", S["out"]["hetero"])
        self.assertIn("the sparse grid two levels finer", S["out"]["k4"])
        self.assertIn("skill correlations", S["out"]["k2"])
        self.assertIn("family-by-benchmark effect", S["out"]["fe"])
        self.assertIn("against no effect", S["out"]["fe"])

    def test_a_fit_prints_the_cli_summary(self):
        for name, data, _, kw in SUMMARY_CASES:
            with quiet(), ls.fit(data, floors=floors_of(data), **kw) as f:
                mine = f.summary()
            self.assertIsInstance(mine, str)
            self.assertEqual(repr(mine), str(mine))  # shown as the text at the prompt
            body, warned = split_summary(mine)
            theirs, their_warnings = split_summary(S["out"][name])
            self.assertGreater(len(theirs), 15)
            self.assertEqual(body, theirs, name)
            # the same warnings, options named by Python keywords
            self.assertEqual(len(warned), len(their_warnings), name)
            self.assertEqual(sum(x.startswith("time: ") for x in mine.splitlines()), 1, name)

    def test_a_loaded_fit_prints_the_cli_summary(self):
        for name, data, _, _ in SUMMARY_CASES:
            with quiet(), ls.load_fit(name + ".json", data, threads=THREADS) as g:
                mine = g.summary()
            body, warned = split_summary(mine)
            theirs, their_warnings = split_summary(S["out"][name])
            self.assertEqual(body, theirs, name)
            self.assertEqual(len(warned), len(their_warnings), name)
            self.assertNotIn("time: ", mine)  # a fit file does not record the times
        self.assertEqual(estimates_part(S["fit"].summary()), estimates_part(S["cli_out"]))


# ---------------------------------------------------------------------------
# DataFrames
# ---------------------------------------------------------------------------

class _Index(list):
    def __init__(self, items=None, name=None):
        super().__init__(items or [])
        self.name = name


class _MultiIndex(list):
    def __init__(self, items, names):
        super().__init__(items)
        self.names = list(names)

    @classmethod
    def from_tuples(cls, tuples, names=None):
        return cls(tuples, names)


class _Frame:
    """The stand-in for pandas.DataFrame: rows and columns as given, .loc[row, col]."""

    def __init__(self, data, index=None, columns=None):
        self.index, self.columns = index, columns
        if isinstance(data, dict):
            self.values = [[data[c][i] for c in columns] for i in range(len(index))]
        else:
            self.values = np.asarray(data).tolist()

    class _Loc:
        def __init__(self, frame):
            self.f = frame

        def __getitem__(self, key):
            r, c = key
            return self.f.values[list(self.f.index).index(r)][list(self.f.columns).index(c)]

    @property
    def loc(self):
        return _Frame._Loc(self)

    @property
    def shape(self):
        return (len(self.values), len(self.columns))


def stand_in_pandas():
    return types.SimpleNamespace(DataFrame=_Frame, Index=_Index, MultiIndex=_MultiIndex)


@contextlib.contextmanager
def some_pandas():
    """The real pandas if importable, else the stand-in."""
    if _tables.pandas() is not None:
        yield
        return
    saved = _tables.pandas
    _tables.pandas = stand_in_pandas
    try:
        yield
    finally:
        _tables.pandas = saved


def index_name(df):
    return getattr(df.index, "name", None)


class TestDataFrames(unittest.TestCase):
    def test_without_pandas_the_error_names_the_package(self):
        saved = _tables.pandas
        _tables.pandas = lambda: None
        try:
            with self.assertRaises(ImportError) as cm:
                S["fit"].params.to_dataframe()
            self.assertIn("python3-pandas", str(cm.exception))
        finally:
            _tables.pandas = saved

    def test_params(self):
        f = S["fit"]
        with some_pandas():
            lam = f.params.to_dataframe("lambda")
            self.assertEqual(list(lam.index), f.skill_names)
            self.assertEqual(list(lam.columns), f.benchmarks)
            self.assertEqual(lam.loc[f.skill_names[1], f.benchmarks[2]], f.params.lambda_[1, 2])
            beta = f.params.to_dataframe("beta")
            self.assertEqual(list(beta.index), f.covariates)
            self.assertEqual(list(beta.columns), f.skill_names)
            se = f.se["hessian"].to_dataframe("beta")
            self.assertEqual(se.loc[f.covariates[0], f.skill_names[0]],
                             f.se["hessian"].beta[0, 0])
            b = f.params.to_dataframe("b")
            self.assertEqual(list(b.index), f.benchmarks)
            long = f.params.to_dataframe()
            self.assertEqual(list(long.index.names), ["block", "row", "column"])
            self.assertEqual(len(long.index), f.params.beta.size + f.params.lambda_.size
                             + 2 * len(f.benchmarks) + f.params.sigma.size)
            key = ("beta", f.covariates[1], f.skill_names[0])
            self.assertEqual(long.loc[key, "value"], f.params.beta[1, 0])
            with self.assertRaises(KeyError):
                f.params.to_dataframe("gamma")  # a constant-precision fit has none

    def test_comparison_and_prediction(self):
        f = S["fit"]
        cmp = f.compare(f.families[0], f.families[1], param_draws=20, latent_draws=10)
        pred = f.predict("new.csv", param_draws=20, latent_draws=10)
        with some_pandas():
            df = cmp.to_dataframe()
            self.assertEqual(list(df.index), cmp.skills)
            self.assertEqual(cmp.skills, f.skill_names)
            self.assertEqual(index_name(df), "skill")
            self.assertEqual(list(df.columns), ["mean_a", "mean_b", "diff", "lower", "upper",
                                                "prob_greater"])
            self.assertEqual(df.loc[cmp.skills[1], "prob_greater"], cmp.prob_greater[1])
            wide = pred.to_dataframe("median")
            self.assertEqual(list(wide.index), ["new-a", "new-b", "new-c"])
            self.assertEqual(list(wide.columns), f.benchmarks)
            self.assertEqual(wide.loc["new-b", f.benchmarks[3]], pred.median[1, 3])
            long = pred.to_dataframe()
            self.assertEqual(list(long.index.names), ["model", "benchmark"])
            self.assertEqual(len(long.index), 3 * len(f.benchmarks))
            obs = long.loc[("new-b", f.benchmarks[0]), "observed"]
            self.assertIsInstance(obs, float)
            self.assertTrue(np.isnan(obs))
            self.assertEqual(long.loc[("new-a", f.benchmarks[0]), "observed"], 0.61)

    def test_allocation(self):
        a = S["fit"].optimal(budgets=[1e22, 1e23], param_draws=0)
        with some_pandas():
            df = a.to_dataframe()
            self.assertEqual(list(df.index.names), ["kind", "target", "flops"])
            self.assertEqual(len(df.index), len(a.targets) * 2)
            self.assertEqual(a.targets[:2], S["fit"].skill_names)
            self.assertEqual(df.loc[("skill", a.targets[1], 1e23), "size"], a.size[1, 1])
            self.assertEqual(df.loc[("benchmark", a.targets[-1], 1e22), "size"], a.size[-1, 0])
            # a skill is named by its anchor, which is a benchmark target too:
            # the kind keeps the two rows apart (a unique index)
            if a.targets[0] in a.targets[2:]:
                j = a.targets.index(a.targets[0], 2)
                self.assertEqual(df.loc[("benchmark", a.targets[0], 1e22), "size"], a.size[j, 0])
            self.assertTrue(df.index.is_unique if hasattr(df.index, "is_unique") else True)

    def test_selection_and_evaluation(self):
        with quiet():
            sel = ls.select("lb.csv", skills="1..2", folds=0, floors="floors.csv", starts=1,
                            threads=THREADS)
            with ls.evaluate("lb.csv", holdout="largest", floors="floors.csv", param_draws=20,
                             latent_draws=10, **FIT) as ev:
                pass
        with some_pandas():
            df = sel.to_dataframe()
            self.assertEqual(list(df.index), [1, 2])
            self.assertEqual(index_name(df), "skills")
            self.assertEqual(df.loc[2, "aic"], sel.aic[1])
            self.assertEqual(df.loc[1, "n_params"], sel.n_params[0])
            self.assertTrue(np.isnan(df.loc[1, "cv_loglik"]))  # no folds: NaN, not None
            ef = ev.to_dataframe()
            self.assertEqual(list(ef.index), ev.benchmarks + ["overall"])
            self.assertEqual(index_name(ef), "benchmark")
            self.assertEqual(list(ef.columns), ["mae", "mae_mean", "mae_map", "coverage", "cells"])
            self.assertEqual(ef.loc["overall", "mae"], ev.mae_overall)
            self.assertEqual(ef.loc[ev.benchmarks[1], "mae"], ev.mae[1])
            self.assertEqual(ef.loc["overall", "cells"], ev.n_cells)
            # the benchmarks' cells and absolute errors add up to the library's overall figures
            cells = [ef.loc[b, "cells"] for b in ev.benchmarks]
            self.assertEqual(sum(cells), ev.n_cells)
            self.assertGreater(ev.n_cells, 0)
            tot = sum(ef.loc[b, "mae_mean"] * c for b, c in zip(ev.benchmarks, cells) if c)
            self.assertAlmostEqual(tot / ev.n_cells, ev.mae_mean, places=12)
            cov = sum(ef.loc[b, "coverage"] * c for b, c in zip(ev.benchmarks, cells) if c)
            self.assertAlmostEqual(cov / ev.n_cells, ev.coverage, places=12)


# ---------------------------------------------------------------------------
# NaN for missing values
# ---------------------------------------------------------------------------

class TestMissing(unittest.TestCase):
    def test_observed_is_a_float_array_with_nan(self):
        pred = S["fit"].predict("new.csv", param_draws=20, latent_draws=10)
        self.assertEqual(pred.observed.dtype, np.float64)
        self.assertEqual(pred.observed[0, 0], 0.61)
        self.assertTrue(np.isnan(pred.observed[1, 0]))  # empty cell
        self.assertTrue(np.isnan(pred.observed[2, 0]))  # NA
        self.assertTrue(np.isnan(pred.observed[0, 1]))  # no column
        for cell in pred.cells():
            self.assertIsNotNone(cell["observed"])
            self.assertIsInstance(cell["observed"], float)
        sim = ls.simulate(n_families=10, skills=1, n_benchmarks=3, missing=0.5, seed=2)
        col = np.asarray(sim.data[sim.benchmarks[0]])
        self.assertEqual(col.dtype, np.float64)
        self.assertTrue(np.isnan(col).any())


# ---------------------------------------------------------------------------
# Warnings
# ---------------------------------------------------------------------------

class TestWarnings(unittest.TestCase):
    def test_class(self):
        self.assertTrue(issubclass(ls.LatentscaleWarning, UserWarning))
        self.assertIn("LatentscaleWarning", ls.__all__)

    def test_load_fit_warns_for_a_fit_that_did_not_converge(self):
        with self.assertWarns(ls.LatentscaleWarning) as cm:
            g = ls.load_fit("noconv.json", "lb.csv", threads=THREADS)
        with g:
            self.assertFalse(g.converged)
            self.assertTrue(g.warnings)
            self.assertIn(str(cm.warning), g.warnings)
        self.assertTrue(any("did not converge" in w for w in g.warnings))
        # a converged fit without warnings warns nothing
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            with ls.load_fit("k2.json", "lb.csv", threads=THREADS) as h:
                self.assertTrue(h.converged)
                n = len(h.warnings)
        self.assertEqual(len([w for w in got if issubclass(w.category, ls.LatentscaleWarning)]), n)

    def test_fit_warns_each_warning(self):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            f = ls.fit("lb.csv", floors="floors.csv", **NOCONV, **FIT)
        with f:
            mine = [str(w.message) for w in got if issubclass(w.category, ls.LatentscaleWarning)]
            self.assertEqual(mine, f.warnings)
            self.assertFalse(f.converged)
            self.assertTrue(any("did not converge" in w for w in mine))
            # as an error when the user asks for it
            with warnings.catch_warnings():
                warnings.simplefilter("error", ls.LatentscaleWarning)
                with self.assertRaises(ls.LatentscaleWarning):
                    ls.load_fit("noconv.json", "lb.csv", threads=THREADS).close()

    def test_result_warnings(self):
        with self.assertWarns(ls.LatentscaleWarning) as cm:
            a = S["fit"].optimal(budgets=[1e40], param_draws=0)
        self.assertIn("budgets: 1e+40 FLOPs is above", str(cm.warning))
        self.assertEqual(a.warnings, [str(cm.warning)])
        with self.assertWarns(ls.LatentscaleWarning) as cm:
            ev = ls.evaluate("lb.csv", holdout="largest", floors="floors.csv", **NOCONV,
                             param_draws=0, latent_draws=10, **FIT)
        with ev:
            self.assertTrue(ev.warnings)
            self.assertTrue(all(w.startswith("training fit: ") for w in ev.warnings))
            self.assertIn(str(cm.warning), ev.warnings)

    def test_ceiling_uncertainty_far_above_the_data(self):
        f = S["fit"]
        fam = f.families[0]
        with open("far.csv", "w") as h:
            h.write("model,family,size,tokens\nfar,%s,1e6,1e5\n" % fam)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ls.LatentscaleWarning)
            known = f.predict("far.csv", param_draws=0, latent_draws=100, ceiling_uncertainty=False)
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            drawn = f.predict("far.csv", param_draws=0, latent_draws=100)
        far = [str(w.message) for w in got if "far above the best score" in str(w.message)]
        top = [j for j in range(len(f.benchmarks)) if known.lower[0, j] > 0.999]
        self.assertTrue(top, "no interval collapsed onto 1 with the ceiling known")
        self.assertEqual(len(far), 1)
        for j in top:
            self.assertIn(f.benchmarks[j], far[0])
            self.assertLess(drawn.lower[0, j], 0.99)
            self.assertLessEqual(drawn.upper[0, j], 1.0)


class TestCalibration(unittest.TestCase):
    """fit() by default (calibrate=True) holds out each family's largest
    model, refits and stores the predictive CDF values of their scores; the
    CLI's fit stores the same values in its file; calibrate=False leaves
    the model's own levels."""

    def test_calibrated_fit_matches_the_cli(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ls.LatentscaleWarning)
            f = ls.fit("lb.csv", floors="floors.csv", skills=1, starts=2, threads=THREADS)
        try:
            u = f.calibration
            self.assertIsNotNone(u)
            self.assertGreater(len(u), 10)
            self.assertTrue(np.all(np.diff(u) >= 0) and u[0] >= 0 and u[-1] <= 1)
            self.assertEqual(f.calibrated_level(0.5), float(np.median(u)))
            lo = f.calibrated_level(0.05)
            self.assertTrue(0 <= lo <= 0.5)
            cli("fit", "lb.csv", "--floors", "floors.csv", "--skills", 1, "--starts", 2,
                "--threads", THREADS, "--out", "cal.json")
            with open("cal.json") as fh:
                rec = json.load(fh)["calibration"]
            np.testing.assert_allclose(u, rec["pit"], rtol=0, atol=1e-12)
            # per benchmark: together the pooled values; an interval's end is
            # the benchmark's own level where its cells give one, else shrunk
            # towards the pooled one; the same after the file is read back
            self.assertEqual(rec["folds"], 5)
            per = rec["pit_by_benchmark"]
            self.assertEqual(sorted(per), sorted(f.benchmarks))
            np.testing.assert_allclose(np.sort(np.concatenate([per[b] for b in f.benchmarks])), u,
                                       rtol=0, atol=1e-12)
            g = ls.load_fit("cal.json", "lb.csv")
            try:
                for b in f.benchmarks:
                    nb = len(per[b])
                    k = int(np.floor((nb + 1) * 0.05 + 1e-9))  # split-conformal order statistic
                    own = float(np.sort(per[b])[k - 1]) if k >= 1 else 0.0
                    want = own if k >= 1 else (nb * own + 20 * f.calibrated_level(0.05)) / (nb + 20)
                    self.assertAlmostEqual(f.calibrated_level(0.05, b), want, places=12)
                    self.assertEqual(g.calibrated_level(0.05, b), f.calibrated_level(0.05, b))
                    self.assertAlmostEqual(rec["levels_by_benchmark"][b]["0.05"], f.calibrated_level(0.05, b),
                                           places=9)
                with self.assertRaises(ls.OptionError):
                    f.calibrated_level(0.05, "no-such-benchmark")
            finally:
                g.close()
        finally:
            f.close()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ls.LatentscaleWarning)
            g = ls.fit("lb.csv", floors="floors.csv", skills=1, starts=2, threads=THREADS, calibrate=False)
        try:
            self.assertIsNone(g.calibration)
            self.assertNotIn("calibration:", g.summary())
            self.assertEqual(g.calibrated_level(0.05), 0.05)
        finally:
            g.close()


class TestColumns(unittest.TestCase):
    """size_column / tokens_column read other column names (the CLI's
    --size-column, --tokens-column); drop_incomplete drops rows without a
    size, with a warning, where the default refuses them."""

    def test_renamed_columns_and_dropped_rows(self):
        with open("lb.csv") as fh:
            lines = fh.read().splitlines()
        head = lines[0].split(",")
        self.assertEqual(head[2:4], ["size", "tokens"])
        with open("renamed.csv", "w") as fh:
            fh.write(",".join(head[:2] + ["params_b", "tokens_t"] + head[4:]) + "\n")
            fh.write("\n".join(lines[1:]) + "\n")
        row = lines[1].split(",")
        row[2] = ""
        with open("nosize.csv", "w") as fh:
            fh.write("\n".join([lines[0], ",".join(row)] + lines[2:]) + "\n")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ls.LatentscaleWarning)
            a = ls.fit("lb.csv", floors="floors.csv", skills=1, starts=1, threads=THREADS)
            b = ls.fit("renamed.csv", floors="floors.csv", skills=1, starts=1, threads=THREADS,
                       size_column="params_b", tokens_column="tokens_t")
        try:
            self.assertEqual(a.loglik, b.loglik)
        finally:
            a.close()
            b.close()
        with self.assertRaises(ls.LatentscaleError) as cm:
            ls.fit("nosize.csv", floors="floors.csv", skills=1, starts=1, threads=THREADS)
        self.assertIn("drop-incomplete", str(cm.exception).replace("_", "-"))
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always", ls.LatentscaleWarning)
            c = ls.fit("nosize.csv", floors="floors.csv", skills=1, starts=1, threads=THREADS,
                       drop_incomplete=True)
        try:
            dropped = [str(w.message) for w in got if "dropped 1 of" in str(w.message)]
            self.assertEqual(len(dropped), 1, [str(w.message) for w in got])
            self.assertIn(row[0], dropped[0])
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
