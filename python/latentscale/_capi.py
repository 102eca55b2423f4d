"""ctypes declarations of include/latentscale.h (version 0.19.0).

Every structure below mirrors the header field by field, in order, with the
C types of the header (size_t -> c_size_t, unsigned -> c_uint, uint64_t ->
c_uint64); ctypes then applies the platform ABI's alignment, as the C
compiler does.  If the header changes, change this file in the same commit:
python/tests/test_binding.py compares every structure's values with the
command line's JSON files, so a layout that drifts fails there.

The library is found, in order, at:
  1. $LATENTSCALE_LIB (the .so itself, or a folder holding liblatentscale.so);
  2. next to the package (python/latentscale/ or python/);
  3. the repository's build folder (python/../build);
  4. the system's library path (ctypes.util.find_library("latentscale")).
"""
import ctypes
import ctypes.util
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char, c_char_p, c_double, c_int, c_long,
                    c_size_t, c_uint, c_uint64, c_void_p)

from .errors import LibraryNotFoundError, error_for

HEADER_VERSION = "0.19.0"
LS_ERROR_LEN = 512

LS_OK, LS_ERR_IO, LS_ERR_PARSE, LS_ERR_INPUT, LS_ERR_OPTION = 0, 1, 2, 3, 4
LS_ERR_NOMEM, LS_ERR_NUMERIC, LS_ERR_NOCONV, LS_ERR_CANCEL = 5, 6, 7, 8

LS_INT_AUTO, LS_INT_LAPLACE, LS_INT_GH, LS_INT_QMC, LS_INT_SPARSE = 0, 1, 2, 3, 4
LS_SE_HESSIAN, LS_SE_OPG, LS_SE_SANDWICH = 0, 1, 2
LS_CONVERGED_GRADIENT, LS_CONVERGED_CHANGE = 1, 2
(LS_NAT_BETA, LS_NAT_LAMBDA, LS_NAT_B, LS_NAT_PHI, LS_NAT_SIGMA, LS_NAT_GAMMA, LS_NAT_CEILING,
 LS_NAT_TAU, LS_NAT_NBLOCKS) = range(9)
LS_FACTOR_BERNOULLI, LS_FACTOR_POISSON, LS_FACTOR_GAUSSIAN, LS_FACTOR_PROBIT = 0, 1, 2, 3
LS_FACTOR_COV_L1, LS_FACTOR_COV_ORTHOGONAL = 0, 1
LS_FACTOR_JML, LS_FACTOR_MML, LS_FACTOR_AUTO = 0, 1, 2
LS_FACTOR_BONFERRONI, LS_FACTOR_BH = 0, 1
LS_GPCM_GVEM, LS_GPCM_MML = 0, 1
LS_GPCM_COV_DIF, LS_GPCM_COV_LREG = 0, 1

c_double_p = POINTER(c_double)
c_size_t_p = POINTER(c_size_t)
c_int_p = POINTER(c_int)
c_uint_p = POINTER(c_uint)
c_char_pp = POINTER(c_char_p)

# int (*ls_progress_fn)(void *ctx, const char *stage, double done, double total)
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_char_p, c_double, c_double)


# ---------------------------------------------------------------------------
# Structures (field order and types exactly as in latentscale.h)
# ---------------------------------------------------------------------------

class LsError(Structure):
    _fields_ = [("code", c_int), ("message", c_char * LS_ERROR_LEN)]


class LsDataOptions(Structure):
    _fields_ = [("benchmarks", c_char_p), ("covariates", c_char_p), ("floors_file", c_char_p),
                ("floors", c_char_p), ("clip", c_double), ("model_column", c_char_p),
                ("family_column", c_char_p), ("ceilings_file", c_char_p), ("ceilings", c_char_p),
                ("size_column", c_char_p), ("tokens_column", c_char_p), ("drop_incomplete", c_int)]


class LsParams(Structure):
    _fields_ = [("K", c_size_t), ("J", c_size_t), ("p", c_size_t),
                ("beta", c_double_p), ("lambda_", c_double_p), ("b", c_double_p),
                ("phi", c_double_p), ("sigma", c_double_p), ("anchors", c_size_t_p),
                ("gamma", c_double_p), ("hetero", c_int), ("ceiling", c_double_p),
                ("tau", c_double_p), ("family_effect", c_int)]


class LsFitOptions(Structure):
    _fields_ = [("skills", c_size_t), ("anchors", c_char_p), ("starts", c_uint),
                ("seed", c_uint64), ("integration", c_int), ("nodes", c_uint),
                ("threads", c_uint), ("gtol", c_double), ("max_iter", c_uint),
                ("skip_se", c_int), ("precision_covariates", c_int), ("logit_clamp", c_double),
                ("progress", PROGRESS_FN), ("progress_ctx", c_void_p), ("skip_check", c_int),
                ("estimate_ceilings", c_char_p), ("calibrate", c_int), ("family_effect", c_int),
                ("calibration_folds", c_uint)]


class LsSimOptions(Structure):
    _fields_ = [("families", c_size_t), ("skills", c_size_t), ("benchmarks", c_size_t),
                ("missing", c_double), ("seed", c_uint64), ("truth", POINTER(LsParams)),
                ("ceilings", c_double_p), ("ceiling_list", c_char_p), ("family_effect_sd", c_double)]


class LsPosteriorOptions(Structure):
    _fields_ = [("chains", c_uint), ("warmup", c_size_t), ("draws", c_size_t), ("seed", c_uint64)]


class LsPredictOptions(Structure):
    _fields_ = [("level", c_double), ("param_draws", c_size_t), ("latent_draws", c_size_t),
                ("seed", c_uint64), ("threads", c_uint), ("param_cov", c_char_p),
                ("calibration", c_int), ("ceiling_uncertainty", c_int)]


class LsOptimalOptions(Structure):
    _fields_ = [("budgets", c_double_p), ("nbudgets", c_size_t),
                ("size_min", c_double), ("size_max", c_double),
                ("tokens_min", c_double), ("tokens_max", c_double),
                ("st_min", c_double), ("st_max", c_double),
                ("draws", c_size_t), ("level", c_double), ("seed", c_uint64), ("threads", c_uint)]


class LsFactorOptions(Structure):
    _fields_ = [("factors", c_size_t), ("family", c_int), ("identify", c_int),
                ("covariate_condition", c_int), ("anchors", c_size_t_p), ("starts", c_uint),
                ("seed", c_uint64), ("threads", c_uint), ("bound", c_double), ("tol", c_double),
                ("max_iter", c_uint), ("skip_se", c_int), ("ridge", c_double),
                ("no_scale_correction", c_int), ("loading_bootstrap", c_int),
                ("method", c_int), ("nodes", c_uint), ("dif_lr", c_int), ("equal_loadings", c_int),
                ("progress", PROGRESS_FN), ("progress_ctx", c_void_p)]


class LsGpcmOptions(Structure):
    _fields_ = [("factors", c_size_t), ("method", c_int), ("starts", c_uint), ("seed", c_uint64),
                ("threads", c_uint), ("tol", c_double), ("max_iter", c_uint), ("nodes", c_uint),
                ("gtol", c_double), ("skip_se", c_int), ("covariate_mode", c_int),
                ("covariate_condition", c_int), ("dif_alpha", c_double), ("dif_correction", c_int), ("dif_lr", c_int),
                ("progress", PROGRESS_FN), ("progress_ctx", c_void_p)]


# ---------------------------------------------------------------------------
# Prototypes
# ---------------------------------------------------------------------------

_P = POINTER
_err = _P(LsError)
_vpp = _P(c_void_p)

PROTOTYPES = {
    "ls_status_name": (c_char_p, [c_int]),
    "ls_version": (c_char_p, []),
    # results (one convention for every task; read generically by result_entries)
    "ls_result_kind": (c_char_p, [c_void_p]),
    "ls_result_nentries": (c_size_t, [c_void_p]),
    "ls_result_entry": (c_char_p, [c_void_p, c_size_t]),
    "ls_result_type": (c_int, [c_void_p, c_char_p]),
    "ls_result_numbers": (c_double_p, [c_void_p, c_char_p, c_size_t_p, c_size_t_p]),
    "ls_result_number": (c_double, [c_void_p, c_char_p]),
    "ls_result_nstrings": (c_size_t, [c_void_p, c_char_p]),
    "ls_result_string": (c_char_p, [c_void_p, c_char_p, c_size_t]),
    "ls_result_row_labels": (c_char_p, [c_void_p, c_char_p]),
    "ls_result_col_labels": (c_char_p, [c_void_p, c_char_p]),
    "ls_result_nwarnings": (c_size_t, [c_void_p]),
    "ls_result_warning": (c_char_p, [c_void_p, c_size_t]),
    "ls_result_write": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, _err]),
    "ls_result_free": (None, [c_void_p]),
    # tables
    "ls_table_read": (c_int, [c_char_p, _vpp, _err]),
    "ls_table_parse": (c_int, [c_char_p, c_size_t, c_char_p, _vpp, _err]),
    "ls_table_free": (None, [c_void_p]),
    "ls_table_nrow": (c_size_t, [c_void_p]),
    "ls_table_ncol": (c_size_t, [c_void_p]),
    "ls_table_colname": (c_char_p, [c_void_p, c_size_t]),
    "ls_table_find": (c_long, [c_void_p, c_char_p]),
    "ls_table_cell": (c_char_p, [c_void_p, c_size_t, c_size_t]),
    "ls_table_line": (c_size_t, [c_void_p, c_size_t]),
    "ls_table_name": (c_char_p, [c_void_p]),
    "ls_table_number": (c_int, [c_void_p, c_size_t, c_size_t, c_double_p, c_int_p, _err]),
    "ls_table_new": (c_int, [c_char_p, c_size_t, c_char_pp, _vpp, _err]),
    "ls_table_append": (c_int, [c_void_p, c_char_pp, _err]),
    "ls_table_write": (c_int, [c_void_p, c_char_p, _err]),
    # data
    "ls_data_options_init": (None, [_P(LsDataOptions)]),
    "ls_data_build": (c_int, [c_void_p, _P(LsDataOptions), _vpp, _err]),
    "ls_data_free": (None, [c_void_p]),
    "ls_data_nmodels": (c_size_t, [c_void_p]),
    "ls_data_nfamilies": (c_size_t, [c_void_p]),
    "ls_data_nbenchmarks": (c_size_t, [c_void_p]),
    "ls_data_ncovariates": (c_size_t, [c_void_p]),
    "ls_data_nobserved": (c_size_t, [c_void_p]),
    "ls_data_nclipped": (c_size_t, [c_void_p]),
    "ls_data_nduplicates": (c_size_t, [c_void_p]),
    "ls_data_benchmark": (c_char_p, [c_void_p, c_size_t]),
    "ls_data_covariate": (c_char_p, [c_void_p, c_size_t]),
    "ls_data_family": (c_char_p, [c_void_p, c_size_t]),
    "ls_data_model": (c_char_p, [c_void_p, c_size_t]),
    "ls_data_floor": (c_double, [c_void_p, c_size_t]),
    "ls_data_ceiling": (c_double, [c_void_p, c_size_t]),
    "ls_data_find_family": (c_long, [c_void_p, c_char_p]),
    # parameters
    "ls_params_alloc": (c_int, [_P(LsParams), c_size_t, c_size_t, c_size_t, _err]),
    "ls_params_free": (None, [_P(LsParams)]),
    "ls_params_count": (c_size_t, [c_size_t, c_size_t, c_size_t]),
    # fitting
    "ls_fit_options_init": (None, [_P(LsFitOptions)]),
    "ls_fit_run": (c_int, [c_void_p, _P(LsFitOptions), _vpp, _err]),
    "ls_fit_table": (c_int, [c_void_p, _P(LsDataOptions), _P(LsFitOptions), _vpp, _vpp, _err]),
    "ls_fit_free": (None, [c_void_p]),
    "ls_fit_loglik": (c_double, [c_void_p]),
    "ls_fit_loglik_check": (c_double, [c_void_p, c_size_t_p]),
    "ls_fit_loglik_check_se": (c_double, [c_void_p]),
    "ls_fit_check_criteria": (None, [c_void_p, c_double_p, c_double_p]),
    "ls_fit_check_method": (c_char_p, [c_void_p]),
    "ls_fit_integration": (c_char_p, [c_void_p, c_size_t_p]),
    "ls_fit_nparams": (c_size_t, [c_void_p]),
    "ls_fit_aic": (c_double, [c_void_p]),
    "ls_fit_bic": (c_double, [c_void_p]),
    "ls_fit_converged": (c_int, [c_void_p]),
    "ls_fit_anchors_from_data": (c_int, [c_void_p]),
    "ls_fit_anchors": (c_char_p, [c_void_p]),
    "ls_fit_convergence_criterion": (c_char_p, [c_void_p]),
    "ls_fit_gradnorm": (c_double, [c_void_p]),
    "ls_fit_frozen": (c_int, [c_void_p, c_double_p]),
    "ls_fit_hessian_definite": (c_int, [c_void_p, c_double_p]),
    "ls_fit_iterations": (c_uint, [c_void_p]),
    "ls_fit_starts_at_best": (c_uint, [c_void_p]),
    "ls_fit_params": (_P(LsParams), [c_void_p]),
    "ls_fit_beta_std": (c_double_p, [c_void_p]),
    "ls_fit_family_mode": (c_double_p, [c_void_p, c_size_t]),
    "ls_fit_family_loglik": (c_double_p, [c_void_p]),
    "ls_fit_nwarnings": (c_size_t, [c_void_p]),
    "ls_fit_warning": (c_char_p, [c_void_p, c_size_t]),
    "ls_fit_precision_test": (c_int, [c_void_p, c_double_p, c_double_p, c_double_p, c_double_p,
                                      c_double_p]),
    "ls_fit_theta": (c_double_p, [c_void_p]),
    "ls_fit_se": (c_double_p, [c_void_p, c_int]),
    "ls_fit_timing": (None, [c_void_p, c_double_p, c_double_p, c_double_p, c_double_p]),
    "ls_fit_calibration_seconds": (c_double, [c_void_p]),
    "ls_fit_write_json": (c_int, [c_void_p, c_void_p, c_char_p, c_char_p, _err]),
    "ls_fit_nat_cov": (c_double_p, [c_void_p]),
    "ls_fit_ceiling_estimated": (c_int, [c_void_p, c_size_t]),
    "ls_fit_nnat": (c_size_t, [c_void_p]),
    # likelihood access
    "ls_model_new": (c_int, [c_void_p, c_size_t, c_char_p, c_int, c_uint, c_uint, _vpp, _err]),
    "ls_model_free": (None, [c_void_p]),
    "ls_model_dim": (c_size_t, [c_void_p]),
    "ls_model_nodes": (c_size_t, [c_void_p]),
    "ls_model_pack": (c_int, [c_void_p, _P(LsParams), c_double_p, _err]),
    "ls_model_unpack": (c_int, [c_void_p, c_double_p, _P(LsParams)]),
    "ls_model_loglik": (c_int, [c_void_p, c_double_p, c_double_p, c_double_p, c_double_p, _err]),
    # simulation
    "ls_sim_options_init": (None, [_P(LsSimOptions)]),
    "ls_simulate": (c_int, [_P(LsSimOptions), _vpp, _P(LsParams), _P(c_double_p), _err]),
    "ls_params_write_json": (c_int, [_P(LsParams), c_void_p, c_double_p, c_char_p, c_char_p, _err]),
    # fit files
    "ls_fit_load": (c_int, [c_char_p, c_void_p, c_uint, _vpp, _vpp, _err]),
    "ls_fit_summary_read": (c_int, [c_char_p, _vpp, _err]),
    "ls_fit_summarise": (c_int, [c_void_p, c_void_p, _vpp, _err]),
    "ls_fit_summary_free": (None, [c_void_p]),
    "ls_fit_nat_layout": (None, [c_void_p, c_size_t_p]),
    "ls_fit_seed": (c_uint64, [c_void_p]),
    "ls_fit_calibrate": (c_int, [c_void_p, c_void_p, c_void_p, _P(LsDataOptions), _P(LsPredictOptions), _err]),
    "ls_fit_calibration": (c_double_p, [c_void_p, c_size_t_p, c_size_t_p, c_size_t_p]),
    "ls_fit_calibrated_level": (c_double, [c_void_p, c_double]),
    "ls_fit_calibrated_level_at": (c_double, [c_void_p, c_size_t, c_double]),
    "ls_fit_family_effect_test": (c_int, [c_void_p, c_double_p, c_double_p, c_double_p]),
    # tasks (each returns an ls_result)
    "ls_posterior_options_init": (None, [_P(LsPosteriorOptions)]),
    "ls_posterior_options_check": (c_int, [_P(LsPosteriorOptions), _err]),
    "ls_posterior_run": (c_int, [c_void_p, c_void_p, c_size_t, _P(LsPosteriorOptions), _vpp, _err]),
    "ls_predict_options_init": (None, [_P(LsPredictOptions)]),
    "ls_predict_options_check": (c_int, [_P(LsPredictOptions), _err]),
    "ls_predict": (c_int, [c_void_p, c_void_p, c_void_p, _P(LsPredictOptions), _vpp, _err]),
    "ls_mae": (c_int, [c_double_p, c_double_p, c_size_t, c_size_t, c_double_p, c_double_p,
                       c_size_t_p, _err]),
    "ls_evaluate": (c_int, [c_void_p, _P(LsDataOptions), c_void_p, _P(LsFitOptions),
                            _P(LsPredictOptions), _vpp, _err]),
    "ls_evaluate_select": (c_int, [c_void_p, _P(LsDataOptions), c_void_p, _P(LsFitOptions),
                                   _P(LsPredictOptions), c_size_t, c_size_t, c_int, _vpp, _err]),
    "ls_evaluation_fit": (c_void_p, [c_void_p, _vpp]),
    "ls_select": (c_int, [c_void_p, _P(LsDataOptions), _P(LsFitOptions), c_size_t, c_size_t,
                          c_uint, _vpp, _err]),
    "ls_select_journal": (c_int, [c_void_p, _P(LsDataOptions), _P(LsFitOptions), c_size_t,
                                  c_size_t, c_uint, c_char_p, _vpp, _err]),
    "ls_select_configure": (c_int, [c_void_p, _P(LsDataOptions), _P(LsFitOptions), c_size_t,
                                    c_size_t, c_uint, c_char_p, c_int, _vpp, _err]),
    "ls_selection_read": (c_int, [c_char_p, _vpp, _err]),
    "ls_optimal_options_init": (None, [_P(LsOptimalOptions)]),
    "ls_optimal_options_check": (c_int, [_P(LsOptimalOptions), _err]),
    "ls_optimal": (c_int, [c_void_p, _P(LsOptimalOptions), _vpp, _err]),
    "ls_compare": (c_int, [c_void_p, c_void_p, c_size_t, c_size_t, _P(LsPredictOptions), _vpp, _err]),
    "ls_fit_options_check": (c_int, [_P(LsFitOptions), _err]),
}

# The factor and partial credit families (results are ls_result handles,
# read by result_entries; data are opaque handles).
PSYCHOMETRIC_PROTOTYPES = {
    "ls_items_table_read": (c_int, [c_char_p, _vpp, _err]),
    # generalized latent factor models
    "ls_factor_options_init": (None, [_P(LsFactorOptions)]),
    "ls_factor_options_check": (c_int, [_P(LsFactorOptions), _err]),
    "ls_factor_data_build": (c_int, [c_void_p, c_char_p, c_char_p, c_double, c_int, _vpp, _err]),
    "ls_factor_data_build_long": (c_int, [c_void_p, c_char_p, c_char_p, c_double, c_int, _vpp, _err]),
    "ls_factor_data_new": (c_int, [c_size_t, c_size_t, c_size_t, c_double_p, c_double_p, c_char_pp,
                                   c_char_pp, _vpp, _err]),
    "ls_factor_data_free": (None, [c_void_p]),
    "ls_factor_data_npersons": (c_size_t, [c_void_p]),
    "ls_factor_data_nitems": (c_size_t, [c_void_p]),
    "ls_factor_data_ncovariates": (c_size_t, [c_void_p]),
    "ls_factor_data_item": (c_char_p, [c_void_p, c_size_t]),
    "ls_factor_data_covariate": (c_char_p, [c_void_p, c_size_t]),
    "ls_factor_data_source": (c_char_p, [c_void_p]),
    "ls_factor_data_anchors": (c_int, [c_void_p, c_char_p, c_size_t, c_size_t_p, _err]),
    "ls_factor_run": (c_int, [c_void_p, _P(LsFactorOptions), _vpp, _err]),
    "ls_factor_dif_check": (c_int, [c_double, c_int, c_void_p, _P(LsFactorOptions), _err]),
    "ls_factor_dif_run": (c_int, [c_void_p, c_double, c_int, _vpp, _err]),
    "ls_factor_select": (c_int, [c_void_p, _P(LsFactorOptions), c_size_t, c_size_t, _vpp, _err]),
    "ls_factor_write_json": (c_int, [c_void_p, c_void_p, c_void_p, c_char_p, c_char_p, _err]),
    "ls_factor_family_name": (c_char_p, [c_int]),
    "ls_factor_identify_name": (c_char_p, [c_int]),
    # generalized partial credit model
    "ls_gpcm_options_init": (None, [_P(LsGpcmOptions)]),
    "ls_gpcm_options_check": (c_int, [_P(LsGpcmOptions), _err]),
    "ls_gpcm_data_build": (c_int, [c_void_p, c_char_p, c_double, c_uint, _vpp, _err]),
    "ls_gpcm_data_build_long": (c_int, [c_void_p, c_char_p, c_double, c_uint, _vpp, _err]),
    "ls_gpcm_data_build_cov": (c_int, [c_void_p, c_char_p, c_char_p, c_double, c_uint, _vpp, _err]),
    "ls_gpcm_data_build_long_cov": (c_int, [c_void_p, c_char_p, c_char_p, c_double, c_uint, _vpp, _err]),
    "ls_gpcm_data_ncovariates": (c_size_t, [c_void_p]),
    "ls_gpcm_data_covariate": (c_char_p, [c_void_p, c_size_t]),
    "ls_gpcm_data_new": (c_int, [c_size_t, c_size_t, c_int_p, c_char_pp, c_uint, _vpp, _err]),
    "ls_gpcm_data_free": (None, [c_void_p]),
    "ls_gpcm_data_npersons": (c_size_t, [c_void_p]),
    "ls_gpcm_data_nitems": (c_size_t, [c_void_p]),
    "ls_gpcm_data_item": (c_char_p, [c_void_p, c_size_t]),
    "ls_gpcm_data_categories": (c_uint, [c_void_p, c_size_t]),
    "ls_gpcm_data_lowest": (c_double, [c_void_p]),
    "ls_gpcm_data_source": (c_char_p, [c_void_p]),
    "ls_gpcm_pattern_read": (c_int, [c_char_p, c_void_p, c_size_t_p, _P(c_int_p), _err]),
    "ls_gpcm_pattern_from_table": (c_int, [c_void_p, c_void_p, c_size_t_p, _P(c_int_p), _err]),
    "ls_gpcm_pattern_free": (None, [c_int_p]),
    "ls_gpcm_run": (c_int, [c_void_p, c_int_p, _P(LsGpcmOptions), _vpp, _err]),
}
PROTOTYPES.update(PSYCHOMETRIC_PROTOTYPES)

# Declared when the library has them (newer additions; see has()).
OPTIONAL_PROTOTYPES = {
}


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

_LIBNAME = "liblatentscale.so"
_lock = threading.Lock()
_lib = None
_lib_path = None


def _candidates():
    env = os.environ.get("LATENTSCALE_LIB")
    if env:
        yield os.path.join(env, _LIBNAME) if os.path.isdir(env) else env
        return  # an explicit choice is never second-guessed
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, _LIBNAME)
    yield os.path.join(os.path.dirname(here), _LIBNAME)
    yield os.path.join(os.path.dirname(os.path.dirname(here)), "build", _LIBNAME)
    found = ctypes.util.find_library("latentscale")
    if found:
        yield found


def _short_spin():
    """OpenMP's waiting threads spin 300,000 turns (libgomp) before they sleep,
    which on a busy machine competes with the thread they wait for; the
    runtime reads its settings once, when it is loaded, so they are set here,
    before the library (and with it the runtime) is loaded, unless the user
    chose a wait policy (the command line does the same; README,
    Benchmarks).  A runtime already loaded by another module keeps its own."""
    if not any(k in os.environ for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")):
        os.environ["GOMP_SPINCOUNT"] = "3000"
        os.environ["KMP_BLOCKTIME"] = "1"


def load_library(path=None):
    """Load liblatentscale (once) and declare its prototypes; returns the CDLL.

    ``path`` overrides the search (see the module docstring).  Raises
    LibraryNotFoundError naming every place tried.
    """
    global _lib, _lib_path
    with _lock:
        if _lib is not None and path is None:
            return _lib
        _short_spin()
        tried = []
        for cand in ([path] if path else _candidates()):
            if os.sep in cand and not os.path.exists(cand):
                tried.append(cand + " (absent)")
                continue
            try:
                lib = ctypes.CDLL(cand)
            except OSError as e:
                tried.append("%s (%s)" % (cand, e))
                continue
            if not hasattr(lib, "ls_version"):
                tried.append("%s (no ls_version: not liblatentscale)" % cand)
                continue
            lib.ls_version.restype = c_char_p
            lib.ls_version.argtypes = []
            version = lib.ls_version().decode()
            if version != HEADER_VERSION:
                tried.append("%s (version %s; this binding mirrors %s)" % (cand, version, HEADER_VERSION))
                continue
            missing = [n for n in PROTOTYPES if not hasattr(lib, n)]
            if missing:
                tried.append("%s (lacks %s)" % (cand, ", ".join(missing[:3])))
                continue
            for name, (res, args) in PROTOTYPES.items():
                fn = getattr(lib, name)
                fn.restype = res
                fn.argtypes = args
            for name, (res, args) in OPTIONAL_PROTOTYPES.items():
                if hasattr(lib, name):
                    fn = getattr(lib, name)
                    fn.restype = res
                    fn.argtypes = args
            _lib, _lib_path = lib, cand
            return lib
        raise LibraryNotFoundError(
            "cannot load liblatentscale: set LATENTSCALE_LIB to the .so (or its folder); tried "
            + "; ".join(tried or ["nothing"]))


def lib():
    return _lib if _lib is not None else load_library()


def has(name):
    """Whether the loaded library has the (optional) function `name`."""
    return hasattr(lib(), name)


def library_path():
    """Path of the loaded library (loading it if needed)."""
    lib()
    return _lib_path


# ---------------------------------------------------------------------------
# Calling helpers
# ---------------------------------------------------------------------------

def result_entries(handle):
    """The entries of an ls_result handle, in order, as a dict name ->
    (kind, value, rows_label, cols_label): kind "numbers" with value
    (flat list of floats, rows, cols), or "strings" with a list of str."""
    L = lib()
    out = {}
    for i in range(L.ls_result_nentries(handle)):
        name = L.ls_result_entry(handle, i)
        t = L.ls_result_type(handle, name)
        rl, cl = dec(L.ls_result_row_labels(handle, name)), dec(L.ls_result_col_labels(handle, name))
        if t == 1:
            r, c = c_size_t(0), c_size_t(0)
            ptr = L.ls_result_numbers(handle, name, byref(r), byref(c))
            n = r.value * c.value
            vals = list(ptr[:n]) if n else []
            out[dec(name)] = ("numbers", (vals, r.value, c.value), rl, cl)
        elif t == 2:
            out[dec(name)] = ("strings", [dec(L.ls_result_string(handle, name, k))
                                          for k in range(L.ls_result_nstrings(handle, name))], rl, cl)
    return out


def result_warnings(handle):
    L = lib()
    return [dec(L.ls_result_warning(handle, i)) for i in range(L.ls_result_nwarnings(handle))]


def new_error():
    return LsError(0, b"")


def check(rc, err):
    """Raise the exception for a non-zero status, with the C message."""
    if rc != LS_OK:
        msg = err.message.decode("utf-8", "replace") or "latentscale call failed"
        name = lib().ls_status_name(rc)
        raise error_for(rc, msg, name.decode() if name else None)


def enc(s):
    """str / PathLike -> bytes for a const char * (None stays None)."""
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    if isinstance(s, os.PathLike):
        return os.fsencode(s)
    return str(s).encode("utf-8")


def dec(b):
    return None if b is None else b.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# HTML report (ls_report_write; optional: declared when the library has it)
# ---------------------------------------------------------------------------

class LsReportOptions(Structure):
    _fields_ = [("families", c_char_p), ("top", c_size_t), ("compare", c_char_p),
                ("select_path", c_char_p), ("title", c_char_p), ("level", c_double),
                ("grid", c_size_t), ("param_draws", c_size_t), ("latent_draws", c_size_t),
                ("optimal_draws", c_size_t), ("seed", c_uint64), ("threads", c_uint),
                ("fit_name", c_char_p), ("argv_json", c_char_p), ("param_cov", c_char_p)]


OPTIONAL_PROTOTYPES["ls_report_options_init"] = (None, [_P(LsReportOptions)])
OPTIONAL_PROTOTYPES["ls_report_write"] = (c_int, [c_void_p, c_void_p, _P(LsReportOptions), c_char_p,
                                                  _err])
