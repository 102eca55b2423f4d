"""Docstrings of the binding's functions, in numpydoc style, built from one
catalogue of parameter descriptions so that a parameter means the same thing
(and has the same documented default) in every function that takes it.

An option whose default is the C library's (the value ls_*_options_init
sets) defaults to None in Python and says "(library default: X)"; the test
python/tests/test_api.py compares every such X with latentscale.defaults(),
which reads the library at call time, so the documentation cannot drift from
the C defaults unnoticed.

Units: size in billions of parameters (7, not 7e9), tokens in trillions of
training tokens (2, not 2e12), compute in FLOPs.
"""
import inspect

TABLE = "str, os.PathLike, pandas.DataFrame or dict of columns"

# name -> (type, description)
PARAMS = {
    "data": (TABLE, "The leaderboard: columns model, family, size (billions of parameters, 7 not "
             "7e9), tokens (trillions of training tokens, 2 not 2e12) and one column of scores "
             "in [0, 1] per benchmark (empty or NaN: not evaluated)."),
    "fit": ("Fit, str or os.PathLike", "A fitted model, or the path of a fit file (then `data` "
            "is the table it was fitted on)."),
    "fit_file": ("Fit, str or os.PathLike", "A fitted model, or the path of a fit file (no data "
                 "needed: the file holds the estimates and the data's ranges)."),
    "fit_data": (TABLE + " or None", "With a fit file: the table it was fitted on. Ignored for a "
                 "Fit."),
    "new": (TABLE, "The new models: columns model, family, size (billions of parameters) and "
            "tokens (trillions), and the covariates' sources; a benchmark column, if present, is "
            "read as the observed score (empty or NaN: not observed)."),
    "family": ("str", "The name of a family in the fit's data."),
    "family_a": ("str", "The first family (A) of the difference alpha_A - alpha_B."),
    "family_b": ("str", "The second family (B)."),
    # data options (ls_data_options)
    "benchmarks": ("str or list of str, optional", "Benchmark columns in order ('a,b' or a "
                   "list); None: every numeric column but model, family, size, tokens, flops."),
    "covariates": ("str or list of str, optional", "Covariate terms ('log(size),log(tokens)' or "
                   "a list); None: log(size), log(tokens), log(size)*log(tokens)."),
    "floors": ("str, os.PathLike, mapping or pandas.DataFrame, optional", "Guessing floors: a "
               "CSV path (benchmark,floor), a mapping benchmark -> floor, or a DataFrame with "
               "columns benchmark and floor; None: floors 0."),
    "floor": ("str or mapping, optional", "Floor overrides applied after `floors` "
              "('arc=0.25,mmlu=0.25' or a mapping benchmark -> floor)."),
    "ceilings": ("str, os.PathLike or mapping, optional", "Ceilings, the mean's upper asymptote: "
                 "a CSV path (benchmark,ceiling) or a mapping benchmark -> ceiling; None: 1."),
    "clip": ("float, optional", "Scores are clipped into [clip, 1 - clip] (library default: "
             "0.001)."),
    "model_column": ("str, optional", "The model name column (library default: model)."),
    "family_column": ("str, optional", "The family name column (library default: family)."),
    "size_column": ("str, optional", "The column of model sizes, billions of parameters "
                    "(library default: size); covariate terms still say log(size)."),
    "tokens_column": ("str, optional", "The column of training tokens, trillions (library "
                      "default: tokens); covariate terms still say log(tokens)."),
    "drop_incomplete": ("bool, optional", "Drop rows without size or tokens and families without "
                        "a score on the chosen benchmarks, naming them in a warning (None: the "
                        "library's, refuse them)."),
    # fit options (ls_fit_options)
    "skills": ("int, optional", "Number of latent skills K (library default: 4)."),
    "anchors": ("str or list of str, optional", "The anchor benchmark of each skill; None or "
                "'first': the first K benchmarks; 'auto': chosen from the data (no two nearly "
                "collinear, named in the fit)."),
    "starts": ("int, optional", "Seeded optimiser starts (library default: 8)."),
    "seed": ("int, optional", "Random seed (library default: 1)."),
    "integration": ("str, optional", "Integration rule over each family's skills: auto, gh, "
                    "sparse, qmc or laplace; None: the library's (auto)."),
    "nodes": ("int, optional", "Gauss-Hermite nodes per dimension, sparse-grid level or QMC "
              "points (library default: 0, i.e. chosen for K)."),
    "threads": ("int, optional", "Worker threads (library default: 0, i.e. all cores); results "
                "do not depend on it."),
    "gtol": ("float, optional", "Convergence: max |gradient| (library default: 0.01)."),
    "max_iter": ("int, optional", "Optimiser iterations per start (library default: 3000)."),
    "se": ("bool, optional", "Compute standard errors; False is the CLI's --no-se (None: the "
           "library's, with standard errors)."),
    "precision_covariates": ("bool, optional", "Log precision linear in the covariates, tested "
                             "against constant precision (None: the library's, constant)."),
    "family_effect": ("bool, optional", "A family-by-benchmark random effect u_fj ~ N(0, tau_j^2) "
                      "on the logit, independent of the skills, tested against none (at most 7 "
                      "skills; None: the library's, without)."),
    "family_effect_sd": ("float, optional", "Simulate a family-by-benchmark effect u_fj ~ N(0, sd^2) "
                         "(library default: 0, none)."),
    "logit_clamp": ("float, optional", "Clip eta into [-X, X] as the reference's published AIC "
                    "table did, 4.5 (library default: 0, i.e. off)."),
    "estimate_ceilings": ("str or list of str, optional", "Benchmarks whose ceilings are "
                          "estimated by maximum likelihood ('a,b', a list or 'all'); None: none."),
    "calibrate": ("bool, optional", "Calibrate the fit by extrapolation to each family's largest "
                  "model: held out, the law refitted without them, their predictive CDF values "
                  "stored; predictions then take their median and interval ends at the calibrated "
                  "levels, per benchmark (medians, and ends with too few cells, shrunk towards the pooled ones; calibration_folds more "
                  "fits; library default: True, skipped with a warning where fewer than 5 families have two or more models). In evaluate, inside the training rows."),
    "calibration_folds": ("int, optional", "With calibrate: the held-out siblings are split into "
                          "this many groups of families, each refitted without its group only, "
                          "from the fit's estimates (library default: 5; 1: all at once)."),
    "progress": ("callable, optional", "progress(stage, done, total) is called as the fit runs; "
                 "returning True cancels it (CancelledError). An exception in it, Ctrl-C "
                 "included, cancels and is re-raised."),
    # prediction options (ls_predict_options)
    "level": ("float, optional", "Probability of the central intervals (library default: 0.9)."),
    "param_draws": ("int, optional", "Draws of the parameters from their asymptotic normal "
                    "distribution; 0 plugs in the estimates (library default: 200)."),
    "latent_draws": ("int, optional", "Family-posterior draws per parameter draw (library "
                     "default: 50)."),
    "param_cov": ("str, optional", "The covariance of the parameter draws: 'hessian' or "
                  "'sandwich' (robust to misspecification); None: the library's (hessian)."),
    "journal": ("str or os.PathLike, optional", "Keep every finished fit in this file "
                "(atomically rewritten), so that a select interrupted and run again with the same "
                "inputs and journal reuses them; removed when the selection completes (the CLI "
                "uses OUT.journal). None: no journal."),
    "ceiling_uncertainty": ("bool, optional", "Above the best score observed on a benchmark with "
                            "a fixed ceiling, draw the ceiling uniform between that score and the "
                            "fixed one, so intervals far above the data do not collapse onto 1; "
                            "False takes the ceiling as known (library default: 1, i.e. True)."),
    # posterior options (ls_posterior_options)
    "chains": ("int, optional", "MCMC chains (library default: 4)."),
    "warmup": ("int, optional", "Warm-up iterations per chain (library default: 1000)."),
    "draws": ("int, optional", "Kept draws per chain (library default: 2000)."),
    # optimal options (ls_optimal_options)
    "budgets": ("sequence of float, optional", "Compute budgets C = 6 N D in FLOPs; None: 10 "
                "log-spaced over the data's range."),
    "size_range": ("(float, float), optional", "(min, max) model sizes searched, in billions of "
                   "parameters; None: the data's range."),
    "tokens_range": ("(float, float), optional", "(min, max) training tokens searched, in "
                     "trillions; None: the data's range."),
    "optimal_draws": ("int, optional", "Parameter draws for the intervals; 0: none (library "
                      "default: 1000)."),
    # outputs
    "out": ("str or os.PathLike, optional", "Also write the result here, as the CLI's --out "
            "does (atomically)."),
    "format": ("str, optional", "'csv' or 'json'; None: JSON if `out` ends in .json, else CSV."),
}

PARAMS.update({
    "split": (TABLE + ", optional", "The roles of the rows: columns model and role (train, "
              "test or excluded)."),
    "holdout": ("str, optional", "'largest': hold out the largest model of each family with at "
                "least two models."),
    "folds": ("int, optional", "Family folds for the cross-validated log-likelihood; 0: none "
              "(default 5, as the CLI's)."),
    "skill_range": ("str, int, range or (int, int), optional", "The numbers of skills K: "
                    "'1..4', (1, 4), range(1, 5) or one int (default '1..4', as the CLI's)."),
})

PARAMS.update({
    "report_out": ("str or os.PathLike", "The HTML file to write (required)."),
    "report_families": ("str or list of str, optional", "Families to highlight in the figures "
                        "('a,b' or a list); None: the `top` largest."),
    "top": ("int, optional", "Families highlighted when `families` is None (library default: "
            "4)."),
    "report_compare": ("str or list of str, optional", "Two families A,B to compare ('a,b' or a "
                       "list)."),
    "report_select": ("str or os.PathLike, optional", "The JSON file of select(..., out=...), "
                      "shown as a table and a figure."),
    "title": ("str, optional", "The page's title; None: from the fit file's name."),
    "grid": ("int, optional", "Points of each curve (library default: 30)."),
    "report_param_draws": ("int, optional", "Parameter draws of the predictive bands (library "
                           "default: 200, as predict)."),
    "report_latent_draws": ("int, optional", "Family-posterior draws per parameter draw (library "
                            "default: 50, as predict)."),
})

PARAMS.update({
    "sim_out": ("str or os.PathLike, optional", "Write the leaderboard CSV here (and the truth "
                "to `truth_out`)."),
    "families_count": ("int, optional", "Number of families (library default: 60)."),
    "sim_skills": ("int, optional", "Number of skills K (library default: 3; with `truth`, "
                   "its K)."),
    "sim_benchmarks": ("int, optional", "Number of benchmarks J (library default: 12; with "
                       "`truth`, its J)."),
    "missing": ("float, optional", "Share of the scores left missing (library default: 0.3)."),
    "truth": ("Params, optional", "The parameters to simulate from (p = 3 default covariates); "
              "None: random realistic ones."),
    "truth_out": ("str or os.PathLike, optional", "Write the true parameters as JSON here "
                  "(default with `out`: OUT with .truth.json)."),
    "floors_out": ("str or os.PathLike, optional", "Write the floors CSV (benchmark,floor) "
                   "here."),
    "sim_ceilings": ("str or mapping, optional", "Ceilings of the mean ('name=value,..' or a "
                     "mapping benchmark -> ceiling; the CLI's --ceiling); None: 1."),
})

# the same names with another meaning in one function: (function, name) -> (type, text)
OVERRIDES = {
    ("optimal", "param_draws"): PARAMS["optimal_draws"],
    ("select", "skills"): PARAMS["skill_range"],
    ("select", "select_interaction"): ("bool, optional", "Also choose, by the sibling MAE, whether the "
                                       "covariates' product term stays (two more fits per K)."),
    ("select", "select_ceilings"): ("bool, optional", "Also choose, by the sibling MAE, which benchmarks' "
                                    "ceilings are estimated, among those the data find saturating (as "
                                    "evaluate's `select_ceilings`)."),
    ("simulate", "out"): PARAMS["sim_out"],
    ("simulate", "n_families"): PARAMS["families_count"],
    ("simulate", "skills"): PARAMS["sim_skills"],
    ("simulate", "n_benchmarks"): PARAMS["sim_benchmarks"],
    ("simulate", "seed"): ("int, optional", "Random seed (library default: 1)."),
    ("simulate", "ceilings"): PARAMS["sim_ceilings"],
    ("report", "out"): PARAMS["report_out"],
    ("report", "highlight"): PARAMS["report_families"],
    ("report", "compare"): PARAMS["report_compare"],
    ("report", "select"): PARAMS["report_select"],
    ("evaluate", "select"): ("str, range or (int, int), optional", "Choose K in this range "
                             "('1..4', (1, 4)) inside the training rows alone, by the sibling MAE "
                             "(each training family's largest model held out); not with `skills`. "
                             "None: K is `skills`."),
    ("evaluate", "select_interaction"): ("bool, optional", "With `select`: also choose whether the "
                                         "covariates' product term stays (twice the fits)."),
    ("evaluate", "select_ceilings"): ("bool, optional", "With `select`: also choose which benchmarks' "
                                      "ceilings are estimated, among those the data find saturating "
                                      "(a prefix of up to 3; more only when they beat fewer by more "
                                      "than one standard error of the sibling MAE)."),
    ("report", "data"): PARAMS["fit_data"],
    ("report", "param_draws"): PARAMS["report_param_draws"],
    ("report", "latent_draws"): PARAMS["report_latent_draws"],
    ("optimal", "fit"): PARAMS["fit_file"],
    ("predict", "data"): PARAMS["fit_data"],
    ("compare", "data"): PARAMS["fit_data"],
    ("posterior", "data"): PARAMS["fit_data"],
    ("posterior", "threads"): ("int, optional", "Worker threads for loading a fit file "
                               "(library default: 0, i.e. all cores)."),
    ("posterior", "seed"): ("int, optional", "Random seed of the chains (library default: 1)."),
}

ERRORS = ("LatentscaleError\n"
          "    A subclass by the C status, carrying the C message: OptionError (an invalid "
          "option), InputError (invalid content), ParseError, FileError, NumericalError, ...")

WARNS = ("LatentscaleWarning\n"
         "    One per warning of the result (also kept in its ``warnings``), via warnings.warn.")


def describe(name, function):
    """(type, text) of a parameter of a function."""
    return OVERRIDES.get((function, name)) or PARAMS[name]


def _wrap(text, indent, width=96):
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(indent) + len(line) + 1 + len(w) > width:
            lines.append(indent + line)
            line = w
        else:
            line = (line + " " + w) if line else w
    if line:
        lines.append(indent + line)
    return "\n".join(lines)


def document(summary, returns, function=None, skip=(), raises=ERRORS, warns=WARNS, notes=None):
    """Decorator: the numpydoc docstring of a function from the catalogue,
    with its parameters in the signature's order (self and `skip` left
    out).  Every parameter must be in the catalogue (KeyError at import)."""
    def deco(f):
        name = function or f.__name__
        parts = [summary.strip(), "", "Parameters", "----------"]
        for p in inspect.signature(f).parameters.values():
            if p.name == "self" or p.name in skip:
                continue
            typ, text = describe(p.name, name)
            parts.append("%s : %s" % (p.name, typ))
            parts.append(_wrap(text, "    "))
        parts += ["", "Returns", "-------", returns.strip()]
        parts += ["", "Raises", "------", raises]
        if warns:
            parts += ["", "Warns", "-----", warns]
        if notes:
            parts += ["", "Notes", "-----", notes.strip()]
        f.__doc__ = "\n".join(parts) + "\n"
        return f
    return deco
