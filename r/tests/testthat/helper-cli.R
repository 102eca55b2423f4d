# The command line and the data folder come from the CTest wrapper
# (tests/test_r_package.sh): LATENTSCALE_CLI, LATENTSCALE_DATA.  Without
# them the comparisons skip.
cli <- function() {
  p <- Sys.getenv("LATENTSCALE_CLI")
  if (!nzchar(p) || !file.exists(p)) skip("LATENTSCALE_CLI is not set to the latentscale command line")
  p
}

data_file <- function(name) {
  d <- Sys.getenv("LATENTSCALE_DATA")
  f <- file.path(d, name)
  if (!nzchar(d) || !file.exists(f)) skip(paste("no", name, "(set LATENTSCALE_DATA to the shared data folder)"))
  f
}

# Run the command line in dir; its JSON output read back.  The exit status
# is not checked: a fit that did not converge exits 6 but writes its file.
run_cli <- function(dir, args, out) {
  system2(cli(), args, stdout = FALSE, stderr = FALSE)
  f <- file.path(dir, out)
  if (!file.exists(f)) stop("the command line wrote no ", out, ": latentscale ", paste(args, collapse = " "))
  jsonlite::fromJSON(f, simplifyVector = TRUE)
}

tol <- 1e-8
