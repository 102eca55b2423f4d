library(testthat)
library(latentscale)

test_check("latentscale")
