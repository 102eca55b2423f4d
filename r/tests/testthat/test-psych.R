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
})

test_that("psychometric inputs are checked", {
  df <- data.frame(a = c(0, 1, 1, 0), b = c(1, 1, 0, 0))
  expect_error(ls_factor(df, items = "z*"), class = "latentscale_error")
  expect_error(ls_gpcm(df, items = "a,b", factors = 2), "pattern")
  expect_error(ls_factor(df, items = "a", identify = "sideways"), "identify")
})
