# Generalized latent factor models (ls_factor) and the multidimensional
# generalized partial credit model (ls_gpcm).

.factor_options <- c("response", "anchors", "covariate_condition", "dichotomise", "alpha", "correction", "starts",
                     "seed", "threads", "bound", "tol", "max_iter", "ridge", "scale_correction",
                     "loading_bootstrap", "se", "method", "nodes", "equal_loadings", "long")

ls_factor <- function(data, items = NULL, covariates = NULL, factors = 1, identify = "orthogonal", dif = FALSE, ...) {
  call <- match.call()
  if ("family" %in% names(list(...)))
    .ls_stop("ls_factor: the option family is now response (the response distribution)", call = NULL)
  o <- .ls_dots(list(...), .factor_options, "ls_factor")
  tmp <- .ls_tmp()
  on.exit(unlink(tmp$files), add = TRUE)
  path <- .ls_csv(data, tmp)
  opts <- list(factors = factors,
               family = .ls_choice(if (is.null(o$response)) "bernoulli" else o$response,
                                   c("bernoulli", "poisson", "gaussian", "probit"), "response"),
               identify = .ls_choice(identify, c("orthogonal", "triangular", "anchor", "anchor-identity",
                                                 "equal-diagonal"), "identify"),
               covariate_condition = .ls_choice(if (is.null(o$covariate_condition)) "min-l1" else o$covariate_condition,
                                                c("min-l1", "orthogonal"), "covariate_condition"),
               anchors = .ls_list(o$anchors), dichotomise = o$dichotomise, starts = o$starts, seed = o$seed,
               threads = o$threads, bound = o$bound, tol = o$tol, max_iter = o$max_iter, ridge = .ls_ridge(o$ridge),
               no_scale_correction = if (isFALSE(o$scale_correction)) 1 else 0,
               loading_bootstrap = o$loading_bootstrap, skip_se = if (isFALSE(o$se)) 1 else 0,
               method = .ls_choice(if (is.null(o$method)) "jml" else o$method, c("jml", "mml", "auto"), "method"),
               nodes = o$nodes, equal_loadings = if (isTRUE(o$equal_loadings)) 1 else 0,
               long = .ls_list(o$long))
  difo <- if (isTRUE(dif)) {
    list(alpha = if (is.null(o$alpha)) 0.05 else o$alpha,
         correction = .ls_choice(if (is.null(o$correction)) "bonferroni" else o$correction,
                                 c("bonferroni", "bh"), "correction"))
  }
  r <- .ls_call(C_lsr_factor, path, .ls_list(items), .ls_list(covariates), opts, difo, call = call, tmp = tmp)
  fit <- r$fit
  if (!is.null(r$dif)) fit$dif <- r$dif
  attr(fit, "call") <- call
  .ls_warn(attr(fit, "warnings"))
  fit
}

# ridge: a number >= 0, or "auto" (-1 to the library: chosen by 5-fold
# cross-validation over held-out responses; the fit's ridge_cv_* entries).
.ls_ridge <- function(ridge) {
  if (is.character(ridge)) {
    if (!identical(ridge, "auto"))
      .ls_stop(sprintf("ridge: expected a number >= 0 or 'auto', got '%s'", paste(ridge, collapse = ",")), call = NULL)
    return(-1)
  }
  ridge
}

print.ls_factor_fit <- function(x, ...) {
  cat(sprintf("generalized latent factor model (%s, %s): %d factor%s, %d items, %d persons\n", x$family,
              x$identify, length(x$factors), if (length(x$factors) == 1L) "" else "s", length(x$items),
              as.integer(x$n_persons)))
  if (identical(x$method, "mml")) {
    cat(sprintf("marginal ML: log-likelihood %.4f, AIC %.2f, BIC %.2f, %s\n", x$loglik, x$aic, x$bic,
                if (x$converged != 0) "converged" else "NOT converged"))
    if (!is.null(x$lr_dif))
      cat(sprintf("likelihood-ratio test of no DIF: LR %.2f on %d df, p %.3g\n", x$lr_dif,
                  as.integer(x$lr_dif_df), x$lr_dif_p))
  } else
    cat(sprintf("log-likelihood %.4f, JIC %.2f, %s\n", x$loglik, x$jic,
                if (x$converged != 0) "converged" else "NOT converged"))
  if (!is.null(x$ridge_cv_grid))
    cat(sprintf("ridge chosen by %d-fold CV over held-out responses: %.3g (grid %.3g..%.3g, %d values)\n",
                as.integer(x$ridge_cv_folds), x$ridge, min(x$ridge_cv_grid), max(x$ridge_cv_grid),
                length(x$ridge_cv_grid)))
  if (!is.null(x$method_reason)) cat(sprintf("method auto: %s\n", x$method_reason))
  cat("\nloadings:\n")
  print(round(x$loadings, 3))
  w <- attr(x, "warnings")
  if (length(w)) cat(paste0("warning: ", w, "\n"), sep = "")
  invisible(x)
}

summary.ls_factor_fit <- function(object, ...) {
  print(object)
  if (!is.null(object$se_loadings)) {
    cat("\nstandard errors of the loadings:\n")
    print(round(object$se_loadings, 3))
  }
  cat("\nintercepts and covariate effects (beta):\n")
  print(round(object$beta, 3))
  cat("\nfactor correlations:\n")
  print(round(object$factor_cor, 3))
  if (!is.null(object$dif)) {
    cat(sprintf("\nDIF tests (%s, alpha %g), flagged items per covariate:\n", object$dif$correction, object$dif$alpha))
    print(colSums(object$dif$flag))
  }
  invisible(object)
}

.gpcm_options <- c("exploratory", "method", "lowest", "categories", "starts", "seed", "threads", "tol",
                   "max_iter", "nodes", "gtol", "se", "long", "covariate_mode", "covariate_condition", "alpha",
                   "correction", "dif_lr")

ls_gpcm <- function(data, items, factors = 1, pattern = NULL, covariates = NULL, ...) {
  call <- match.call()
  o <- .ls_dots(list(...), .gpcm_options, "ls_gpcm")
  tmp <- .ls_tmp()
  on.exit(unlink(tmp$files), add = TRUE)
  path <- .ls_csv(data, tmp)
  if (!is.null(pattern)) {
    if (is.matrix(pattern) && (is.numeric(pattern) || is.logical(pattern))) {
      pattern <- matrix(as.integer(pattern), nrow(pattern), ncol(pattern))
      if (missing(factors)) factors <- ncol(pattern)
    } else {
      pattern <- .ls_csv(pattern, tmp, arg = "pattern")
    }
    if (isTRUE(o$exploratory)) .ls_stop("pattern and exploratory = TRUE exclude each other", call = call)
  }
  opts <- list(factors = factors, exploratory = if (isTRUE(o$exploratory)) 1 else 0,
               method = .ls_choice(if (is.null(o$method)) "gvem" else o$method, c("gvem", "mml"), "method"),
               lowest = o$lowest, categories = o$categories, starts = o$starts, seed = o$seed,
               threads = o$threads, tol = o$tol, max_iter = o$max_iter, nodes = o$nodes, gtol = o$gtol,
               skip_se = if (isFALSE(o$se)) 1 else 0, long = .ls_list(o$long),
               covariates = .ls_list(covariates),
               covariate_mode = .ls_choice(if (is.null(o$covariate_mode)) "dif" else o$covariate_mode,
                                           c("dif", "latent-regression"), "covariate_mode"),
               covariate_condition = .ls_choice(if (is.null(o$covariate_condition)) "min-l1" else o$covariate_condition,
                                                c("min-l1", "orthogonal"), "covariate_condition"),
               alpha = o$alpha,
               correction = .ls_choice(if (is.null(o$correction)) "bonferroni" else o$correction,
                                       c("bonferroni", "bh"), "correction"),
               dif_lr = if (isTRUE(o$dif_lr)) 1 else 0)
  if (!is.null(o$long) && !missing(items) && !is.null(items))
    .ls_stop("items and long: give one (wide or long table)", call = call)
  items <- if (missing(items) || is.null(items)) NULL else .ls_list(items)
  fit <- .ls_call(C_lsr_gpcm, path, items, pattern, opts, call = call, tmp = tmp)
  attr(fit, "call") <- call
  .ls_warn(attr(fit, "warnings"))
  fit
}

print.ls_gpcm_fit <- function(x, ...) {
  cat(sprintf("generalized partial credit model (%s, %s): %d factor%s, %d items, %d persons\n", x$method,
              if (x$exploratory != 0) "exploratory" else "confirmatory", length(x$factors),
              if (length(x$factors) == 1L) "" else "s", length(x$items), as.integer(x$n_persons)))
  cat(sprintf("ELBO %.4f, marginal log-likelihood %.4f, BIC %.2f, %s\n", x$elbo, x$loglik, x$bic,
              if (x$converged != 0) "converged" else "NOT converged"))
  cat("\nslopes:\n")
  print(round(x$slopes, 3))
  w <- attr(x, "warnings")
  if (length(w)) cat(paste0("warning: ", w, "\n"), sep = "")
  invisible(x)
}

summary.ls_gpcm_fit <- function(object, ...) {
  print(object)
  se <- if (object$exploratory != 0) object$se_slopes_rotated else object$se_slopes
  if (!is.null(se)) {
    cat("\nstandard errors of the slopes:\n")
    print(round(se, 3))
  }
  cat("\nstep parameters (cumulative):\n")
  print(round(object$steps, 3))
  cat("\nfactor correlations:\n")
  print(round(object$factor_cor, 3))
  invisible(object)
}
