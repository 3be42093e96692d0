# Julia half of `make demo`: load the checkpoint Python trained and predict the same samples.
#   julia --project=julia examples/demo_predict.jl PREFIX EPOCH DEMO_IO.nd
using MX, Printf

prefix, epoch, io_file = ARGS[1], parse(Int, ARGS[2]), ARGS[3]
model = MX.load_checkpoint(prefix, epoch, MX.FeedForward)
io = MX.load(io_file)
pred = MX.predict(model, Array(io["data"]); batch_size=5)
ref = Array(io["pred"])
classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
println("Julia loaded $(prefix) (epoch $(epoch)) and predicts:")
for i in 1:size(pred, 1)
    k = argmax(pred[i, :])
    @printf("  sample %d: predicted %-12s (p=%.3f)\n", i - 1, classes[k], pred[i, k])
end
diff = maximum(abs.(pred .- ref))
@printf("Julia: largest difference from Python's probabilities: %.2g\n", diff)
diff > 1e-5 && error("Julia predicts differently from Python")
