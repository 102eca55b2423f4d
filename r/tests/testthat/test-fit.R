test_that("a scaling-law fit matches the command line's, field by field", {
  skip_if_not_installed("jsonlite")
  dir <- tempfile("lsfit")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  sim <- file.path(dir, "sim.csv")
  fl <- file.path(dir, "fl.csv")
  out <- file.path(dir, "fit.json")
  system2(cli(), c("simulate", "--n-families", "40", "--skills", "2", "--seed", "3", "--out", sim,
                   "--floors-out", fl), stdout = FALSE, stderr = FALSE)
  j <- run_cli(dir, c("fit", sim, "--floors", fl, "--skills", "2", "--starts", "2", "--threads", "2",
                      "--out", out), "fit.json")
  expect_warning(fit <- ls_fit(sim, skills = 2, floors = fl, starts = 2, threads = 2), class = "latentscale_warning")
  expect_equal(j$warnings, fit$warnings)
  expect_s3_class(fit, "ls_fit")
  expect_equal(fit$loglik, j$loglik, tolerance = tol)
  expect_equal(fit$aic, j$aic, tolerance = tol)
  expect_equal(fit$converged, j$converged)
  # the certificate's Hessian half, as the fit file records it
  expect_equal(fit$hessian_definite, j$convergence$hessian == "negative definite")
  expect_equal(fit$benchmarks, j$benchmarks)
  expect_equal(fit$skills, j$skill_names)
  expect_equal(unname(fit$beta), unname(j$parameters$beta), tolerance = tol)
  expect_equal(unname(fit$lambda), unname(j$parameters$lambda), tolerance = tol)
  expect_equal(dimnames(fit$lambda), list(j$skill_names, j$benchmarks))
  expect_equal(rownames(fit$beta), j$covariates)

  # the same from a data frame
  fit2 <- suppressWarnings(ls_fit(read.csv(sim, check.names = FALSE), skills = 2, floors = read.csv(fl),
                                  starts = 2, threads = 2))
  expect_equal(fit2$loglik, fit$loglik, tolerance = tol)

  # predictions: one row per model and benchmark, intervals around the median
  new <- data.frame(model = c("new-1", "new-2"), family = c("fam0001", "brand-new"), size = c(7, 70),
                    tokens = c(2, 15))
  p <- predict(fit, new, level = 0.8, param_draws = 20, latent_draws = 10, threads = 2)
  expect_equal(nrow(p), 2 * length(fit$benchmarks))
  expect_equal(names(p), c("model", "family", "benchmark", "mean", "median", "lower", "upper"))
  expect_true(all(p$lower <= p$median & p$median <= p$upper))
  # far above the data the ceiling is unknown: the interval does not collapse onto 1
  far <- data.frame(model = "far", family = "fam0001", size = 1e6, tokens = 1e5)
  known <- suppressWarnings(predict(fit, far, param_draws = 0, latent_draws = 50, threads = 2,
                                    ceiling_uncertainty = FALSE))
  drawn <- suppressWarnings(predict(fit, far, param_draws = 0, latent_draws = 50, threads = 2))
  top <- known$lower > 0.999
  expect_true(any(top))
  expect_true(all(drawn$upper[top] - drawn$lower[top] > 1e-3))
  expect_true(all(drawn$lower[top] < known$lower[top]))
  expect_error(ls_factor(new, items = "x", family = "probit"), "now response")
  expect_output(print(fit), "scaling law")
  expect_output(print(summary(fit)), "coefficients")
})

test_that("a calibrated fit carries the command line's held-out CDF values", {
  skip_if_not_installed("jsonlite")
  dir <- tempfile("lscal")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  sim <- file.path(dir, "sim.csv")
  fl <- file.path(dir, "fl.csv")
  out <- file.path(dir, "cal.json")
  system2(cli(), c("simulate", "--n-families", "40", "--skills", "1", "--seed", "5", "--out", sim,
                   "--floors-out", fl), stdout = FALSE, stderr = FALSE)
  j <- run_cli(dir, c("fit", sim, "--floors", fl, "--skills", "1", "--starts", "2", "--threads", "2",
                      "--out", out), "cal.json")
  # calibrated by default, as the command line's fit
  fit <- suppressWarnings(ls_fit(sim, skills = 1, floors = fl, starts = 2, threads = 2))
  expect_true(length(fit$calibration) > 10)
  expect_false(is.unsorted(fit$calibration))
  expect_equal(fit$calibration, j$calibration$pit, tolerance = 1e-12)
  plain <- suppressWarnings(ls_fit(sim, skills = 1, floors = fl, starts = 2, threads = 2, calibrate = FALSE))
  expect_null(plain$calibration)
})

test_that("library failures are R errors of class latentscale_error", {
  bad <- tempfile(fileext = ".csv")
  on.exit(unlink(bad))
  writeLines(c("model,family,size,tokens,a", "m1,f1,1,1,0.5", "m2,f2,2"), bad)
  e <- tryCatch(ls_fit(bad, skills = 1), error = function(e) e)
  expect_s3_class(e, "latentscale_error")
  expect_equal(e$status, "parse")
  expect_match(conditionMessage(e), ":3: row has 3 fields")
  expect_error(ls_fit(bad, skills = 1, starts = 0), class = "latentscale_error")
  expect_error(ls_fit(bad, skills = 1, nonsense = 2), "unknown option")
})
