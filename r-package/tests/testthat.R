library(testthat)
library(mx)
test_check("mx")
