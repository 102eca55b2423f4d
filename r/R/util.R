# Helpers shared by every function: calling C, errors, data to CSV.

# .Call an entry point; a returned "ls_c_error" (a failing library call)
# becomes an R condition of class c("latentscale_error", "error",
# "condition") with the library's code, status name and message.
# Temporary CSV files of data frames are named in messages by the argument
# that held the data ("<data>").
.ls_call <- function(fn, ..., call = sys.call(-1L), tmp = NULL) {
  r <- .Call(fn, ...)
  if (inherits(r, "ls_c_error")) {
    msg <- r$message
    if (!is.null(tmp)) {
      for (i in seq_along(tmp$files)) msg <- gsub(tmp$files[i], tmp$labels[i], msg, fixed = TRUE)
    }
    stop(structure(class = c("latentscale_error", "error", "condition"),
                   list(message = msg, call = call, code = r$code, status = r$status)))
  }
  r
}

.ls_stop <- function(msg, call = sys.call(-1L)) {
  stop(structure(class = c("latentscale_error", "error", "condition"),
                 list(message = msg, call = call, code = 4L, status = "option")))
}

# The library's warnings as R warnings of class "latentscale_warning".
.ls_warn <- function(w) {
  for (m in w) {
    warning(structure(class = c("latentscale_warning", "warning", "condition"),
                      list(message = m, call = NULL)))
  }
  invisible(w)
}

# A path to a CSV for data: a file name as given, a data.frame or matrix
# written to a temporary file (removed by the caller through `tmp`).
.ls_csv <- function(data, tmp, row.names = FALSE, arg = "data") {
  if (is.character(data) && length(data) == 1L) {
    if (!file.exists(data)) .ls_stop(sprintf("%s: no file '%s'", arg, data), call = NULL)
    return(normalizePath(data))
  }
  if (is.matrix(data)) data <- as.data.frame(data)
  if (!is.data.frame(data)) .ls_stop(sprintf("%s: expected a CSV file name or a data.frame", arg), call = NULL)
  path <- tempfile(fileext = ".csv")
  tmp$files <- c(tmp$files, path)
  tmp$labels <- c(tmp$labels, sprintf("<%s>", arg))
  utils::write.csv(data, path, row.names = FALSE, na = "")
  path
}

.ls_tmp <- function() {
  e <- new.env()
  e$files <- character()
  e$labels <- character()
  e
}

.ls_list <- function(x) if (is.null(x)) NULL else paste(x, collapse = ",")

.ls_choice <- function(value, choices, arg) {
  i <- match(value, choices)
  if (length(value) != 1L || is.na(i)) {
    .ls_stop(sprintf("%s: expected %s, got '%s'", arg, paste(choices, collapse = ", "),
                     paste(value, collapse = ",")), call = NULL)
  }
  i - 1L
}

# Extra options given through `...`: a named list whose names are all known.
.ls_dots <- function(dots, known, fun) {
  if (length(dots) && (is.null(names(dots)) || any(!nzchar(names(dots))))) {
    .ls_stop(sprintf("%s: every extra option must be named", fun), call = NULL)
  }
  bad <- setdiff(names(dots), known)
  if (length(bad)) {
    .ls_stop(sprintf("%s: unknown option%s %s (known: %s)", fun, if (length(bad) > 1L) "s" else "",
                     paste(bad, collapse = ", "), paste(known, collapse = ", ")), call = NULL)
  }
  dots
}

ls_version <- function() .Call(C_lsr_version)

print.ls_result <- function(x, ...) {
  cat(sprintf("latentscale result of kind \"%s\": %s\n", attr(x, "kind"), paste(names(x), collapse = ", ")))
  w <- attr(x, "warnings")
  if (length(w)) cat(paste0("warning: ", w, "\n"), sep = "")
  invisible(x)
}
