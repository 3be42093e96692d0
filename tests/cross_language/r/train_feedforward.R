# Rscript train_feedforward.R TRAIN.nd PREFIX EPOCHS PRED.nd
suppressMessages(library(mx))
a <- commandArgs(trailingOnly = TRUE)
d <- mx.nd.load(a[1])
X <- as.array(d$data)
y <- as.array(d$label)
data <- mx.symbol.Variable("data")
fc1 <- mx.symbol.FullyConnected(data = data, num_hidden = 64, name = "fc1")
act <- mx.symbol.Activation(data = fc1, act_type = "relu", name = "relu1")
fc2 <- mx.symbol.FullyConnected(data = act, num_hidden = 10, name = "fc2")
net <- mx.symbol.SoftmaxOutput(data = fc2, name = "softmax")
mx.set.seed(2)
logger <- mx.metric.logger()
model <- mx.model.FeedForward.create(net, X = X, y = y, ctx = mx.cpu(), num.round = as.integer(a[3]),
                                     array.batch.size = 50, optimizer = "sgd", learning.rate = 0.1,
                                     momentum = 0.9, eval.metric = mx.metric.accuracy,
                                     initializer = mx.init.Xavier(), shuffle = FALSE,
                                     epoch.end.callback = mx.callback.log.train.metric(1, logger),
                                     verbose = FALSE)
mx.model.save(model, a[2], as.integer(a[3]))
pred <- predict(model, as.array(d$test), array.batch.size = 100)
mx.nd.save(list(pred = mx.nd.array(pred)), a[4])
cat("RESULT train_acc=", logger$train[length(logger$train)], "\n", sep = "")
