test_that("a factor fit on bfi matches the command line's", {
  skip_if_not_installed("jsonlite")
  bfi <- data_file("bfi.csv")
  dir <- tempfile("lsfactor")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  out <- file.path(dir, "f.json")
  # With the ridge the fit is well posed and converges in a second.  Plain
  # joint ML (no ridge) does not converge on these 10 binary items (23
  # coefficients at the bound after 500 sweeps, 50 s) and its end point then
  # depends on rounding: inside R, R's libblas.so.3 interposes its cblas_dgemm
  # over GSL's libgslcblas, which moves that end point.
  j <- run_cli(dir, c("factor", bfi, "--items", "A*,C*", "--dichotomise", "4", "--factors", "2",
                      "--ridge", "10", "--threads", "2", "--out", out), "f.json")
  f <- ls_factor(bfi, items = c("A*", "C*"), factors = 2, dichotomise = 4, ridge = 10, threads = 2)
  expect_s3_class(f, "ls_factor_fit")
  expect_equal(f$loglik, j$loglik, tolerance = tol)
  expect_equal(unname(f$loadings), unname(j$parameters$loadings), tolerance = tol)
  expect_equal(dimnames(f$loadings), list(j$data$items, c("factor1", "factor2")))
  expect_equal(f$converged, 1)
  expect_output(print(f), "loadings")
})

test_that("ridge = \"auto\" chooses the ridge as the command line does", {
  skip_if_not_installed("jsonlite")
  bfi <- data_file("bfi.csv")
  dir <- tempfile("lsridge")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  out <- file.path(dir, "f.json")
  j <- run_cli(dir, c("factor", bfi, "--items", "A*", "--dichotomise", "4", "--ridge", "auto", "--no-se",
                      "--starts", "1", "--threads", "2", "--out", out), "f.json")
  f <- ls_factor(bfi, items = "A*", dichotomise = 4, ridge = "auto", se = FALSE, starts = 1, threads = 2)
  expect_equal(f$ridge, j$options$ridge_cv$chosen)
  expect_equal(unname(f$ridge_cv_grid), j$options$ridge_cv$grid)
  expect_equal(unname(f$ridge_cv_score), j$options$ridge_cv$score, tolerance = tol)
  expect_equal(f$ridge, unname(f$ridge_cv_grid[f$ridge_cv_best + 1]))
  expect_output(print(f), "ridge chosen by 5-fold CV")
  expect_error(ls_factor(bfi, items = "A*", dichotomise = 4, ridge = "fast"), "ridge: expected a number >= 0 or 'auto'")
})

test_that("a partial credit fit on bfi matches the command line's", {
  skip_if_not_installed("jsonlite")
  bfi <- data_file("bfi.csv")
  dir <- tempfile("lsgpcm")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  out <- file.path(dir, "g.json")
  j <- run_cli(dir, c("gpcm", bfi, "--items", "A*", "--factors", "1", "--threads", "2", "--out", out), "g.json")
  g <- ls_gpcm(bfi, items = "A*", factors = 1, threads = 2)
  expect_s3_class(g, "ls_gpcm_fit")
  expect_equal(unname(g$slopes), unname(j$slopes), tolerance = tol)
  expect_equal(g$loglik, j$loglik, tolerance = tol)
  expect_equal(rownames(g$slopes), j$data$items)
  expect_output(summary(g), "slopes")

  # the same one-factor model from a loading pattern: a data frame (a CSV
  # with an item column, read by ls_gpcm_pattern_read) and a matrix
  pat <- data.frame(item = rev(j$data$items), f1 = 1)
  g2 <- ls_gpcm(bfi, items = "A*", pattern = pat, threads = 2, se = FALSE)
  expect_equal(g2$slopes, g$slopes, tolerance = tol)
  g3 <- ls_gpcm(bfi, items = "A*", pattern = matrix(1L, 5, 1), threads = 2, se = FALSE)
  expect_equal(g3$slopes, g$slopes, tolerance = tol)
  expect_error(ls_gpcm(bfi, items = "A*", pattern = matrix(1L, 4, 1), threads = 2), "pattern")
})

test_that("a partial credit fit with covariates matches the command line's", {
  skip_if_not_installed("jsonlite")
  bfi <- data_file("bfi_psych.csv")
  dir <- tempfile("lsgpcmx")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  out <- file.path(dir, "g.json")
  j <- run_cli(dir, c("gpcm", bfi, "--items", "A*", "--covariates", "gender", "--method", "mml",
                      "--threads", "2", "--out", out), "g.json")
  g <- ls_gpcm(bfi, items = "A*", covariates = "gender", method = "mml", threads = 2)
  expect_equal(g$loglik, j$loglik, tolerance = tol)
  # the optimiser ends within its tolerance of the CLI's point (R's BLAS may differ in the last bits)
  expect_equal(as.vector(g$dif_effect), as.vector(unlist(j$covariates$effect)), tolerance = 1e-6)
  expect_equal(sum(g$dif_fixed), 1)
  expect_error(ls_gpcm(bfi, items = "A*", covariates = "gender"), "method mml")
})

test_that("results convert with labels: named vectors, matrices with dimnames, DIF tests", {
  bfi <- data_file("bfi.csv")
  df <- read.csv(bfi, check.names = FALSE)
  set.seed(1)
  df$x <- rnorm(nrow(df))
  f <- ls_factor(df, items = "A*", covariates = "x", dichotomise = 4, dif = TRUE, ridge = 5, threads = 2)
  expect_s3_class(f, "ls_result")
  expect_equal(attr(f, "kind"), "factor-fit")
  expect_equal(names(f$dispersion), paste0("A", 1:5))
  expect_equal(dimnames(f$beta), list(paste0("A", 1:5), c("(intercept)", "x")))
  expect_length(f$loglik, 1)
  expect_s3_class(f$dif, "ls_factor_dif")
  expect_equal(dimnames(f$dif$p_value), list(paste0("A", 1:5), "x"))
  expect_equal(f$dif$effect, f$beta[, "x", drop = FALSE], tolerance = tol)
  expect_output(summary(f), "DIF tests")
  expect_error(ls_factor(df, items = "A*", covariates = "nope"), "<data>")
})

test_that("psychometric inputs are checked", {
  df <- data.frame(a = c(0, 1, 1, 0), b = c(1, 1, 0, 0))
  expect_error(ls_factor(df, items = "z*"), class = "latentscale_error")
  expect_error(ls_gpcm(df, items = "a,b", factors = 2), "pattern")
  expect_error(ls_factor(df, items = "a", identify = "sideways"), "identify")
})

test_that("marginal ML: method = 'mml' matches the command line, auto says why", {
  skip_if_not_installed("jsonlite")
  bfi <- data_file("bfi.csv")
  dir <- tempfile("lsmml")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  out <- file.path(dir, "m.json")
  j <- run_cli(dir, c("factor", bfi, "--items", "N*", "--dichotomise", "4", "--method", "mml",
                      "--threads", "2", "--out", out), "m.json")
  f <- ls_factor(bfi, items = "N*", dichotomise = 4, method = "mml", threads = 2)
  expect_equal(f$method, "mml")
  expect_equal(f$loglik, j$loglik, tolerance = tol)
  expect_equal(unname(f$loadings), unname(j$parameters$loadings), tolerance = tol)
  expect_equal(f$aic, j$aic, tolerance = tol)
  expect_output(print(f), "marginal ML")
  a <- ls_factor(bfi, items = "N*", dichotomise = 4, method = "auto", threads = 2, se = FALSE)
  expect_equal(a$method, "mml")
  expect_match(a$method_reason, "short test")
  expect_error(ls_factor(bfi, items = "N*", dichotomise = 4, method = "mml", ridge = 5), "ridge")
  expect_error(ls_factor(bfi, items = "N*", method = "bayes"), "method")
})

test_that("a long table (one row per response) gives the wide table's fit", {
  bfi <- data_file("bfi.csv")
  df <- read.csv(bfi, check.names = FALSE)[1:600, c("N1", "N2", "N3", "N4", "N5")]
  long <- do.call(rbind, lapply(names(df), function(it)
    data.frame(person = seq_len(nrow(df)), item = it, y = df[[it]])))
  long <- long[order(long$person), ]
  w <- ls_factor(df, items = "N*", dichotomise = 4, method = "mml", threads = 2, se = FALSE)
  l <- ls_factor(long, long = c("person", "item", "y"), dichotomise = 4, method = "mml", threads = 2, se = FALSE)
  expect_equal(l$loglik, w$loglik, tolerance = 1e-10)
  expect_equal(unname(l$loadings), unname(w$loadings), tolerance = 1e-10)
})

test_that("ls_gpcm reads a long table (one row per response) like the wide one", {
  bfi <- data_file("bfi.csv")
  df <- read.csv(bfi, check.names = FALSE)[1:600, c("N1", "N2", "N3", "N4", "N5")]
  long <- do.call(rbind, lapply(names(df), function(it)
    data.frame(person = seq_len(nrow(df)), item = it, y = df[[it]])))
  long <- long[order(long$person), ]
  w <- ls_gpcm(df, items = "N*", threads = 2, se = FALSE, starts = 1)
  l <- ls_gpcm(long, long = c("person", "item", "y"), threads = 2, se = FALSE, starts = 1)
  expect_equal(l$elbo, w$elbo, tolerance = 1e-10)
  expect_equal(unname(l$slopes), unname(w$slopes), tolerance = 1e-10)
  expect_error(ls_gpcm(long, items = "N*", long = c("person", "item", "y")), "items and long")
})
