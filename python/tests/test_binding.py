"""The Python binding against the command line, on one small simulated leaderboard.

The command line and the binding call the same library with the same options
and seeds, so their outputs must agree exactly: every test below compares a
Python result with the CLI's JSON, value by value.  That also checks every
ctypes structure layout (ls_params, ls_prediction, ls_posterior,
ls_comparison, ls_selection, ls_evaluation, ls_allocation, ls_fit_summary):
a field out of place reads another field's numbers and the comparison fails.

Environment: LATENTSCALE_LIB (the shared library), LATENTSCALE_CLI (the
latentscale program; default: next to the library), PYTHONPATH=python.
Data: 40 families, K = 2, 5 benchmarks, 2 starts (about 30 s on 2 busy cores).
"""
import csv
import json
import math
import os
import shutil
import subprocess
import tempfile
import re
import unittest
import warnings

import numpy as np

import latentscale as ls
from latentscale.errors import python_words

try:
    import pandas as pd
except ImportError:
    pd = None

THREADS = 2
SIM = dict(n_families=40, skills=2, n_benchmarks=5, seed=5)
FIT = dict(skills=2, starts=2, seed=1)
PRED = dict(param_draws=20, latent_draws=10, seed=3)

S = {}  # shared fixture: folder, paths, the CLI's and the binding's fits


def cli_path():
    p = os.environ.get("LATENTSCALE_CLI")
    if not p:
        p = os.path.join(os.path.dirname(ls.library_path()), "latentscale")
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


def cli(*args, ok=True):
    """Run the CLI in the fixture folder; returns (exit code, stdout, stderr)."""
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


def without_options(d):
    """A result file without the command line that wrote it (the library's own options stay)."""
    d = dict(d)
    opts = {k: v for k, v in d.pop("options").items() if k != "command_line"}
    if opts:
        d["options"] = opts
    return d


def setUpModule():
    S["cli"] = cli_path()
    if S["cli"] is None:
        raise unittest.SkipTest("the latentscale program was not found (set LATENTSCALE_CLI)")
    S["dir"], S["cwd"] = tempfile.mkdtemp(prefix="latentscale-py-"), os.getcwd()
    os.chdir(S["dir"])  # relative names: the files record them, and must agree
    cli("simulate", "--n-families", SIM["n_families"], "--skills", SIM["skills"], "--n-benchmarks",
        SIM["n_benchmarks"], "--seed", SIM["seed"], "--out", "lb.csv", "--floors-out", "floors.csv")
    with open(path("new.csv"), "w") as f:
        f.write("model,family,size,tokens,math\n"
                "new-a,fam0001,7,2,0.61\nnew-b,unseen,70,15,\nnew-c,fam0002,0.5,1,NA\n")
    cli("fit", "lb.csv", "--floors", "floors.csv", "--skills", FIT["skills"], "--starts",
        FIT["starts"], "--seed", FIT["seed"], "--threads", THREADS, "--quiet", "--out",
        "cli_fit.json")
    S["fit"] = ls.fit("lb.csv", floors="floors.csv", threads=THREADS, out="py_fit.json", **FIT)
    S["cli_fit"] = load("cli_fit.json")


def tearDownModule():
    if "fit" in S:
        S["fit"].close()
    if "dir" in S:
        os.chdir(S["cwd"])
        shutil.rmtree(S["dir"], ignore_errors=True)


def close(test, a, b, name, tol=0.0):
    """Arrays equal (tol 0: exactly, as the same computation must give)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(np.where(np.equal(b, None), np.nan, b), dtype=float)
    test.assertEqual(a.shape, b.shape, name)
    if tol == 0:
        test.assertTrue(np.array_equal(a, b, equal_nan=True), "%s: %s != %s" % (name, a, b))
    else:
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)


# ---------------------------------------------------------------------------

class TestSimulate(unittest.TestCase):
    def test_same_files_and_truth_as_the_cli(self):
        sim = ls.simulate("py_lb.csv", floors_out="py_floors.csv", **SIM)
        for a, b in (("lb.csv", "py_lb.csv"), ("floors.csv", "py_floors.csv")):
            with open(path(a), "rb") as fa, open(path(b), "rb") as fb:
                self.assertEqual(fa.read(), fb.read(), b)
        truth = load("lb.truth.json")
        self.assertEqual(without_options(truth), without_options(load("py_lb.truth.json")))
        # ls_params as filled by ls_simulate, field by field
        tp = truth["parameters"]
        close(self, sim.truth.beta, tp["beta"], "beta")
        close(self, sim.truth.lambda_, tp["lambda"], "lambda")
        for k in ("b", "phi", "sigma"):
            close(self, getattr(sim.truth, k), tp[k], k)
        close(self, sim.floors, truth["floors"], "floors")
        self.assertEqual(sim.benchmarks, truth["benchmarks"])
        # the data: the CSV's values, numeric columns as floats, NaN for missing
        with open(path("lb.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(sim.data["model"], [r["model"] for r in rows])
        col = sim.benchmarks[2]
        want = [float(r[col]) if r[col] else math.nan for r in rows]
        close(self, sim.data[col], want, col)

    def test_simulating_from_given_parameters(self):
        truth = ls.simulate(n_families=5, skills=1, n_benchmarks=3, seed=2).truth
        again = ls.simulate(n_families=8, seed=4, truth=truth)
        for k in ("beta", "lambda_", "b", "phi", "sigma"):
            close(self, getattr(again.truth, k), getattr(truth, k), k)
        self.assertEqual(len(set(again.data["family"])), 8)

    def test_ceilings_match_the_cli(self):
        # the same leaderboard and truth file as --ceiling; a ceiling caps the
        # scores' mean, so the capped benchmark's scores fall
        cli("simulate", "--n-families", 30, "--seed", 5, "--ceiling", "hellaswag=0.7,arc=0.8",
            "--out", "cli_sim_ceil.csv")
        sim = ls.simulate("py_sim_ceil.csv", n_families=30, seed=5,
                          ceilings={"hellaswag": 0.7, "arc": 0.8})
        with open(path("cli_sim_ceil.csv"), "rb") as fa, open(path("py_sim_ceil.csv"), "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        tj = load("cli_sim_ceil.truth.json")
        close(self, sim.truth.ceilings, tj["ceilings"], "ceilings")
        self.assertEqual(sim.truth.ceilings[sim.benchmarks.index("hellaswag")], 0.7)
        plain = ls.simulate(n_families=30, seed=5)
        h = np.array(sim.data["hellaswag"], dtype=float)
        h0 = np.array(plain.data["hellaswag"], dtype=float)
        self.assertLess(np.nanmax(h), np.nanmax(h0))
        # simulating from that truth keeps its ceilings
        again = ls.simulate(n_families=30, seed=6, truth=sim.truth)
        close(self, again.truth.ceilings, sim.truth.ceilings, "ceilings of a given truth")
        with self.assertRaises(ls.OptionError) as cm:
            ls.simulate(n_families=5, ceilings={"nosuch": 0.9})
        self.assertIn("ceilings: unknown benchmark 'nosuch'", str(cm.exception))


class TestFit(unittest.TestCase):
    def test_same_fit_file_as_the_cli(self):
        py = load("py_fit.json")
        cj = S["cli_fit"]
        self.assertEqual(py["options"]["command_line"]["binding"], "python")
        py, cj = without_options(py), without_options(cj)
        self.assertEqual(sorted(py), sorted(cj))
        for k in cj:  # options: the ls_fit_options the library recorded
            self.assertEqual(py[k], cj[k], "fit JSON field '%s' differs" % k)

    def test_estimates_equal_the_cli_json(self):
        f, cj = S["fit"], S["cli_fit"]
        self.assertEqual(f.loglik, cj["loglik"])
        self.assertEqual((f.aic, f.bic, f.n_params, f.converged), (cj["aic"], cj["bic"],
                                                                  cj["n_params"], cj["converged"]))
        self.assertEqual(f.benchmarks, cj["benchmarks"])
        self.assertEqual(f.covariates, cj["covariates"])
        self.assertEqual(f.skill_names, cj["skill_names"])
        close(self, f.floors, cj["floors"], "floors")
        par = cj["parameters"]
        K, J, p = f.skills, len(f.benchmarks), len(f.covariates)
        self.assertEqual((f.params.beta.shape, f.params.lambda_.shape, f.params.sigma.shape),
                         ((p, K), (K, J), (K, K)))
        for name, mine in (("beta", f.params.beta), ("lambda", f.params.lambda_),
                           ("b", f.params.b), ("phi", f.params.phi), ("sigma", f.params.sigma),
                           ("beta_std", f.beta_std), ("theta", f.theta)):
            close(self, mine, par[name], name)
        self.assertIsNone(f.params.gamma)
        se = cj["standard_errors"]
        for kind in ("hessian", "opg", "sandwich"):
            for name in ("beta", "lambda", "b", "phi", "sigma"):
                mine = getattr(f.se[kind], "lambda_" if name == "lambda" else name)
                close(self, mine, se[kind][name], "%s se %s" % (kind, name))
        self.assertEqual(f.covariance_order, se["covariance"]["order"])
        close(self, f.covariance, se["covariance"]["matrix"], "covariance")
        self.assertEqual(f.families, [x["name"] for x in cj["families"]])
        close(self, f.family_modes, [x["alpha_mode"] for x in cj["families"]], "alpha_mode")
        close(self, f.family_loglik, [x["loglik"] for x in cj["families"]], "family loglik")
        # the same warnings; the binding names options by keywords
        self.assertEqual(f.warnings, [python_words(w) for w in cj["warnings"]])
        self.assertEqual(f.gradnorm, cj["convergence"]["max_abs_gradient"])
        conv, data = cj["convergence"], cj["data"]
        self.assertEqual((f.iterations, f.starts_at_best), (conv["iterations"], conv["starts_at_best"]))
        self.assertEqual((f.converged, f.convergence_criterion), (cj["converged"], conv["criterion"]))
        self.assertEqual((f.n_models, f.n_families, f.n_observed, f.n_clipped, f.n_duplicates),
                         (data["models"], data["families"], data["observed_cells"],
                          data["clipped_cells"], data["duplicate_models"]))
        self.assertEqual(f.source, data["file"])
        # standard errors are positive where estimated, 0 for the fixed loadings
        self.assertTrue(np.all(f.se["hessian"].beta > 0))
        self.assertEqual(f.se["hessian"].lambda_[0, 1], 0.0)

    def test_load_fit_binds_the_cli_fit(self):
        with ls.load_fit("cli_fit.json", "lb.csv", threads=THREADS) as g:
            self.assertEqual(g.loglik, S["fit"].loglik)
            close(self, g.params.lambda_, S["fit"].params.lambda_, "lambda")
        self.assertTrue(g.closed)
        with self.assertRaises(ls.LatentscaleError) as cm:
            g.predict("new.csv")
        self.assertIn("closed", str(cm.exception))

    def test_a_pandas_index_column_is_ignored(self):
        # DataFrame.to_csv writes the index first, under an empty header
        with open(path("lb.csv")) as f, open(path("pandas_lb.csv"), "w") as g:
            for i, line in enumerate(f):
                g.write(("," if i == 0 else "%d," % (i - 1)) + line)
        with ls.load_fit("cli_fit.json", "pandas_lb.csv", threads=THREADS) as h:
            self.assertEqual(h.loglik, S["fit"].loglik)
            self.assertEqual(h.benchmarks, S["fit"].benchmarks)

    def test_likelihood_access_reproduces_the_fit(self):
        f = S["fit"]
        with ls.Model("lb.csv", skills=2, floors="floors.csv", threads=THREADS) as m:
            self.assertEqual(m.dim, f.n_params)
            ll, grad, fam = m.loglik(f.theta, gradient=True, families=True)
            self.assertAlmostEqual(ll, f.loglik, delta=1e-8 * abs(f.loglik))
            close(self, fam, f.family_loglik, "family loglik", tol=1e-8)
            self.assertLess(np.max(np.abs(grad)), 1e-2)  # the optimum (gtol 1e-2)
            pr = m.unpack(f.theta)  # natural parameters, standardised covariates
            close(self, pr.beta, f.beta_std, "beta_std", tol=1e-12)
            close(self, pr.lambda_, f.params.lambda_, "lambda", tol=1e-12)
            close(self, pr.sigma, f.params.sigma, "sigma", tol=1e-12)
            close(self, m.pack(pr), f.theta, "theta", tol=1e-9)


class TestTasks(unittest.TestCase):
    def test_predict_matches_the_cli(self):
        cli("predict", "cli_fit.json", "lb.csv", "--new", "new.csv", "--param-draws",
            PRED["param_draws"], "--latent-draws", PRED["latent_draws"], "--seed", PRED["seed"],
            "--threads", THREADS, "--out", "cli_pred.json")
        p = S["fit"].predict("new.csv", threads=THREADS, out="py_pred.json", **PRED)
        self.assertEqual(without_options(load("py_pred.json")), without_options(load("cli_pred.json")))
        self.assertEqual(p.level, load("cli_pred.json")["level"])
        J = len(S["fit"].benchmarks)
        for a in (p.mean, p.median, p.lower, p.upper, p.map, p.observed):
            self.assertEqual(a.shape, (3, J))
        self.assertEqual(p.models, ["new-a", "new-b", "new-c"])
        self.assertEqual(p.known.tolist(), [True, False, True])
        self.assertEqual(p.benchmarks, S["fit"].benchmarks)
        self.assertTrue(np.all(p.lower <= p.median) and np.all(p.median <= p.upper))
        self.assertTrue(np.all((p.lower > 0) & (p.upper < 1)))
        self.assertEqual(p.observed[0, 0], 0.61)
        self.assertTrue(np.isnan(p.observed[1, 0]) and np.isnan(p.observed[2, 0]))
        self.assertTrue(np.all(np.isnan(p.observed[:, 1:])))
        cells = load("cli_pred.json")["cells"]
        close(self, p.median.ravel(), [c["median"] for c in cells], "median")
        close(self, p.upper.ravel(), [c["upper"] for c in cells], "upper")
        # the unseen family's interval is wider (prior instead of posterior)
        self.assertGreater(np.mean(p.upper[1] - p.lower[1]), np.mean(p.upper[0] - p.lower[0]))
        # from a fit file + data, and as CSV
        q = ls.predict("cli_fit.json", "new.csv", data="lb.csv", threads=THREADS,
                       out="py_pred.csv", **PRED)
        close(self, q.median, p.median, "median from the fit file")
        with open(path("py_pred.csv")) as f:
            self.assertEqual(len(list(csv.DictReader(f))), 3 * J)
        # parameter draws from the sandwich covariance: the CLI's file, recorded
        cli("predict", "cli_fit.json", "lb.csv", "--new", "new.csv", "--param-draws",
            PRED["param_draws"], "--latent-draws", PRED["latent_draws"], "--seed", PRED["seed"],
            "--threads", THREADS, "--param-cov", "sandwich", "--out", "cli_pred_sw.json")
        ps = S["fit"].predict("new.csv", threads=THREADS, out="py_pred_sw.json",
                              param_cov="sandwich", **PRED)
        sw = load("cli_pred_sw.json")
        self.assertEqual(without_options(load("py_pred_sw.json")), without_options(sw))
        self.assertEqual((sw["parameter_covariance"], load("cli_pred.json")["parameter_covariance"]),
                         ("sandwich", "inverse observed information"))
        self.assertFalse(np.array_equal(ps.lower, p.lower))
        with self.assertRaises(ls.OptionError):
            S["fit"].predict("new.csv", param_cov="robust")

    def test_posterior_matches_the_cli(self):
        cli("posterior", "cli_fit.json", "lb.csv", "--family", "fam0003", "--chains", 2, "--warmup",
            100, "--draws", 150, "--seed", 2, "--out", "cli_post.json")
        po = S["fit"].posterior("fam0003", chains=2, warmup=100, draws=150, seed=2,
                                out="py_post.json")
        cj = load("cli_post.json")
        self.assertEqual(without_options(load("py_post.json")), without_options(cj))
        close(self, po.mode, cj["mode"], "mode")
        close(self, po.laplace_cov, cj["laplace_covariance"], "laplace")
        close(self, po.quad_mean, cj["quadrature_mean"], "quad mean")
        close(self, po.quad_cov, cj["quadrature_covariance"], "quad cov")
        close(self, po.mcmc_mean, cj["mcmc_mean"], "mcmc mean")
        close(self, po.mcmc_cov, cj["mcmc_covariance"], "mcmc cov")
        close(self, po.rhat, cj["rhat"], "rhat")
        close(self, po.ess, cj["ess"], "ess")
        self.assertEqual(po.accept, cj["acceptance"])
        self.assertEqual(po.sample.shape, (2, 150, 2))
        close(self, po.sample.reshape(-1, 2), cj["draws"], "draws")
        self.assertEqual(po.skills, cj["skills"])

    def test_compare_matches_the_cli(self):
        cli("compare", "cli_fit.json", "lb.csv", "--families", "fam0001,fam0002", "--param-draws",
            PRED["param_draws"], "--latent-draws", PRED["latent_draws"], "--seed", PRED["seed"],
            "--out", "cli_cmp.json")
        c = ls.compare("cli_fit.json", "fam0001", "fam0002", data="lb.csv", out="py_cmp.json",
                       **PRED)
        cj = load("cli_cmp.json")
        self.assertEqual(without_options(load("py_cmp.json")), without_options(cj))
        self.assertEqual((c.level, c.skills), (cj["level"], [s["skill"] for s in cj["skills"]]))
        for k, s in enumerate(cj["skills"]):
            self.assertEqual((c.mean_a[k], c.mean_b[k], c.diff[k], c.lower[k], c.upper[k],
                              c.prob_greater[k]),
                             (s["mean_a"], s["mean_b"], s["difference"], s["lower"], s["upper"],
                              s["prob_a_greater"]))
            self.assertLessEqual(c.lower[k], c.diff[k])
            self.assertLessEqual(c.diff[k], c.upper[k])

    def test_optimal_matches_the_cli(self):
        cli("optimal", "cli_fit.json", "--param-draws", 40, "--out", "cli_opt.json")
        a = ls.optimal("cli_fit.json", param_draws=40, out="py_opt.json")
        cj = load("cli_opt.json")
        self.assertEqual(without_options(load("py_opt.json")), without_options(cj))
        self.assertEqual((a.level, list(a.size_range), list(a.tokens_range)),
                         (cj["level"], cj["size_range"], cj["tokens_range"]))
        K, J, B = 2, len(S["fit"].benchmarks), len(cj["budgets"])
        self.assertEqual(a.size.shape, (K + J, B))
        self.assertEqual(a.targets, [x["target"] for x in cj["allocations"][::B]])
        close(self, a.budgets, cj["budgets"], "budgets")
        rows = cj["allocations"]
        for key, arr in (("size", a.size), ("size_lower", a.size_lo), ("size_upper", a.size_hi),
                         ("tokens", a.tokens), ("tokens_lower", a.tokens_lo),
                         ("tokens_upper", a.tokens_hi), ("value", a.value)):
            close(self, arr.ravel(), [r[key] for r in rows], key)
        # C = 6 N D at every optimum (N = size 1e9, D = tokens 1e12)
        np.testing.assert_allclose(6 * a.size * 1e9 * a.tokens * 1e12,
                                   np.broadcast_to(a.budgets, a.size.shape), rtol=1e-6)
        # an in-memory fit gives the same allocation; explicit budgets and ranges
        b = S["fit"].optimal(param_draws=40)
        close(self, b.size, a.size, "size from the Python fit")
        c = ls.optimal("cli_fit.json", budgets=[1e21, 1e23], size_range=(0.5, 100),
                       tokens_range=(0.2, 15), param_draws=0)
        self.assertEqual(c.size.shape, (K + J, 2))
        self.assertTrue(np.all((c.size >= 0.5 - 1e-9) & (c.size <= 100 + 1e-9)))

    def test_laplace_and_sparse_fits_report_their_check(self):
        cli("fit", "lb.csv", "--floors", "floors.csv", "--skills", 1, "--starts", 1,
            "--integration", "laplace", "--no-se", "--threads", THREADS, "--out", "cli_lap.json")
        with ls.fit("lb.csv", floors="floors.csv", skills=1, starts=1, integration="laplace",
                    se=False, threads=THREADS) as f:
            cj = load("cli_lap.json")["integration"]
            self.assertEqual((f.loglik_check, f.check_points, f.check_method),
                             (cj["check_loglik"], cj["check_points"], cj["check_method"]))
            self.assertEqual(f.check_method, "rqmc-t")
            # importance sampling reports its standard error, as the JSON does
            self.assertEqual(f.loglik_check_se, cj["check_se"])
            self.assertLessEqual(f.loglik_check_se, 0.05 / 3)
            # and the information criteria of the checked value
            self.assertAlmostEqual(cj["check_aic"], -2 * (f.loglik_check - f.n_params), places=6)
            self.assertEqual((f.aic_check, f.bic_check), (cj["check_aic"], cj["check_bic"]))
            self.assertAlmostEqual(cj["check_bic"] - cj["check_aic"], f.bic - f.aic, places=6)
            self.assertEqual((f.integration, f.nodes), ("laplace", 1))
            self.assertEqual((cj["method"], cj["nodes"]), ("laplace", 1))
            self.assertGreater(f.check_points, 0)
            self.assertNotEqual(f.loglik_check, f.loglik)
        # a sparse-grid fit (level 2) is checked on the grid of level 4
        with ls.fit("lb.csv", floors="floors.csv", skills=2, starts=1, integration="sparse", nodes=2,
                    se=False, threads=THREADS) as f:
            self.assertEqual((f.check_method, f.check_points), ("sparse-grid", 97))
            self.assertEqual((f.integration, f.nodes), ("sparse-grid", 17))
            self.assertLess(abs(f.loglik_check - f.loglik), 1.0)
            self.assertNotEqual(f.loglik_check, f.loglik)
        # product-grid fits have no check
        self.assertTrue(math.isnan(S["fit"].loglik_check))
        self.assertEqual((S["fit"].check_points, S["fit"].check_method), (0, ""))

    def test_ceilings_match_the_cli(self):
        b0, b1 = S["fit"].benchmarks[:2]
        cli("fit", "lb.csv", "--floors", "floors.csv", "--skills", 1, "--starts", 1, "--no-se",
            "--threads", THREADS, "--ceiling", "%s=0.9,%s=0.95" % (b0, b1), "--out", "cli_ceil.json")
        with open(path("ceil.csv"), "w") as fh:
            fh.write("benchmark,ceiling\n%s,0.9\n%s,0.95\n" % (b0, b1))
        cj = load("cli_ceil.json")
        for ceilings in ("ceil.csv", {b0: 0.9, b1: 0.95}):
            with ls.fit("lb.csv", floors="floors.csv", ceilings=ceilings, skills=1, starts=1,
                        se=False, threads=THREADS) as f:
                self.assertEqual(f.loglik, cj["loglik"])
                close(self, f.ceilings, cj["ceilings"], "ceilings")
                self.assertEqual(list(f.ceilings[:2]), [0.9, 0.95])
                self.assertTrue(np.all(f.ceilings[2:] == 1))
        # a fit file restores its ceilings: the likelihood there is the fit's
        with ls.load_fit("cli_ceil.json", "lb.csv", threads=THREADS) as g:
            self.assertEqual(g.loglik, cj["loglik"])

    def test_estimated_ceilings_match_the_cli(self):
        b0, b1 = S["fit"].benchmarks[:2]
        cli("fit", "lb.csv", "--floors", "floors.csv", "--skills", 1, "--starts", 1,
            "--threads", THREADS, "--estimate-ceilings", "%s,%s" % (b1, b0), "--out", "cli_eceil.json")
        cj = load("cli_eceil.json")
        self.assertEqual(cj["ceilings_estimated"], [b0, b1])  # benchmark order
        self.assertEqual(cj["options"]["estimate_ceilings"], "%s,%s" % (b1, b0))
        with ls.fit("lb.csv", floors="floors.csv", estimate_ceilings=[b1, b0], skills=1, starts=1,
                    threads=THREADS) as f:
            self.assertEqual(f.loglik, cj["loglik"])
            self.assertEqual(f.ceilings_estimated, [b0, b1])
            close(self, f.ceilings, cj["ceilings"], "ceilings")
            self.assertTrue(np.all(f.ceilings[2:] == 1))
            # estimated ceilings have standard errors; fixed ones 0
            se = f.standard_errors.ceilings
            close(self, se, cj["standard_errors"]["hessian"]["ceilings"], "ceiling se")
            self.assertTrue(np.all(se[:2] > 0) and np.all(se[2:] == 0))
            self.assertEqual(len(f.covariance_order), f.covariance.shape[0])
            self.assertEqual(f.covariance_order[-1], "ceiling[%s]" % f.benchmarks[-1])
        with ls.load_fit("cli_eceil.json", "lb.csv", threads=THREADS) as g:
            self.assertEqual(g.loglik, cj["loglik"])
            self.assertEqual(g.ceilings_estimated, [b0, b1])
            close(self, g.ceilings, cj["ceilings"], "ceilings")
        with self.assertRaises(ls.OptionError) as cm:
            ls.fit("lb.csv", floors="floors.csv", estimate_ceilings="nosuch", skills=1, starts=1)
        self.assertIn("estimate_ceilings: unknown benchmark 'nosuch'", str(cm.exception))

    def test_select_matches_the_cli(self):
        cli("select", "lb.csv", "--floors", "floors.csv", "--skills", "1..2", "--folds", 2,
            "--starts", 1, "--threads", THREADS, "--out", "cli_sel.json")
        s = ls.select("lb.csv", floors="floors.csv", skills=(1, 2), folds=2, starts=1,
                      threads=THREADS, out="py_sel.json")
        cj = load("cli_sel.json")
        self.assertEqual(without_options(load("py_sel.json")), without_options(cj))
        self.assertEqual(s.K.tolist(), [1, 2])
        for i, row in enumerate(cj["fits"]):
            self.assertEqual((s.loglik[i], s.aic[i], s.bic[i], s.cv[i], int(s.n_params[i]),
                              bool(s.converged[i])),
                             (row["loglik"], row["aic"], row["bic"], row["cv_loglik"],
                              row["n_params"], row["converged"]))
            # K = 1, 2 use quadrature, not the Laplace rule and its sampled value
            self.assertEqual((bool(s.sampled[i]), row["loglik_method"]),
                             (False, "the fit's quadrature"))
        self.assertEqual((s.best_aic, s.best_bic, s.best_cv, s.folds),
                         (cj["best_aic"], cj["best_bic"], cj["best_cv"], 2))
        # the sibling-extrapolation criterion, as the CLI wrote it
        self.assertEqual([float(v) for v in s.sibling_mae], [row["sibling_mae"] for row in cj["fits"]])
        self.assertEqual(s.best_sibling, cj["best_sibling"])
        self.assertTrue(all(0 < v < 1 for v in s.sibling_mae))
        # the refits (2 folds and the sibling hold-out per K) and how many did
        # not converge, as the CLI wrote them
        self.assertEqual([int(v) for v in s.refits], [row["refits"] for row in cj["fits"]])
        self.assertEqual([int(v) for v in s.refits_not_converged],
                         [row["refits_not_converged"] for row in cj["fits"]])
        self.assertTrue(all(v == 3 for v in s.refits))
        # K = 2 with 1 start finds the same optimum as the 2-start fit (reached
        # from another start, so equal to the optimiser's tolerance, not bitwise)
        self.assertAlmostEqual(s.loglik[1], S["fit"].loglik, delta=1e-4)
        self.assertEqual(s.reused, 0)

    def test_select_chooses_the_configuration_as_the_cli(self):
        cli("select", "lb.csv", "--floors", "floors.csv", "--skills", "2..2", "--folds", 0,
            "--starts", 1, "--threads", THREADS, "--select-interaction", "--select-ceilings",
            "--out", "cli_selcfg.json")
        s = ls.select("lb.csv", floors="floors.csv", skills="2..2", folds=0, starts=1,
                      threads=THREADS, select_interaction=True, select_ceilings=True,
                      out="py_selcfg.json")
        cj = load("cli_selcfg.json")
        self.assertEqual(without_options(load("py_selcfg.json")), without_options(cj))
        c, cc = s.configuration, cj["configuration"]
        self.assertEqual(c["ceilings"], [r["estimated_ceilings"] for r in cc["table"]])
        self.assertEqual(c["covariates"], [r["covariates"] for r in cc["table"]])
        self.assertEqual((c["chosen_skills"], c["chosen_covariates"], c["chosen_ceilings"]),
                         (cc["chosen_skills"], cc["chosen_covariates"], cc["chosen_ceilings"]))
        # the first configuration (the covariates as given, no ceiling) is the K table's
        self.assertEqual(c["sibling_mae"][0][0], s.sibling_mae[0])
        self.assertEqual(c["ceilings"][0], "")
        self.assertIn("log(size)*log(tokens)", c["covariates"][0])
        self.assertNotIn("*", c["covariates"][-1])
        plain = ls.select("lb.csv", floors="floors.csv", skills=1, folds=0, starts=1, threads=THREADS)
        self.assertIsNone(plain.configuration)
        if pd is not None:  # the table as a DataFrame: the JSON's rows, in order
            df = s.configuration_dataframe()
            self.assertEqual(len(df), len(cc["table"]))
            self.assertEqual(list(df["sibling_mae"]), [r["sibling_mae"] for r in cc["table"]])
            self.assertEqual(list(df["ceilings"]), [r["estimated_ceilings"] for r in cc["table"]])
            self.assertEqual(list(df["covariates"]), [r["covariates"] for r in cc["table"]])
            self.assertEqual(int(df["chosen"].sum()), 1)
            k, _ = df.index[df["chosen"]][0]
            self.assertEqual(k, cc["chosen_skills"])
            self.assertEqual(df[df["chosen"]]["ceilings"].iloc[0], cc["chosen_ceilings"])
            with self.assertRaisesRegex(ValueError, "select_interaction"):
                plain.configuration_dataframe()

    def test_select_resumes_from_a_journal(self):
        calls = []

        def stop(stage, done, total):
            calls.append(stage)
            return len(calls) >= 3  # cancel after three fits
        kw = dict(floors="floors.csv", skills=(1, 2), folds=2, starts=1, threads=THREADS)
        with self.assertRaises(ls.CancelledError):
            ls.select("lb.csv", journal="py_sel.journal", progress=stop, **kw)
        self.assertTrue(os.path.exists("py_sel.journal"))
        self.assertTrue(all(c.startswith("select: K = ") for c in calls))
        s = ls.select("lb.csv", journal="py_sel.journal", **kw)
        self.assertGreaterEqual(s.reused, 3)
        self.assertFalse(os.path.exists("py_sel.journal"))
        plain = ls.select("lb.csv", **kw)
        self.assertEqual((s.loglik.tolist(), s.cv.tolist(), list(s.sibling_mae)),
                         (plain.loglik.tolist(), plain.cv.tolist(), list(plain.sibling_mae)))

    def test_evaluate_matches_the_cli(self):
        with open(path("lb.csv")) as f:
            models = [r["model"] for r in csv.DictReader(f)]
        with open(path("split.csv"), "w") as f:
            f.write("model,role\n")
            for i, m in enumerate(models):
                role = "test" if i % 6 == 0 else ("excluded" if i % 13 == 0 else "train")
                f.write("%s,%s\n" % (m, role))
        cli("evaluate", "lb.csv", "--floors", "floors.csv", "--skills", 1, "--starts", 1,
            "--split", "split.csv", "--param-draws", PRED["param_draws"], "--latent-draws",
            PRED["latent_draws"], "--seed", PRED["seed"], "--threads", THREADS,
            "--out", "cli_ev.json")
        with ls.evaluate("lb.csv", split="split.csv", floors="floors.csv", skills=1, starts=1,
                         param_draws=PRED["param_draws"], latent_draws=PRED["latent_draws"],
                         seed=PRED["seed"], threads=THREADS, out="py_ev.json") as ev:
            cj = load("cli_ev.json")
            self.assertEqual(without_options(load("py_ev.json")), without_options(cj))
            close(self, ev.mae, [cj["mae"][b] for b in ev.benchmarks], "mae")
            self.assertEqual((ev.mae_overall, ev.mae_mean, ev.mae_map, ev.coverage),
                             (cj["mae_overall"], cj["mae_predictive_mean"], cj["mae_plugin_map"],
                              cj["coverage"]))
            self.assertEqual((ev.n_cells, ev.n_train, ev.n_test, ev.n_excluded, ev.level),
                             (cj["n_cells"], cj["n_train"], cj["n_test"], cj["n_excluded"],
                              cj["level"]))
            self.assertEqual(ev.fit.loglik, cj["train_loglik"])
            self.assertEqual(ev.prediction.median.shape, (ev.n_test, len(ev.benchmarks)))
            scored = ~np.isnan(ev.prediction.observed)  # the file lists the scored cells
            self.assertEqual(int(scored.sum()), ev.n_cells)
            close(self, ev.prediction.median[scored], [c["median"] for c in cj["cells"]], "median")
            close(self, ev.prediction.observed[scored], [c["observed"] for c in cj["cells"]],
                  "observed")
            # the training fit stays usable after the evaluation is copied out
            self.assertEqual(ev.fit.predict("new.csv", param_draws=0).median.shape, (3, 5))
            per, overall, n = ls.mae(ev.prediction.median, ev.prediction.observed)
            self.assertAlmostEqual(overall, ev.mae_overall, places=12)
            self.assertEqual(n, ev.n_cells)
        self.assertTrue(ev.fit.closed)

    def evaluate_both(self, name, rng, flag):
        """evaluate --select rng with flag by the command and by Python (the
        keyword of the same name): the Evaluation and the command's JSON,
        checked equal but for the options."""
        cli("evaluate", "lb.csv", "--floors", "floors.csv", "--holdout", "largest", "--select", rng,
            "--" + flag.replace("_", "-"), "--starts", 1, "--param-draws", 0, "--seed", PRED["seed"],
            "--threads", THREADS, "--out", "cli_%s.json" % name)
        ev = ls.evaluate("lb.csv", holdout="largest", floors="floors.csv", select=rng, starts=1,
                         param_draws=0, seed=PRED["seed"], threads=THREADS, out="py_%s.json" % name,
                         **{flag: True})
        cj = load("cli_%s.json" % name)
        self.assertEqual(without_options(load("py_%s.json" % name)), without_options(cj))
        return ev, cj

    def test_evaluate_select_matches_the_cli(self):
        ev, cj = self.evaluate_both("evsel", "1..2", "select_interaction")
        with ev:
            sel, cs = ev.selection, cj["selection"]
            self.assertEqual(sel["skills"], cs["skills"])
            self.assertEqual(sel["covariates"], cs["covariates"])
            self.assertEqual(sel["sibling_mae"].tolist(),
                             [[r["sibling_mae"] for r in cs["table"][2 * k:2 * k + 2]] for k in range(2)])
            self.assertEqual((sel["chosen_skills"], sel["chosen_covariates"]),
                             (cs["chosen_skills"], cs["chosen_covariates"]))
            self.assertEqual(cj["skills"], sel["chosen_skills"])
            self.assertTrue(cs["made_inside"].startswith("the training rows only"))
        # the ceilings chosen too: the same table and choice as the command
        ev, cj = self.evaluate_both("evceil", "2..2", "select_ceilings")
        with ev:
            sel, cs = ev.selection, cj["selection"]
            self.assertEqual(sel["ceilings"], [r["estimated_ceilings"] for r in cs["table"]])
            self.assertEqual(sel["ceilings"][0], "")
            self.assertEqual(sel["chosen_ceilings"], cs["chosen_ceilings"])
            self.assertEqual(sel["ceiling_candidates"], cs["ceiling_candidates"])
            self.assertEqual(sel["mae_difference"].tolist()[0],
                             [r["mae_difference"] for r in cs["table"]])
            self.assertEqual(min(sel["mae_difference"].tolist()[0]), 0.0)
            if pd is not None:
                df = ev.selection_dataframe()
                self.assertEqual(list(df["mae_difference"]), [r["mae_difference"] for r in cs["table"]])
                self.assertEqual(list(df["ceilings"]), [r["estimated_ceilings"] for r in cs["table"]])
                self.assertEqual(int(df["chosen"].sum()), 1)
        with self.assertRaisesRegex(ls.OptionError, "^select_ceilings needs select"):
            ls.evaluate("lb.csv", holdout="largest", skills=2, select_ceilings=True)
        with self.assertRaisesRegex(ls.OptionError, "^select chooses K: give either"):
            ls.evaluate("lb.csv", holdout="largest", select="1..2", skills=2)
        with self.assertRaisesRegex(ls.OptionError, "^select: expected a range of K"):
            ls.evaluate("lb.csv", holdout="largest", select="2..x")


class TestInputs(unittest.TestCase):
    def test_dict_of_columns(self):
        sim = ls.simulate(**SIM)  # the same table as lb.csv, as columns
        with ls.load_fit("cli_fit.json", sim.data) as g:  # must reproduce the log-likelihood
            self.assertEqual(g.loglik, S["fit"].loglik)
            self.assertEqual(g.source, "<dict>")
            new = {"model": ["new-a", "new-b", "new-c"], "family": ["fam0001", "unseen", "fam0002"],
                   "size": [7, 70, 0.5], "tokens": np.array([2.0, 15.0, 1.0]),
                   "math": [0.61, None, float("nan")]}  # new.csv as columns
            p = g.predict(new, **PRED)
            q = S["fit"].predict("new.csv", **PRED)
            close(self, p.median, q.median, "dict vs CSV new models")
            close(self, p.observed, q.observed, "observed")
            self.assertEqual(p.known.tolist(), [True, False, True])

    @unittest.skipIf(pd is None, "pandas is not installed")
    def test_dataframe(self):
        df = pd.read_csv(path("lb.csv"))
        with ls.load_fit("cli_fit.json", df) as g:
            self.assertEqual(g.loglik, S["fit"].loglik)
            self.assertEqual(g.source, "<DataFrame>")
            p = g.predict(pd.read_csv(path("new.csv")), **PRED)
        q = S["fit"].predict("new.csv", **PRED)
        close(self, p.median, q.median, "DataFrame vs CSV")
        close(self, p.observed, q.observed, "observed")
        long = q.to_dataframe()
        self.assertEqual(len(long), 3 * len(q.benchmarks))
        self.assertEqual(list(long.columns[:4]), ["model", "family", "known_family", "benchmark"])
        with ls.Model(df, skills=2, floors=dict(zip(ls.simulate(**SIM).benchmarks,
                                                    ls.simulate(**SIM).floors))) as m:
            self.assertAlmostEqual(m.loglik(S["fit"].theta), S["fit"].loglik,
                                   delta=1e-8 * abs(S["fit"].loglik))


class TestErrors(unittest.TestCase):
    def assert_same_message_as_cli(self, exc_type, cli_args, call):
        code, _, err = cli(*cli_args, ok=False)
        self.assertNotEqual(code, 0)
        with self.assertRaises(exc_type) as cm:
            call()
        want = err.strip().splitlines()[0]
        self.assertTrue(want.startswith("latentscale: "), want)
        # the same library message; the command line names options by flags,
        # the binding by keywords
        flags = {"--ceiling": "ceilings", "--floor": "floor", "--floors": "floors"}
        want = re.sub(r"--[a-z-]+", lambda m: flags.get(m.group(0), m.group(0)[2:].replace("-", "_")),
                      want[len("latentscale: "):])
        self.assertEqual(str(cm.exception), want)
        self.assertIsInstance(cm.exception, ls.LatentscaleError)
        return cm.exception

    def test_unknown_column(self):
        e = self.assert_same_message_as_cli(
            ls.OptionError, ["fit", "lb.csv", "--benchmarks", "math,nope", "--skills", 1],
            lambda: ls.fit("lb.csv", benchmarks=["math", "nope"], skills=1))
        self.assertEqual((e.code, e.status), (4, "option"))
        self.assertIn("unknown column 'nope'", str(e))

    def test_bad_options(self):
        self.assert_same_message_as_cli(
            ls.OptionError, ["fit", "lb.csv", "--skills", 1, "--gtol", -1],
            lambda: ls.fit("lb.csv", skills=1, gtol=-1))
        self.assert_same_message_as_cli(
            ls.OptionError, ["fit", "lb.csv", "--skills", 9],
            lambda: ls.fit("lb.csv", skills=9))
        with self.assertRaisesRegex(ls.OptionError, "^skills: expected an integer"):
            ls.fit("lb.csv", skills=-1)
        with self.assertRaisesRegex(ls.OptionError, "integration"):
            ls.fit("lb.csv", integration="simpson")
        with self.assertRaisesRegex(ls.OptionError, "^family: no family 'nobody' in lb.csv$"):
            S["fit"].posterior("nobody")
        with self.assertRaisesRegex(ls.OptionError, "exactly one of split"):
            ls.evaluate("lb.csv")

    def test_bad_ceiling(self):
        b0 = S["fit"].benchmarks[0]
        self.assert_same_message_as_cli(
            ls.OptionError, ["fit", "lb.csv", "--skills", 1, "--ceiling", "%s=1.5" % b0],
            lambda: ls.fit("lb.csv", skills=1, ceilings={b0: 1.5}))

    def test_bad_files(self):
        with self.assertRaises(ls.FileError) as cm:
            ls.fit("no-such-file.csv")
        self.assertIn("no-such-file.csv", str(cm.exception))
        with open(path("ragged.csv"), "w") as f:
            f.write("model,family,size\na,b\n")
        self.assert_same_message_as_cli(ls.ParseError, ["fit", "ragged.csv"],
                                        lambda: ls.fit("ragged.csv"))
        # the fit refuses data it was not fitted on
        sim = ls.simulate(n_families=12, skills=2, n_benchmarks=5, seed=99)
        with self.assertRaisesRegex(ls.InputError, "^cli_fit.json: the data in <dict> give .*"
                                                   "not the data it was fitted on$"):
            ls.load_fit("cli_fit.json", sim.data)
        with self.assertRaisesRegex(ls.InputError, "^<dict>:3:3: column 'size'"):
            ls.fit({"model": ["a", "b"], "family": ["f", "g"], "size": [1.0, "x"],
                    "tokens": [1, 2], "m": [0.5, 0.2]}, skills=1)

    def test_progress_can_cancel(self):
        seen = []

        def stop(stage, done, total):
            seen.append(stage)
            return len(seen) >= 2
        with self.assertRaises(ls.CancelledError):
            ls.fit("lb.csv", floors="floors.csv", skills=2, starts=1, threads=THREADS,
                   progress=stop)
        self.assertEqual(len(seen), 2)

        def boom(stage, done, total):
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):  # Ctrl-C in a notebook stops the fit
            ls.fit("lb.csv", floors="floors.csv", skills=2, starts=1, threads=THREADS,
                   progress=boom)

    def test_non_convergence_warns(self):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            # gtol 1e-15 is out of reach; 3 nodes keep the polish short
            with ls.fit("lb.csv", floors="floors.csv", skills=1, starts=1, max_iter=1,
                        gtol=1e-15, integration="gh", nodes=3, se=False, threads=THREADS) as g:
                self.assertFalse(g.converged)
                self.assertIsNone(g.se["hessian"])
                self.assertIsNone(g.covariance)
        self.assertTrue(any(issubclass(x.category, ls.LatentscaleWarning) for x in w))


if __name__ == "__main__":
    unittest.main()
