# The latent-variable scaling law: ls_fit, predict, print, summary.

.fit_options <- c("covariates", "anchors", "integration", "nodes", "threads", "gtol", "max_iter", "se",
                  "precision_covariates", "logit_clamp", "estimate_ceilings", "ceilings", "clip",
                  "model_column", "family_column", "calibrate", "family_effect")

ls_fit <- function(leaderboard, skills, benchmarks = NULL, floors = NULL, starts = 8, seed = 1, ...) {
  call <- match.call()
  o <- .ls_dots(list(...), .fit_options, "ls_fit")
  tmp <- .ls_tmp()
  on.exit(unlink(tmp$files), add = TRUE)
  path <- .ls_csv(leaderboard, tmp, arg = "leaderboard")
  dopts <- list(benchmarks = .ls_list(benchmarks), covariates = .ls_list(o$covariates),
                clip = o$clip, model_column = o$model_column, family_column = o$family_column)
  if (!is.null(floors)) {
    if (is.numeric(floors)) {
      if (is.null(names(floors))) .ls_stop("floors: a numeric vector needs benchmark names", call = NULL)
      dopts$floors <- paste0(names(floors), "=", format(floors, digits = 17), collapse = ",")
    } else {
      dopts$floors_file <- .ls_csv(floors, tmp, arg = "floors")
    }
  }
  if (!is.null(o$ceilings)) {
    if (is.numeric(o$ceilings)) {
      dopts$ceilings <- paste0(names(o$ceilings), "=", format(o$ceilings, digits = 17), collapse = ",")
    } else {
      dopts$ceilings_file <- .ls_csv(o$ceilings, tmp, arg = "ceilings")
    }
  }
  fopts <- list(skills = skills, anchors = .ls_list(o$anchors), starts = starts, seed = seed,
                integration = if (is.null(o$integration)) NULL
                              else .ls_choice(o$integration, c("auto", "laplace", "gh", "qmc", "sparse"), "integration"),
                nodes = o$nodes, threads = o$threads, gtol = o$gtol, max_iter = o$max_iter,
                skip_se = if (isFALSE(o$se)) 1 else 0,
                precision_covariates = if (isTRUE(o$precision_covariates)) 1 else 0,
                logit_clamp = o$logit_clamp, estimate_ceilings = .ls_list(o$estimate_ceilings),
                calibrate = if (is.null(o$calibrate)) NULL else if (isTRUE(o$calibrate)) 1 else 0,
                family_effect = if (isTRUE(o$family_effect)) 1 else 0)
  ptr <- .ls_call(C_lsr_fit, path, dopts, fopts, call = call, tmp = tmp)
  info <- .Call(C_lsr_fit_info, ptr)
  fit <- .fit_object(info, ptr, call)
  if (is.data.frame(leaderboard)) fit$source <- deparse(call$leaderboard)
  .ls_warn(fit$warnings)
  fit
}

# The estimates (natural scale) as matrices and vectors with dimnames.
.fit_blocks <- function(v, info, skills) {
  o <- info$offsets
  block <- function(k) if (o[k + 2L] > o[k + 1L]) v[(o[k + 1L] + 1L):o[k + 2L]] else NULL
  K <- info$K; J <- info$J; p <- info$p
  bn <- info$benchmarks
  out <- list(
    beta = matrix(block(0L), p, K, byrow = TRUE, dimnames = list(info$covariates, skills)),
    lambda = matrix(block(1L), K, J, byrow = TRUE, dimnames = list(skills, bn)),
    b = stats::setNames(block(2L), bn),
    phi = stats::setNames(block(3L), bn),
    sigma = matrix(block(4L), K, K, byrow = TRUE, dimnames = list(skills, skills)))
  g <- block(5L)
  if (!is.null(g)) out$gamma <- stats::setNames(g, info$covariates)
  d <- block(6L)
  if (!is.null(d)) out$ceiling <- stats::setNames(d, bn)
  u <- block(7L)
  if (!is.null(u)) out$tau <- stats::setNames(u, bn)
  out
}

.fit_object <- function(info, ptr, call) {
  skills <- info$benchmarks[info$anchors + 1L]
  est <- .fit_blocks(info$estimates, info, skills)
  structure(c(list(call = call, loglik = info$loglik, aic = info$aic, bic = info$bic,
                   n_params = info$nparams, converged = info$converged > 0, criterion = info$criterion,
                   gradnorm = info$gradnorm, hessian_definite = info$hessian_definite,
                   iterations = info$iterations, seed = info$seed,
                   starts_at_best = info$starts_at_best, integration = info$integration,
                   skills = skills, benchmarks = info$benchmarks, covariates = info$covariates,
                   families = info$families, models = info$models,
                   floors = stats::setNames(info$floors, info$benchmarks),
                   ceilings = stats::setNames(info$ceilings_data, info$benchmarks),
                   n_observed = info$n_observed, n_clipped = info$n_clipped, source = info$source),
              est,
              list(se = if (!is.null(info$se)) .fit_blocks(info$se, info, skills),
                   se_sandwich = if (!is.null(info$se_sandwich)) .fit_blocks(info$se_sandwich, info, skills),
                   warnings = info$warnings, calibration = info$calibration, ptr = ptr)),
            class = "ls_fit")
}

coef.ls_fit <- function(object, ...) object[c("beta", "lambda", "b", "phi", "sigma")]

logLik.ls_fit <- function(object, ...) {
  structure(object$loglik, df = object$n_params, nobs = length(object$families), class = "logLik")
}

print.ls_fit <- function(x, ...) {
  cat(sprintf("latent-variable scaling law: K = %d skills (%s), %d benchmarks, %d models in %d families\n",
              length(x$skills), paste(x$skills, collapse = ", "), length(x$benchmarks), length(x$models),
              length(x$families)))
  cat(sprintf("log-likelihood %.4f, AIC %.2f, BIC %.2f, %d parameters, %s\n", x$loglik, x$aic, x$bic,
              as.integer(x$n_params), if (x$converged) "converged" else "NOT converged"))
  cat("\nloadings (lambda):\n")
  print(round(x$lambda, 3))
  if (length(x$warnings)) cat(paste0("warning: ", x$warnings, "\n"), sep = "")
  invisible(x)
}

summary.ls_fit <- function(object, ...) {
  tab <- function(name) {
    est <- object[[name]]
    se <- if (!is.null(object$se)) object$se[[name]] else NA * est
    if (is.matrix(est)) {
      rn <- rep(rownames(est), times = ncol(est))
      cn <- rep(colnames(est), each = nrow(est))
      lab <- paste0(name, "[", rn, ", ", cn, "]")
    } else {
      lab <- paste0(name, "[", names(est), "]")
    }
    data.frame(parameter = lab, estimate = as.vector(est), se = as.vector(se), stringsAsFactors = FALSE)
  }
  coefs <- do.call(rbind, lapply(c("beta", "lambda", "b", "phi"), tab))
  structure(list(fit = object, coefficients = coefs), class = "summary.ls_fit")
}

print.summary.ls_fit <- function(x, ...) {
  print(x$fit)
  cat("\ncoefficients (standard errors from the inverse observed information):\n")
  print(x$coefficients, row.names = FALSE, digits = 4)
  cat("\nskill correlations (sigma):\n")
  print(round(x$fit$sigma, 3))
  invisible(x)
}

predict.ls_fit <- function(object, newdata, level = 0.9, ...) {
  o <- .ls_dots(list(...), c("param_draws", "latent_draws", "seed", "threads", "param_cov",
                             "ceiling_uncertainty"), "predict")
  tmp <- .ls_tmp()
  on.exit(unlink(tmp$files), add = TRUE)
  path <- .ls_csv(newdata, tmp, arg = "newdata")
  popts <- list(level = level, param_draws = o$param_draws, latent_draws = o$latent_draws, seed = o$seed,
                threads = o$threads, param_cov = o$param_cov,
                ceiling_uncertainty = if (is.null(o$ceiling_uncertainty)) NULL else as.numeric(isTRUE(o$ceiling_uncertainty)))
  r <- .ls_call(C_lsr_predict, object$ptr, path, popts, call = match.call(), tmp = tmp)
  .ls_warn(attr(r, "warnings"))
  n <- length(r$models)
  J <- length(r$benchmarks)
  long <- function(m) as.vector(t(m))
  out <- data.frame(model = rep(r$models, each = J), family = rep(r$families, each = J),
                    benchmark = rep(r$benchmarks, times = n),
                    mean = long(r$mean), median = long(r$median), lower = long(r$lower), upper = long(r$upper),
                    stringsAsFactors = FALSE)
  attr(out, "result") <- r
  out
}
