# Rscript resume_adam.R PREFIX EPOCH DATA.nd BATCH LR OUT.nd
# Resumes Python's Adam training (weights + optimizer state) for one more epoch, same order.
suppressMessages(library(mx))
a <- commandArgs(trailingOnly = TRUE)
m <- mx.model.load(a[1], as.integer(a[2]))
stopifnot(!is.null(m$optimizer.states))
d <- mx.nd.load(a[3])
model <- mx.model.FeedForward.create(m$symbol, X = as.array(d$data), y = as.array(d$label),
                                     begin.round = as.integer(a[2]) + 1, num.round = as.integer(a[2]) + 1,
                                     array.batch.size = as.integer(a[4]), optimizer = "adam",
                                     learning.rate = as.numeric(a[5]), arg.params = m$arg.params,
                                     aux.params = m$aux.params, optimizer.states = m$optimizer.states,
                                     shuffle = FALSE, verbose = FALSE)
mx.nd.save(model$arg.params, a[6])
cat("RESULT done=TRUE\n")
