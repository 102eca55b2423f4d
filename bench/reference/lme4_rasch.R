# lme4_rasch.R -- the independent reference for latentscale's marginal ML
# (factor --method mml --equal-loadings): a Rasch-type model with a person
# random effect and item-by-gender terms, fitted by lme4::glmer with adaptive
# Gauss-Hermite quadrature (25 nodes), on the neuroticism items of bfi_psych.csv
# (N1..N5, 1 when the answer is >= 4), missing answers left out.
#
#   Rscript bench/reference/lme4_rasch.R [../shared/data/bfi_psych.csv] [OUT.csv] [logit|probit]
#
# Prints the figures and writes them (term, estimate, std_error) to OUT.csv
# (default tests/reference/lme4_rasch_bfi.csv; with probit the link of
# `factor --response probit`, default tests/reference/lme4_rasch_probit_bfi.csv),
# which tests/test_factor_mml.c compares against latentscale's own fit of the
# same data.
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args) >= 1) args[1] else "../shared/data/bfi_psych.csv"
link <- if (length(args) >= 3) args[3] else "logit"
out <- if (length(args) >= 2) args[2] else if (link == "probit") "tests/reference/lme4_rasch_probit_bfi.csv" else
    "tests/reference/lme4_rasch_bfi.csv"
d <- read.csv(path)
items <- paste0("N", 1:5)
long <- do.call(rbind, lapply(items, function(it)
    data.frame(person = seq_len(nrow(d)), item = it, gender = d$gender,
               y = as.integer(d[[it]] >= 4))))
long <- long[!is.na(long$y), ]
long$item <- factor(long$item, levels = items)
t0 <- proc.time()
m <- glmer(y ~ 0 + item + item:gender + (1 | person), data = long, family = binomial(link = link),
           nAGQ = 25, control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
el <- proc.time() - t0
co <- summary(m)$coefficients
sdre <- attr(VarCorr(m)$person, "stddev")
ll <- as.numeric(logLik(m))
cat(sprintf("lme4 %s, glmer nAGQ = 25, %s link: %d responses of %d persons\n", packageVersion("lme4"),
            link, nrow(long), nrow(d)))
cat(sprintf("log-likelihood %.4f, person sd %.5f, %.1f s\n", ll, sdre, el[["elapsed"]]))
print(co[, 1:2], digits = 6)
ref <- data.frame(term = c("loglik", "person_sd", rownames(co)),
                  estimate = c(ll, sdre, co[, 1]),
                  std_error = c(NA, NA, co[, 2]))
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
write.csv(ref, out, row.names = FALSE)
cat("wrote", out, "\n")
