# lsat6_patterns.R -- the LSAT section 6 responses (Bock and Lieberman 1970;
# 1000 persons, 5 binary items) as Debian's r-cran-psych ships them (lsat6),
# written as their 30 distinct response patterns with counts to
# tests/reference/lsat6_patterns.csv, which tests/test_factor_mml.c expands
# and fits (2PL by marginal ML) against the published estimates in
# tests/reference/lsat6_2pl_published.csv (see tests/reference/README.md).
#   Rscript bench/reference/lsat6_patterns.R [OUT.csv]
suppressPackageStartupMessages(library(psych))
out <- if (length(commandArgs(TRUE))) commandArgs(TRUE)[1] else "tests/reference/lsat6_patterns.csv"
d <- as.data.frame(psych::lsat6)
p <- aggregate(rep(1L, nrow(d)), d, sum)
names(p)[ncol(p)] <- "count"
p <- p[do.call(order, p[, 1:5]), ]
write.csv(p, out, row.names = FALSE)
cat(sprintf("%d persons, %d patterns -> %s\n", sum(p$count), nrow(p), out))
