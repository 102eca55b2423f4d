"""The binding's `factor` and `gpcm` against the command line, on small simulated data.

The data are drawn here with numpy from a fixed seed (the public API has no
simulation for these models): binary responses from a two-factor logistic
model with two covariates and two items with DIF (400 persons x 40 items),
and ordered scores from a two-factor partial credit model (300 x 8, 2-4
categories, R's row names in an unnamed first column, 3 % missing).  The
CLI and the binding call the same library with the same options and seeds,
so their JSON files must be identical (but for the command line recorded in
them) and every array of the Python result must equal the CLI's JSON value
exactly.  Errors must carry the CLI's message.

Environment: as test_binding.py (LATENTSCALE_LIB, LATENTSCALE_CLI, PYTHONPATH).
"""
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import warnings

import numpy as np

import latentscale as ls

try:
    import pandas as pd
except ImportError:
    pd = None

THREADS = 2
S = {}  # fixture: folder, CLI path, the CLI's JSON files and the binding's fits

# the CLI runs and the same calls from Python
FACTOR_MAIN = (["factor", "factor.csv", "--items", "Q*", "--covariates", "x1,x2", "--factors", 2,
                "--identify", "anchor", "--anchors", "Q01,Q40", "--dif", "--correction", "bh",
                "--ridge", 2, "--starts", 2, "--seed", 3],
               dict(items="Q*", covariates=["x1", "x2"], factors=2, identify="anchor",
                    anchors=["Q01", "Q40"], dif=True, correction="bh", ridge=2, starts=2, seed=3))
FACTOR_SELECT = (["factor", "factor.csv", "--items", "Q0*,Q1*", "--covariates", "x2",
                  "--select", "1..2", "--identify", "triangular", "--ridge", 2, "--no-se",
                  "--starts", 1],
                 dict(items="Q0*,Q1*", covariates="x2", select="1..2", identify="triangular",
                      ridge=2, se=False, starts=1))
FACTOR_GAUSS = (["factor", "gpcm.csv", "--items", "A*,B*", "--response", "gaussian", "--starts", 1,
                 "--identify", "equal-diagonal", "--dif", "--covariates", "(row)", "--alpha", 0.2],
                dict(items="A*,B*", response="gaussian", starts=1, identify="equal-diagonal",
                     dif=True, covariates=["(row)"], alpha=0.2))
FACTOR_BOOT = (["factor", "factor.csv", "--items", "Q0*", "--identify", "anchor",
                "--loading-bootstrap", 12, "--starts", 1],
               dict(items="Q0*", identify="anchor", loading_bootstrap=12, starts=1))
FACTOR_MML = (["factor", "factor.csv", "--items", "Q0*", "--covariates", "x1,x2", "--method", "mml",
               "--dif", "--nodes", 15],
              dict(items="Q0*", covariates=["x1", "x2"], method="mml", dif=True, nodes=15))
FACTOR_AUTO = (["factor", "factor.csv", "--items", "Q0*", "--ridge", "auto", "--starts", 1, "--no-se",
                "--seed", 5],
               dict(items="Q0*", ridge="auto", starts=1, se=False, seed=5))
GPCM_CONF = (["gpcm", "gpcm.csv", "--pattern", "pattern.csv"], dict(pattern="pattern.csv"))
GPCM_EXPL = (["gpcm", "gpcm.csv", "--factors", 2, "--exploratory", "--starts", 2, "--seed", 4],
             dict(factors=2, exploratory=True, starts=2, seed=4))
GPCM_MML = (["gpcm", "gpcm.csv", "--pattern", "pattern.csv", "--method", "mml", "--starts", 1,
             "--nodes", 5],
            dict(pattern="pattern.csv", method="mml", starts=1, nodes=5))
GPCM_ONE = (["gpcm", "gpcm.csv", "--items", "A*", "--no-se", "--starts", 1, "--lowest", 1],
            dict(items="A*", se=False, starts=1, lowest=1))
GPCM_COV = (["gpcm", "gpcm.csv", "--items", "A*,B*", "--covariates", "(row)", "--method", "mml",
             "--starts", 1, "--nodes", 7, "--correction", "bh", "--dif-lr"],
            dict(items="A*,B*", covariates=["(row)"], method="mml", starts=1, nodes=7, correction="bh",
                 dif_lr=True))
RUNS = {"factor_main": FACTOR_MAIN, "factor_select": FACTOR_SELECT, "factor_gauss": FACTOR_GAUSS,
        "factor_boot": FACTOR_BOOT, "factor_mml": FACTOR_MML, "factor_auto": FACTOR_AUTO,
        "gpcm_conf": GPCM_CONF, "gpcm_expl": GPCM_EXPL, "gpcm_mml": GPCM_MML, "gpcm_one": GPCM_ONE,
        "gpcm_cov": GPCM_COV}


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def factor_columns(n=400, q=40, seed=11):
    """Binary responses (NA 3 %), an id column and covariates x1 (0/1), x2."""
    rng = np.random.default_rng(seed)
    x1 = rng.integers(0, 2, n).astype(float)
    x2 = np.round(rng.normal(size=n), 3)
    U = rng.normal(size=(n, 2))
    G = rng.uniform(-0.2, 0.3, (q, 2))
    G[:q // 2, 0] += rng.uniform(0.8, 1.6, q // 2)
    G[q // 2:, 1] += rng.uniform(0.8, 1.6, q - q // 2)
    B = np.zeros((q, 2))
    B[0, 0], B[5, 1] = 1.2, -1.0  # DIF on Q01 (x1) and Q06 (x2)
    W = U @ G.T + rng.normal(0, 0.5, q) + np.outer(x1, B[:, 0]) + np.outer(x2, B[:, 1])
    Y = (rng.uniform(size=(n, q)) < 1 / (1 + np.exp(-W))).astype(float)
    Y[rng.uniform(size=(n, q)) < 0.03] = np.nan
    cols = {"id": ["p%d" % i for i in range(n)]}
    for j in range(q):
        cols["Q%02d" % (j + 1)] = [None if math.isnan(v) else int(v) for v in Y[:, j]]
    cols["x1"], cols["x2"] = [int(v) for v in x1], [float(v) for v in x2]
    return cols


def gpcm_columns(n=300, J=8, seed=12):
    """Scores 1..P_j + 1 (two factors, items A1..A4 on the first, B1..B4 on the second)."""
    rng = np.random.default_rng(seed)
    th = rng.multivariate_normal([0, 0], [[1, .4], [.4, 1]], n)
    cols = {}
    for j in range(J):
        a, P = rng.uniform(0.8, 1.8), (3 if j % 2 else 2)
        b = np.concatenate([[0.0], np.cumsum(np.sort(rng.normal(0, 1, P)))])
        logits = np.outer(a * th[:, 0 if j < J // 2 else 1], np.arange(P + 1)) - b
        pr = np.exp(logits - logits.max(1, keepdims=True))
        pr /= pr.sum(1, keepdims=True)
        y = (rng.uniform(size=n)[:, None] > np.cumsum(pr, 1)).sum(1) + 1
        miss = rng.uniform(size=n) < 0.03
        name = ("A%d" % (j + 1)) if j < J // 2 else ("B%d" % (j + 1 - J // 2))
        cols[name] = [None if m else int(v) for v, m in zip(y, miss)]
    return cols


def write_csv(path_, cols, row_names=False):
    names = list(cols)
    n = len(cols[names[0]])
    with open(path_, "w") as f:
        f.write(",".join(([""] if row_names else []) + names) + "\n")
        for i in range(n):
            cells = ["" if cols[c][i] is None else
                     (repr(cols[c][i]) if isinstance(cols[c][i], float) else str(cols[c][i]))
                     for c in names]
            f.write(",".join((['"%d"' % (i + 1)] if row_names else []) + cells) + "\n")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def cli_path():
    p = os.environ.get("LATENTSCALE_CLI")
    if not p:
        p = os.path.join(os.path.dirname(ls.library_path()), "latentscale")
    return os.path.abspath(p) if os.path.isfile(p) and os.access(p, os.X_OK) else None


def cli(*args, ok=True):
    r = subprocess.run([S["cli"]] + [str(a) for a in args], cwd=S["dir"], capture_output=True,
                       text=True, timeout=300)
    if ok and r.returncode != 0:
        raise AssertionError("latentscale %s: exit %d\n%s" % (" ".join(map(str, args)),
                                                            r.returncode, r.stderr))
    return r.returncode, r.stdout, r.stderr


def path(name):
    return os.path.join(S["dir"], name)


def load(name):
    with open(path(name)) as f:
        return json.load(f)


def without_command_line(d):
    d = dict(d)
    d["options"] = {k: v for k, v in d["options"].items() if k != "command_line"}
    return d


def without_source(d):
    """A file without what names the input (its source and the command line)."""
    d = without_command_line(d)
    d["data"] = {k: v for k, v in d["data"].items() if k not in ("file", "source")}
    return d


def same(test, mine, want, name):
    """Exactly equal arrays (JSON null = NaN), shapes included."""
    a = np.asarray(mine, dtype=float)
    b = np.asarray(np.where(np.equal(want, None), np.nan, want), dtype=float)
    test.assertEqual(a.shape, b.shape, name)
    test.assertTrue(np.array_equal(a, b, equal_nan=True), "%s: %s != %s" % (name, a, b))


def num(x):
    return math.nan if x is None else x


def keywords(msg):
    """The CLI's message in the binding's words: the library's messages name
    an option's field, which the CLI calls by its flag ("--max-iter") and the
    binding by its keyword ("max_iter"; --no-se is se)."""
    m = re.match(r"--([a-z][a-z-]*): ", msg)
    if not m:
        return msg
    flag = m.group(1)
    kw = {"no-se": "se", "no-scale-correction": "scale_correction"}.get(flag, flag.replace("-", "_"))
    return kw + msg[m.end() - 2:]


def setUpModule():
    S["cli"] = cli_path()
    if S["cli"] is None:
        raise unittest.SkipTest("the latentscale program was not found (set LATENTSCALE_CLI)")
    S["dir"], S["cwd"] = tempfile.mkdtemp(prefix="latentscale-psy-"), os.getcwd()
    os.chdir(S["dir"])  # relative names: the files record them, and must agree
    S["factor_cols"], S["gpcm_cols"] = factor_columns(), gpcm_columns()
    write_csv(path("factor.csv"), S["factor_cols"])
    write_csv(path("gpcm.csv"), S["gpcm_cols"], row_names=True)  # R's unnamed row names
    with open(path("pattern.csv"), "w") as f:  # rows named, not in item order
        f.write("item,F1,F2\n" + "".join("B%d,0,1\nA%d,1,0\n" % (k, k) for k in range(1, 5)))
    S["py"] = {}
    for key, (argv, kw) in RUNS.items():
        cli(*(argv + ["--threads", THREADS, "--quiet", "--out", "cli_%s.json" % key]))
        fn = ls.factor if argv[0] == "factor" else ls.gpcm
        S["py"][key] = fn(argv[1], threads=THREADS, out="py_%s.json" % key, **kw)


def tearDownModule():
    for f in S.get("py", {}).values():
        f.close()
    if "dir" in S:
        os.chdir(S["cwd"])
        shutil.rmtree(S["dir"], ignore_errors=True)


# ---------------------------------------------------------------------------

class TestFactor(unittest.TestCase):
    def test_same_json_as_the_cli(self):
        for key in ("factor_main", "factor_select", "factor_gauss", "factor_boot", "factor_mml", "factor_auto"):
            py, cj = load("py_%s.json" % key), load("cli_%s.json" % key)
            self.assertEqual(py["options"]["command_line"]["function"], "factor")
            self.assertEqual(without_command_line(py), without_command_line(cj), key)
            self.assertEqual(S["py"][key].loading_bootstrap, cj["options"]["loading_bootstrap"])
        # the bootstrap ran where asked, and not with ridge (the main run)
        self.assertEqual(S["py"]["factor_boot"].loading_bootstrap, 12)
        self.assertEqual(S["py"]["factor_main"].loading_bootstrap, 0)

    def test_ridge_auto_records_its_cross_validation(self):
        f, cj = S["py"]["factor_auto"], load("cli_factor_auto.json")
        cv = cj["options"]["ridge_cv"]
        self.assertEqual(f.ridge_cv["folds"], cv["folds"])
        self.assertEqual(f.ridge_cv["heldout"], cv["heldout_responses"])
        same(self, f.ridge_cv["grid"], cv["grid"], "grid")
        same(self, f.ridge_cv["score"], cv["score"], "score")
        same(self, f.ridge_cv["se"], cv["se"], "se")
        self.assertEqual(f.ridge, cv["chosen"])
        self.assertEqual(f.ridge, f.ridge_cv["grid"][f.ridge_cv["best"]])
        self.assertEqual(f.ridge_cv["score"].max(), f.ridge_cv["score"][f.ridge_cv["best"]])
        self.assertIsNone(S["py"]["factor_main"].ridge_cv)
        with self.assertRaises(ls.OptionError) as c:
            ls.factor("factor.csv", items="Q0*", ridge="fast")
        self.assertEqual(str(c.exception), "ridge: expected a number >= 0 or 'auto', found 'fast'")

    def check_fit(self, f, cj):
        """Every field of a FactorFit against the CLI's JSON, exactly."""
        opts, data, par = cj["options"], cj["data"], cj["parameters"]
        self.assertEqual((f.family, f.identify, f.covariate_condition, f.factors, f.anchors),
                         (opts["family"], opts["identify"], opts["covariate_condition"],
                          opts["factors"], opts["anchors"]))
        self.assertEqual((f.starts, f.bound, f.tol, f.ridge, f.scale_corrected, f.seed),
                         (opts["starts"], opts["bound"], opts["tol"], opts["ridge"],
                          opts["scale_corrected"], cj["seed"]))
        self.assertEqual((f.source, f.n_persons, f.items, f.covariates, f.n_observed),
                         (data["file"], data["persons"], data["items"], data["covariates"],
                          data["observed_cells"]))
        self.assertEqual(f.missing_share, data["missing_share"])
        self.assertEqual(f.method, opts["method"])
        if f.method == "mml":  # marginal ML: no JIC; AIC, BIC, the LR test of DIF
            self.assertTrue(math.isnan(f.jic))
            self.assertIsNone(cj["jic"])
            self.assertEqual((f.aic, f.bic, f.nodes), (cj["aic"], cj["bic"], opts["nodes"]))
            lr = cj.get("dif_likelihood_ratio")
            self.assertEqual(f.dif_likelihood_ratio,
                             None if lr is None else dict(loglik_without_dif=lr["loglik_without_dif"],
                                                          statistic=lr["statistic"], df=lr["df"],
                                                          p_value=lr["p_value"]))
        else:
            self.assertEqual(f.jic, cj["jic"])
            self.assertIsNone(f.dif_likelihood_ratio)
        self.assertEqual((f.loglik, f.n_params, f.converged),
                         (cj["loglik"], cj["n_params"], cj["converged"]))
        conv = cj["convergence"]
        self.assertEqual((f.iterations, f.starts_at_best, f.coefficients_at_bound),
                         (conv["iterations"], conv["starts_at_best"],
                          conv["coefficients_at_bound"]))
        same(self, f.start_loglik, conv["start_loglik"], "start_loglik")
        q, r, p = len(f.items), f.factors, len(f.covariates)
        self.assertEqual((f.loadings.shape, f.covariate_effects.shape, f.factor_scores.shape),
                         ((q, r), (q, p), (f.n_persons, r)))
        same(self, f.loadings, par["loadings"], "loadings")
        same(self, f.intercepts[:, None], par["intercepts"], "intercepts")
        same(self, f.covariate_effects, par["covariate_effects"], "covariate effects")
        same(self, f.factor_covariance, par["factor_covariance"], "factor covariance")
        same(self, f.factor_correlation, par["factor_correlation"], "factor correlation")
        same(self, f.covariate_transform, par["covariate_transform"], "covariate transform")
        if f.family == "gaussian":
            same(self, f.variances, par["variances"], "variances")
        else:
            self.assertIsNone(f.variances)
            self.assertNotIn("variances", par)
        same(self, f.factor_scores, cj["factor_scores"], "factor scores")
        if "standard_errors" in cj:
            se, ses = f.standard_errors, cj["standard_errors"]
            same(self, se.loadings, ses["loadings"], "se loadings")
            if f.method == "mml":
                self.assertIsNone(se.loadings_without_anchor_term)
                same(self, se.loadings_sandwich, ses["loadings_sandwich"], "sandwich se loadings")
                same(self, se.covariate_effects_sandwich, ses["covariate_effects_sandwich"],
                     "sandwich se covariate effects")
            else:
                same(self, se.loadings_without_anchor_term, ses["loadings_without_anchor_term"],
                     "se loadings without the anchors' term")
            same(self, se.intercepts[:, None], ses["intercepts"], "se intercepts")
            same(self, se.covariate_effects, ses["covariate_effects"], "se covariate effects")
            same(self, se.factor_scores, ses["factor_scores"], "se factor scores")
        else:
            self.assertIsNone(f.standard_errors)
        if "dif" in cj:
            dj, dt = cj["dif"], f.dif
            self.assertEqual((dt.alpha, dt.correction), (dj["alpha"], dj["correction"]))
            same(self, dt.z, dj["z"], "dif z")
            same(self, dt.p_value, dj["p_value"], "dif p-values")
            self.assertEqual(dt.flagged(), dj["flagged"])  # the table of flagged effects
            self.assertEqual(int(dt.flag.sum()), len(dj["flagged"]))
            same(self, dt.effect, par["covariate_effects"], "dif effects")
            self.assertEqual(len(dt.table()), q * p)
        else:
            self.assertIsNone(f.dif)
        if "selection" in cj:
            sj, sl = cj["selection"], f.selection
            self.assertEqual((sl.factors.tolist(), sl.best), (sj["factors"], sj["best"]))
            same(self, sl.loglik, sj["loglik"], "selection loglik")
            same(self, sl.jic, sj["jic"], "selection jic")
            same(self, sl.bic, sj["bic"], "selection bic")
            self.assertEqual(sl.criterion, sj["criterion"])
        else:
            self.assertIsNone(f.selection)

    def test_fields_equal_the_cli_json(self):
        for key in ("factor_main", "factor_select", "factor_gauss", "factor_mml"):
            with self.subTest(key):
                self.check_fit(S["py"][key], load("cli_%s.json" % key))

    def test_long_table_gives_the_wide_fit(self):
        cols = factor_columns()
        items = [c for c in cols if c.startswith("Q0")]
        with open("factor_long.csv", "w") as f:
            f.write("person,item,y,x1\n")
            for i, pid in enumerate(cols["id"]):
                for c in items:
                    if cols[c][i] is not None:
                        f.write("%s,%s,%d,%d\n" % (pid, c, cols[c][i], cols["x1"][i]))
        kw = dict(covariates="x1", method="mml", threads=THREADS)
        with ls.factor("factor_long.csv", long=["person", "item", "y"], **kw) as lf, \
                ls.factor("factor.csv", items=items, **kw) as wf:
            self.assertEqual(lf.items, wf.items)
            self.assertEqual(lf.n_persons, wf.n_persons)
            self.assertEqual(lf.loglik, wf.loglik)
            same(self, lf.loadings, wf.loadings, "long loadings")
        with open("factor_long_bad.csv", "w") as f:
            f.write("person,item,y,x1\np1,Q01,1,0\np1,Q02,0,1\n")
        with self.assertRaisesRegex(ls.InputError, "factor_long_bad.csv:3:4: column 'x1': person 'p1'"):
            ls.factor("factor_long_bad.csv", long="person,item,y", covariates="x1")

    def test_gpcm_long_table_gives_the_wide_fit(self):
        cols = S["gpcm_cols"]
        items = [c for c in cols]
        with open("gpcm_long.csv", "w") as f:
            f.write("person,item,score\n")
            for i in range(len(cols[items[0]])):
                for c in items:
                    if cols[c][i] is not None:
                        f.write("p%d,%s,%d\n" % (i + 1, c, cols[c][i]))
        kw = dict(pattern="pattern.csv", starts=1, threads=THREADS, se=False)
        with ls.gpcm("gpcm_long.csv", long="person,item,score", **kw) as lg, \
                ls.gpcm("gpcm.csv", items="A*,B*", **kw) as wg:
            # items in order of first appearance: compared by name
            self.assertEqual(sorted(lg.items), sorted(wg.items))
            self.assertEqual(lg.n_persons, wg.n_persons)
            self.assertLess(abs(lg.elbo - wg.elbo), 1e-9 * abs(wg.elbo))
            for u, name in enumerate(lg.items):
                j = wg.items.index(name)
                self.assertTrue(np.allclose(lg.slopes[u], wg.slopes[j], rtol=1e-8, atol=1e-10), name)
        with self.assertRaisesRegex(ls.OptionError, "items and long: give one"):
            ls.gpcm("gpcm_long.csv", long="person,item,score", items="A*")

    def test_marginal_ml_finds_the_dif(self):
        m = S["py"]["factor_mml"]
        self.assertEqual((m.method, m.nodes), ("mml", 15))
        self.assertTrue(m.converged)
        self.assertLess(m.dif_likelihood_ratio["p_value"], 1e-3)  # Q01 has DIF on x1
        self.assertEqual(m.dif_likelihood_ratio["df"], 9 * 2 - 2)
        self.assertTrue(m.dif.flag[0, 0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = ls.factor("factor.csv", items="Q0*", method="auto", se=False, threads=THREADS,
                          select="1..2")
        try:
            self.assertEqual(a.method, "mml")
            self.assertIn("short test", a.method_reason)
            # the number of factors by BIC under marginal ML
            self.assertEqual(a.selection.criterion, "bic")
            self.assertTrue(np.all(np.isnan(a.selection.jic)))
            self.assertEqual(a.selection.best, int(a.selection.factors[np.argmin(a.selection.bic)]))
        finally:
            a.close()

    def test_the_fits_are_what_was_asked(self):
        m = S["py"]["factor_main"]
        self.assertTrue(m.converged)
        self.assertEqual(m.anchors, ["Q01", "Q40"])
        self.assertEqual(m.anchor_indices.tolist(), [0, 39])
        self.assertEqual(m.loadings[0, 1], 0.0)  # anchor rows diagonal
        self.assertEqual(m.loadings[39, 0], 0.0)
        self.assertEqual(m.dif.correction, "bh")
        flagged = {(x["item"], x["covariate"]) for x in m.dif.flagged()}
        self.assertIn(("Q01", "x1"), flagged)  # the two simulated DIF effects
        self.assertIn(("Q06", "x2"), flagged)
        self.assertTrue(np.array_equal(m.dif.flag, m.dif.flag_bh))
        s = S["py"]["factor_select"]
        self.assertEqual(len(s.items), 19)  # Q01..Q19
        self.assertEqual(s.factors, s.selection.best)  # no factors: the JIC choice
        g = S["py"]["factor_gauss"]
        self.assertEqual(g.source, "gpcm.csv")  # R's row names were accepted
        self.assertEqual(g.items, ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4"])
        self.assertEqual(g.covariates, ["(row)"])
        self.assertTrue(np.all(g.variances > 0))

    def test_dict_and_dataframe_input(self):
        argv, kw = FACTOR_MAIN
        tables = [("<dict>", S["factor_cols"])]
        if pd is not None:
            tables.append(("<DataFrame>", pd.read_csv(path("factor.csv"))))
        want = without_source(load("cli_factor_main.json"))
        for name, data in tables:
            with self.subTest(name), ls.factor(data, threads=THREADS, **kw) as f:
                self.assertEqual(f.source, name)
                f.to_json(path("py_factor_table.json"))
                self.assertEqual(without_source(load("py_factor_table.json")), want)
                same(self, f.loadings, S["py"]["factor_main"].loadings, "loadings")
                same(self, f.dif.p_value, S["py"]["factor_main"].dif.p_value, "dif")
                if pd is not None:
                    self.assertEqual(len(f.dif.to_dataframe()), 80)

    def test_non_convergence_warns_and_writes_the_same_file(self):
        argv = ["factor", "factor.csv", "--items", "Q*", "--max-iter", 1, "--starts", 1,
                "--ridge", 2, "--threads", THREADS, "--quiet", "--out", "cli_nc.json"]
        code, _, err = cli(*argv, ok=False)
        self.assertEqual(code, 4, err)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with ls.factor("factor.csv", items="Q*", max_iter=1, starts=1, ridge=2,
                           threads=THREADS, out="py_nc.json") as f:
                self.assertFalse(f.converged)
        self.assertTrue(any(issubclass(x.category, ls.LatentscaleWarning) for x in w))
        self.assertEqual(str(w[-1].message), err.strip()[len("latentscale: "):])
        # each of the fit's warnings is issued, before the non-convergence message
        self.assertEqual([str(x.message) for x in w
                          if issubclass(x.category, ls.LatentscaleWarning)][:-1], f.warnings)
        self.assertEqual(without_command_line(load("py_nc.json")),
                         without_command_line(load("cli_nc.json")))

    def test_close(self):
        f = ls.factor("factor.csv", items="Q0*", ridge=2, starts=1, threads=THREADS)
        f.to_json(path("py_close.json"))
        self.assertFalse(f.closed)
        f.close()
        f.close()  # idempotent
        self.assertTrue(f.closed)
        self.assertEqual(f.loadings.shape, (9, 1))  # the copies stay
        with self.assertRaisesRegex(ls.LatentscaleError, "closed"):
            f.to_json(path("py_close.json"))
        self.assertIn("closed", repr(f))


class TestGpcm(unittest.TestCase):
    def test_same_json_as_the_cli(self):
        for key in ("gpcm_conf", "gpcm_expl", "gpcm_mml", "gpcm_one", "gpcm_cov"):
            py, cj = load("py_%s.json" % key), load("cli_%s.json" % key)
            self.assertEqual(py["options"]["command_line"]["function"], "gpcm")
            self.assertEqual(without_command_line(py), without_command_line(cj), key)

    def check_fit(self, g, cj):
        """Every field of a GpcmFit against the CLI's JSON, exactly."""
        self.assertEqual((g.method, g.mode, g.seed, g.factors, g.starts, g.tol, g.nodes),
                         (cj["method"], cj["mode"], cj["seed"], cj["options"]["factors"],
                          cj["options"]["starts"], cj["options"]["tol"], cj["options"]["nodes"]))
        d = cj["data"]
        self.assertEqual((g.source, g.n_persons, g.n_observed, g.lowest_score, g.items,
                          g.categories.tolist()),
                         (d["source"], d["persons"], d["observed"], d["lowest_score"], d["items"],
                          d["categories"]))
        for mine, key in ((g.elbo, "elbo"), (g.loglik, "loglik"), (g.vbic, "vbic"),
                          (g.bic, "bic")):
            same(self, mine, num(cj[key]), key)
        self.assertEqual((g.n_params, g.converged, g.elbo_monotone, g.iterations,
                          g.mml_iterations, g.starts_at_best),
                         (cj["nparams"], cj["converged"], cj["elbo_monotone"], cj["iterations"],
                          cj["mml_iterations"], cj["starts_at_best"]))
        same(self, g.start_elbo, cj["start_elbo"], "start_elbo")
        same(self, g.elbo_trace, cj["elbo_trace"], "elbo_trace")
        self.assertEqual(g.pattern.tolist(), cj["pattern"])
        same(self, g.slopes, cj["slopes"], "slopes")
        if g.exploratory:
            same(self, g.slopes_unrotated, cj["slopes_unrotated"], "slopes unrotated")
            same(self, g.rotation, cj["rotation"], "rotation")
        else:
            self.assertIsNone(g.slopes_unrotated)
            self.assertIsNone(g.rotation)
            self.assertNotIn("rotation", cj)
        self.assertEqual([s.tolist() for s in g.steps_list()], cj["steps"])
        J, K = len(g.items), g.factors
        self.assertEqual(g.steps.shape, (J, int(g.categories.max()) - 1))
        self.assertTrue(np.all(np.isnan(g.steps[g.categories == 3, 2:])))
        same(self, g.factor_correlations, cj["factor_correlations"], "factor correlations")
        self.assertEqual(g.posterior_means.shape, (g.n_persons, K))
        self.assertTrue(np.all(np.isfinite(g.posterior_means)))
        self.assertEqual(g.warnings, cj.get("warnings", []))
        sj = cj["standard_errors"]
        if sj is None:
            self.assertIsNone(g.standard_errors)
            return
        se = g.standard_errors
        if g.exploratory:
            self.assertIsNone(se.slopes)
            same(self, se.slopes_unrotated, sj["slopes_unrotated"], "se slopes unrotated")
            self.assertIsNone(se.factor_correlations)
        else:
            self.assertIsNone(se.slopes_unrotated)
            same(self, se.slopes, sj["slopes"], "se slopes")
            if K > 1:
                same(self, se.factor_correlations, sj["factor_correlations"], "se correlations")
        self.assertEqual([s.tolist() for s in g.steps_list(se=True)], sj["steps"])
        if "slopes_rotated" in sj:  # exploratory, with a library that has them
            same(self, se.slopes_rotated, sj["slopes_rotated"], "se slopes rotated")
            same(self, se.correlation_rotated, sj["correlation_rotated"], "se correlation rotated")
        else:
            self.assertIsNone(se.slopes_rotated)
            self.assertIsNone(se.correlation_rotated)

    def test_fields_equal_the_cli_json(self):
        for key in ("gpcm_conf", "gpcm_expl", "gpcm_mml", "gpcm_one"):
            with self.subTest(key):
                self.check_fit(S["py"][key], load("cli_%s.json" % key))

    def test_covariates_as_in_the_cli_json(self):
        g, cj = S["py"]["gpcm_cov"], load("cli_gpcm_cov.json")["covariates"]
        c = g.covariates
        self.assertEqual((c["names"], c["mode"], c["condition"], c["correction"]),
                         (cj["names"], cj["mode"], cj["condition"], cj["correction"]))
        same(self, c["effect"], cj["effect"], "effects")
        same(self, c["se"], cj["se"], "effect se")
        self.assertEqual(c["fixed"].ravel().tolist(), cj["fixed"])
        self.assertEqual(c["flagged"].ravel().tolist(), cj["flagged"])
        self.assertEqual(int(c["fixed"].sum()), 1)  # min-L1 at one factor: one item interpolated
        lr, lj = c["lr_test_no_dif"], cj["lr_test_no_dif"]
        self.assertEqual((lr["df"], lr["statistic"], lr["p_value"]), (lj["df"], lj["statistic"], lj["p_value"]))
        self.assertEqual(lr["df"], 7)  # 8 items, 1 covariate, 1 factor
        self.assertIsNone(S["py"]["gpcm_mml"].covariates)
        with self.assertRaises(ls.OptionError):
            ls.gpcm("gpcm.csv", items="A*", covariates="(row)")  # GVEM takes none

    def test_the_fits_are_what_was_asked(self):
        c = S["py"]["gpcm_conf"]
        self.assertEqual(c.pattern.tolist(), [[1, 0]] * 4 + [[0, 1]] * 4)  # matched by name
        self.assertEqual(c.items, ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4"])
        self.assertGreater(c.factor_correlations[0, 1], 0.1)  # simulated 0.4
        self.assertTrue(math.isfinite(c.loglik) and c.loglik > c.elbo)
        m = S["py"]["gpcm_mml"]
        self.assertEqual(m.method, "mml")
        self.assertGreaterEqual(m.loglik, c.loglik - 1.0)  # MML maximises it
        o = S["py"]["gpcm_one"]
        self.assertTrue(math.isnan(o.loglik) and o.standard_errors is None)
        self.assertEqual((o.lowest_score, o.categories.tolist()), (1.0, [3, 4, 3, 4]))

    def test_dict_dataframe_and_pattern_forms(self):
        _, kw = GPCM_CONF
        want = without_source(load("cli_gpcm_conf.json"))
        ref = S["py"]["gpcm_conf"]
        pattern_rows = {"item": ["B1", "A1", "B2", "A2", "B3", "A3", "B4", "A4"],
                        "F1": [0, 1] * 4, "F2": [1, 0] * 4}
        forms = [("<dict>", S["gpcm_cols"], "pattern.csv"),
                 ("<dict>", S["gpcm_cols"], ref.pattern),              # J x K array
                 ("gpcm.csv", "gpcm.csv", pattern_rows),               # table with item names
                 ("gpcm.csv", "gpcm.csv", {"F1": [1] * 4 + [0] * 4,    # in item order
                                           "F2": [0] * 4 + [1] * 4})]
        if pd is not None:
            df = pd.read_csv(path("gpcm.csv")).drop(columns=["(row)"], errors="ignore")
            df = df.loc[:, [c for c in df.columns if not c.startswith("Unnamed")]]
            forms.append(("<DataFrame>", df, pd.DataFrame(pattern_rows)))
        for name, data, pattern in forms:
            with self.subTest(name=name, pattern=type(pattern).__name__):
                with ls.gpcm(data, pattern=pattern, threads=THREADS) as g:
                    self.assertEqual(g.source, name)
                    g.to_json(path("py_gpcm_form.json"))
                    self.assertEqual(without_source(load("py_gpcm_form.json")), want)
                    same(self, g.slopes, ref.slopes, "slopes")
                    same(self, g.posterior_means, ref.posterior_means, "posterior means")

    def test_non_convergence_warns_and_writes_the_same_file(self):
        # categories 0 and 4 are never observed: steps drift, GVEM stops at max-iter
        argv = ["gpcm", "gpcm.csv", "--items", "A*", "--lowest", 0, "--categories", 5,
                "--max-iter", 30, "--starts", 1, "--no-se", "--threads", THREADS, "--quiet",
                "--out", "cli_gnc.json"]
        code, _, err = cli(*argv, ok=False)
        self.assertEqual(code, 4, err)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with ls.gpcm("gpcm.csv", items="A*", lowest=0, categories=5, max_iter=30, starts=1,
                         se=False, threads=THREADS, out="py_gnc.json") as g:
                self.assertFalse(g.converged)
                self.assertEqual(g.categories.tolist(), [5] * 4)
        # the CLI's last stderr line is the exit-4 message (fit warnings come first)
        last = err.strip().splitlines()[-1]
        self.assertEqual(str(w[-1].message), last[len("latentscale: "):])
        self.assertTrue(g.warnings)
        self.assertEqual([str(x.message) for x in w
                          if issubclass(x.category, ls.LatentscaleWarning)][:-1], g.warnings)
        cj = load("cli_gnc.json")
        self.assertEqual(without_command_line(load("py_gnc.json")), without_command_line(cj))
        self.assertEqual(g.warnings, cj.get("warnings", []))

    def test_progress_can_cancel(self):
        seen = []

        def stop(stage, done, total):
            seen.append(stage)
            return True
        with self.assertRaises(ls.CancelledError):
            ls.gpcm("gpcm.csv", pattern="pattern.csv", threads=THREADS, progress=stop)
        self.assertEqual(len(seen), 1)
        with self.assertRaises(ls.CancelledError):
            ls.factor("factor.csv", items="Q*", ridge=2, threads=THREADS, progress=stop)

        def boom(stage, done, total):
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):
            ls.factor("factor.csv", items="Q*", ridge=2, threads=THREADS, progress=boom)


class TestErrors(unittest.TestCase):
    def same_message(self, exc_type, cli_args, call):
        """The exception carries the CLI's one-line message (without its prefix)."""
        code, _, err = cli(*cli_args, ok=False)
        self.assertIn(code, (2, 3), err)
        with self.assertRaises(exc_type) as cm:
            call()
        line = err.strip().splitlines()[0]
        prefix = line[:line.index(": ") + 2]
        self.assertIn(prefix, ("latentscale: ", "latentscale %s: " % cli_args[0]), line)
        self.assertEqual(str(cm.exception), keywords(line[len(prefix):]))
        self.assertIsInstance(cm.exception, ls.LatentscaleError)
        return cm.exception

    def test_factor_errors(self):
        e = self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q01,Z9"],
                              lambda: ls.factor("factor.csv", items=["Q01", "Z9"]))
        self.assertEqual(str(e), "items: no column 'Z9' in factor.csv")
        self.assertEqual((e.code, e.status), (4, "option"))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Z*"],
                          lambda: ls.factor("factor.csv", items="Z*"))
        self.same_message(ls.OptionError, ["factor", "factor.csv"],
                          lambda: ls.factor("factor.csv"))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--response",
                                           "gamma"],
                          lambda: ls.factor("factor.csv", items="Q*", response="gamma"))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--identify",
                                           "varimax"],
                          lambda: ls.factor("factor.csv", items="Q*", identify="varimax"))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--dif"],
                          lambda: ls.factor("factor.csv", items="Q*", dif=True))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*",
                                           "--loading-bootstrap", 100001],
                          lambda: ls.factor("factor.csv", items="Q*", loading_bootstrap=100001))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--correction",
                                           "holm"],
                          lambda: ls.factor("factor.csv", items="Q*", correction="holm"))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--alpha", 1.5],
                          lambda: ls.factor("factor.csv", items="Q*", alpha=1.5))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--select",
                                           "3..1"],
                          lambda: ls.factor("factor.csv", items="Q*", select="3..1"))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--factors", 2,
                                           "--anchors", "Q01,Z"],
                          lambda: ls.factor("factor.csv", items="Q*", factors=2,
                                            anchors="Q01,Z"))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--factors", 2,
                                           "--anchors", "Q01"],
                          lambda: ls.factor("factor.csv", items="Q*", factors=2, anchors=["Q01"]))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--tol", 0],
                          lambda: ls.factor("factor.csv", items="Q*", tol=0))
        self.same_message(ls.OptionError, ["factor", "factor.csv", "--items", "Q*", "--covariates",
                                           "x3"],
                          lambda: ls.factor("factor.csv", items="Q*", covariates="x3"))
        # a non-binary response names file, line and column
        self.same_message(ls.InputError, ["factor", "gpcm.csv", "--items", "A*"],
                          lambda: ls.factor("gpcm.csv", items="A*"))
        self.same_message(ls.FileError, ["factor", "missing.csv", "--items", "A*"],
                          lambda: ls.factor("missing.csv", items="A*"))
        with self.assertRaisesRegex(ls.OptionError, "^factors: expected an integer"):
            ls.factor("factor.csv", items="Q*", factors=-1)

    def test_gpcm_errors(self):
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--pattern", "pattern.csv",
                                           "--exploratory"],
                          lambda: ls.gpcm("gpcm.csv", pattern="pattern.csv", exploratory=True))
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--method", "mcmc"],
                          lambda: ls.gpcm("gpcm.csv", method="mcmc"))
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--factors", 2],
                          lambda: ls.gpcm("gpcm.csv", factors=2))
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--factors", 3, "--pattern",
                                           "pattern.csv"],
                          lambda: ls.gpcm("gpcm.csv", factors=3, pattern="pattern.csv"))
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--categories", 1],
                          lambda: ls.gpcm("gpcm.csv", categories=1))
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--lowest", 0.5],
                          lambda: ls.gpcm("gpcm.csv", lowest=0.5))
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--items", "A1,C1"],
                          lambda: ls.gpcm("gpcm.csv", items="A1,C1"))
        self.same_message(ls.OptionError, ["gpcm", "gpcm.csv", "--out", "gpcm.csv"],
                          lambda: ls.gpcm("gpcm.csv", out="gpcm.csv"))
        self.same_message(ls.InputError, ["gpcm", "gpcm.csv", "--lowest", 2],
                          lambda: ls.gpcm("gpcm.csv", lowest=2))
        with open(path("bad_pattern.csv"), "w") as f:
            f.write("item,F1,F2\nA1,1,0\nA2,1,0\nA3,1,0\nA4,1,0\nB1,0,1\nB2,0,1\nB3,0,1\nC9,0,1\n")
        e = self.same_message(ls.InputError, ["gpcm", "gpcm.csv", "--pattern", "bad_pattern.csv"],
                              lambda: ls.gpcm("gpcm.csv", pattern="bad_pattern.csv"))
        self.assertEqual(str(e), "bad_pattern.csv:9:1: item 'C9' is not among the items fitted")
        # the same pattern as a table: the C reader's wording, naming the table
        rows = {"item": ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "C9"],
                "F1": [1] * 4 + [0] * 4, "F2": [0] * 4 + [1] * 4}
        with self.assertRaises(ls.InputError) as cm:
            ls.gpcm("gpcm.csv", pattern=rows)
        self.assertEqual(str(cm.exception), str(e).replace("bad_pattern.csv", "<dict>"))
        rows["item"][-1] = "B4"
        rows["F2"][0] = 2
        want = r"^<dict>:2:3: expected 0 or 1 in a loading pattern, found '2'$"
        with self.assertRaisesRegex(ls.InputError, want):
            ls.gpcm("gpcm.csv", pattern=rows)
        with self.assertRaisesRegex(ls.InputError, "^pattern: expected a 8 x K array"):
            ls.gpcm("gpcm.csv", pattern=np.ones((7, 2)))
