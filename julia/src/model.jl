# FeedForward: train and predict with a symbol, as MXNet.jl's mx.FeedForward, following Python's
# Module.fit step for step (same parameter order for initialisation and optimizer indices, same
# rescale_grad = 1/batch_size), so the same seed, data and optimizer give the same weights in every
# front end. Checkpoints use the shared layout: prefix-symbol.json, prefix-%04d.params ("arg:" /
# "aux:" names) and prefix-%04d.states (the core's optimizer state file).

"""
    FeedForward(arch::SymbolicNode; context=cpu(), data_names=[:data], label_names=[:softmax_label])

A model: the symbol, its parameters (`arg_params`, `aux_params`: Dict name => NDArray) and the
optimizer of the last `fit`.
"""
mutable struct FeedForward
    arch::SymbolicNode
    ctx::Context
    data_names::Vector{String}
    label_names::Vector{String}
    arg_params::Dict{String,NDArray}
    aux_params::Dict{String,NDArray}
    optimizer::Union{Optimizer,Nothing}
    exec::Union{Executor,Nothing}
end
FeedForward(arch::SymbolicNode; context::Context=cpu(), data_names=[:data], label_names=[:softmax_label]) =
    FeedForward(arch, context, String[string(x) for x in data_names], String[string(x) for x in label_names],
                Dict{String,NDArray}(), Dict{String,NDArray}(), nothing, nothing)

"Names of the trainable parameters (arguments that are neither data nor labels), in argument order."
param_names(m::FeedForward) = [n for n in list_arguments(m.arch) if !(n in m.data_names) && !(n in m.label_names)]

# ------------------------------------------------------------------ callbacks

"What callbacks see: epoch (1-based), batch number in the epoch, iterations so far, the metric."
mutable struct OptimizationState
    epoch::Int
    batch::Int
    curr_iter::Int
    metric::Union{Metric,Nothing}
end

abstract type AbstractCallback end
"Called every `frequency` batches as `f(model, state)`."
struct BatchCallback <: AbstractCallback
    frequency::Int
    f::Function
end
"Called every `frequency` epochs as `f(model, state)`."
struct EpochCallback <: AbstractCallback
    frequency::Int
    f::Function
end
every_n_batch(f::Function, n::Integer) = BatchCallback(n, f)
every_n_epoch(f::Function, n::Integer) = EpochCallback(n, f)

"Log samples per second every `frequency` batches."
function speedometer(; frequency::Integer=50)
    t = Ref(time())
    BatchCallback(frequency, (m, s) -> begin
        now_ = time()
        bs = m.exec === nothing ? 0 : size(m.exec.arg_dict[m.data_names[1]], 1)
        @info "Epoch[$(s.epoch)] Batch[$(s.batch)] Speed: $(round(frequency * bs / max(now_ - t[], 1e-9); digits=2)) samples/sec"
        t[] = now_
    end)
end

"Save a checkpoint (and, with save_optimizer_states, the optimizer states) every `frequency` epochs."
do_checkpoint(prefix::AbstractString; frequency::Integer=1, save_optimizer_states::Bool=false) =
    EpochCallback(frequency, (m, s) -> save_checkpoint(m, prefix, s.epoch; save_optimizer_states=save_optimizer_states))

# ------------------------------------------------------------------ binding and parameters

function _bind!(m::FeedForward, shapes::Dict{String,Any}; for_training::Bool=true)
    pn = Set(param_names(m))
    reqs = Dict{String,Symbol}(n => (for_training && n in pn) ? :write : :null for n in list_arguments(m.arch))
    m.exec = simple_bind(m.arch, m.ctx, shapes; grad_req=reqs)
    m.exec
end

"""
    init_model(model, initializer; overwrite=false, data=(batch, ...), ...)

Bind for the given input shapes and fill the parameters: existing `arg_params`/`aux_params` are
copied in, the others drawn from `initializer` in argument order (as Python's Module.init_params).
"""
init_model(m::FeedForward, initializer::Initializer=Uniform(0.01); overwrite::Bool=false,
           for_training::Bool=true, kwargs...) =
    init_model(m, initializer, Dict{String,Any}(string(k) => v for (k, v) in kwargs);
               overwrite=overwrite, for_training=for_training)
function init_model(m::FeedForward, initializer::Initializer, shapes::AbstractDict; overwrite::Bool=false,
                    for_training::Bool=true)
    e = _bind!(m, shapes; for_training=for_training)
    attrs = attr_dict(m.arch)
    for n in param_names(m)
        if !overwrite && haskey(m.arg_params, n)
            size(m.arg_params[n]) == size(e.arg_dict[n]) || throw(MXShapeError(
                "init_model: parameter '$(n)' has shape $(size(m.arg_params[n])) but the network needs $(size(e.arg_dict[n]))"))
            copyto!(e.arg_dict[n], m.arg_params[n])
        else
            init!(initializer, n, e.arg_dict[n]; attrs=get(attrs, n, nothing))
        end
    end
    for n in list_auxiliary_states(m.arch)
        if !overwrite && haskey(m.aux_params, n)
            copyto!(e.aux_dict[n], m.aux_params[n])
        else
            init!(initializer, n, e.aux_dict[n]; attrs=get(attrs, n, nothing))
        end
    end
    _sync_params!(m)
    e
end

# Copy the executor's parameters into arg_params/aux_params.
function _sync_params!(m::FeedForward)
    e = m.exec
    e === nothing && return m
    m.arg_params = Dict{String,NDArray}(n => copy(e.arg_dict[n]) for n in param_names(m))
    m.aux_params = Dict{String,NDArray}(n => copy(e.aux_dict[n]) for n in list_auxiliary_states(m.arch))
    m
end

function _provider_shapes(p::AbstractDataProvider; labels::Bool=true)
    d = Dict{String,Any}(n => s for (n, s) in provide_data(p))
    labels && for (n, s) in provide_label(p)
        d[n] = s
    end
    d
end

function _load_batch!(e::Executor, names, arrays)
    for (n, a) in zip(names, arrays)
        dst = get(e.arg_dict, n, nothing)
        dst === nothing || copyto!(dst, a)
    end
end

_unpad(x::NDArray, pad::Int) = pad == 0 ? x : _slice_view(x, 0, size(x, 1) - pad)

# ------------------------------------------------------------------ training

"""
    fit(model, optimizer, data; n_epoch=10, initializer=Uniform(0.01), eval_data=nothing,
        eval_metric=Accuracy(), callbacks=[], verbosity=1, begin_epoch=0,
        optimizer_params=(learning_rate=0.01,), load_optimizer_states=nothing, force_init=false)

Train as Python's Module.fit. `optimizer` is an `Optimizer`, or a name (then created with
`optimizer_params`, rescale_grad = 1/batch_size and the parameter names, as Python does).
`load_optimizer_states` is a .states file (from any front end) to resume from. `kvstore`
(:dist_sync, :horovod or a KVStore) trains data-parallel in a job started by
`python -m mx.tools.launch`: gradients summed over workers (rescale_grad 1/(batch*workers)),
updates on the kvstore, parameters broadcast from rank 0 first. Epochs are
numbered from `begin_epoch + 1` to `n_epoch` (the number a checkpoint of that epoch gets).
verbosity 0: silent; 1: one line per epoch; 2: also a progress bar (throttled, with the batch rate).
"""
function fit(m::FeedForward, optimizer, data::AbstractDataProvider; n_epoch::Integer=10,
             initializer::Initializer=Uniform(0.01), eval_data=nothing, eval_metric::Metric=Accuracy(),
             callbacks=AbstractCallback[], verbosity::Integer=1, begin_epoch::Integer=0,
             optimizer_params=(learning_rate=0.01,), load_optimizer_states=nothing, force_init::Bool=false,
             kvstore=:local)
    shapes = _provider_shapes(data)
    # kvstore: :local/:device train here; a dist type (or a KVStore) sums gradients over the
    # workers of the job, runs the optimizer on the kvstore and starts from rank 0's parameters
    kv = kvstore isa KVStore ? kvstore :
         (occursin("dist", string(kvstore)) || string(kvstore) == "horovod") ? KVStore(kvstore) :
         string(kvstore) in ("local", "device") ? nothing : KVStore(kvstore)
    nworkers = kv !== nothing && occursin("dist", string(kv_type(kv))) &&
               occursin("_sync", string(kv_type(kv))) ? num_workers(kv) : 1
    init_model(m, initializer, shapes; overwrite=force_init)
    e = m.exec
    pnames = param_names(m)
    if optimizer isa Optimizer
        opt = optimizer
    else
        hp = Dict{Symbol,Any}(Symbol(k) => v for (k, v) in pairs(optimizer_params))
        haskey(hp, :rescale_grad) || (hp[:rescale_grad] = 1.0 / (get_batch_size(data) * nworkers))
        hp[:param_idx2name] = Dict(i - 1 => n for (i, n) in enumerate(pnames))
        opt = Optimizer(string(optimizer); hp...)
    end
    load_optimizer_states === nothing || load_states!(opt, load_optimizer_states)
    m.optimizer = opt
    idx = Int[]; ws = NDArray[]; gs = NDArray[]
    for (i, n) in enumerate(pnames)
        g = get(e.grad_dict, n, nothing)
        g === nothing && continue
        push!(idx, i - 1); push!(ws, e.arg_dict[n]); push!(gs, g)
    end
    kvkeys = String[pnames[i + 1] for i in idx]
    if kv !== nothing
        set_optimizer(kv, opt)
        pw = NDArray[e.arg_dict[n] for n in pnames]
        broadcast!(kv, collect(pnames), pw, pw)
    end
    state = OptimizationState(begin_epoch, 0, 0, eval_metric)
    nb = Base.IteratorSize(typeof(data)) isa Base.SizeUnknown ? 0 : length(data)
    for epoch in begin_epoch+1:n_epoch
        tic = time()
        state.epoch = epoch
        reset!(eval_metric)
        reset!(data)
        bar = verbosity >= 2 && nb > 0 ? ProgressBar(nb; prefix="Epoch[$(epoch)]") : nothing
        for (k, batch) in enumerate(data)
            state.batch = k
            _load_batch!(e, m.data_names, batch.data)
            _load_batch!(e, m.label_names, batch.label)
            forward(e; is_train=true)
            backward(e)
            if kv === nothing
                update!(opt, idx, ws, gs)
            else
                # one fused allreduce, then the update; reduced during backward with overlap on
                pushpull_grads!(kv, kvkeys, gs, ws)
            end
            isempty(batch.label) || update!(eval_metric, [_unpad(l, batch.pad) for l in batch.label],
                                            [_unpad(o, batch.pad) for o in e.outputs[1:length(batch.label)]])
            state.curr_iter += 1
            bar === nothing || progress_update!(bar)
            for cb in callbacks
                cb isa BatchCallback && k % cb.frequency == 0 && cb.f(m, state)
            end
        end
        bar === nothing || progress_close(bar)
        _sync_params!(m)
        if verbosity >= 1
            nm, v = get(eval_metric)
            @info "Epoch[$(epoch)] Train-$(nm)=$(round(v; digits=6)) Time cost=$(round(time() - tic; digits=3))"
        end
        if eval_data !== nothing
            for (nm, v) in score(m, eval_data, eval_metric)
                verbosity >= 1 && @info "Epoch[$(epoch)] Validation-$(nm)=$(round(v; digits=6))"
            end
        end
        for cb in callbacks
            cb isa EpochCallback && epoch % cb.frequency == 0 && cb.f(m, state)
        end
    end
    m
end

"""
    score(model, data, metric=Accuracy()) -> [(name, value)]

Evaluate on a labelled provider (with the current parameters; no training).
"""
function score(m::FeedForward, data::AbstractDataProvider, metric::Metric=Accuracy())
    e = _bind_eval(m, data)
    reset!(metric)
    reset!(data)
    for batch in data
        _load_batch!(e, m.data_names, batch.data)
        forward(e; is_train=false)
        update!(metric, [_unpad(l, batch.pad) for l in batch.label],
                [_unpad(o, batch.pad) for o in e.outputs[1:length(batch.label)]])
    end
    [get(metric)]
end

function _bind_eval(m::FeedForward, data::AbstractDataProvider)
    isempty(m.arg_params) && throw(MXInvalidArgumentError("the model has no parameters: fit, init_model or load_checkpoint first"))
    shapes = Dict{String,Any}(n => s for (n, s) in provide_data(data))
    pn = param_names(m)
    e = simple_bind(m.arch, m.ctx, shapes; grad_req=:null)
    copy_params_from!(e, m.arg_params, m.aux_params; allow_extra_params=true)
    e
end

"""
    predict(model, data; batch_size=...) -> Array (or a vector of Arrays for several outputs)

Outputs for every sample (padding removed), concatenated along the first dimension. `data` is a
provider or a Julia array (first dimension = samples).
"""
function predict(m::FeedForward, data::AbstractDataProvider)
    e = _bind_eval(m, data)
    reset!(data)
    parts = [Array[] for _ in 1:length(list_outputs(m.arch))]
    for batch in data
        _load_batch!(e, m.data_names, batch.data)
        forward(e; is_train=false)
        for (i, o) in enumerate(e.outputs)
            push!(parts[i], Array(_unpad(o, batch.pad)))
        end
    end
    res = [vcat(p...) for p in parts]
    length(res) == 1 ? res[1] : res
end
predict(m::FeedForward, data::AbstractArray; batch_size::Integer=min(size(data, 1), 128)) =
    predict(m, ArrayDataProvider(data; batch_size=batch_size, data_name=m.data_names[1]))

# ------------------------------------------------------------------ checkpoints

"""
    save_checkpoint(prefix, epoch, sym, arg_params, aux_params)

Write prefix-symbol.json and prefix-%04d.params (names "arg:<name>", "aux:<name>") as Python's
mx.model.save_checkpoint.
"""
function save_checkpoint(prefix::AbstractString, epoch::Integer, s::Union{SymbolicNode,Nothing},
                         arg_params::AbstractDict, aux_params::AbstractDict)
    s === nothing || save("$(prefix)-symbol.json", s)
    d = Dict{String,NDArray}()
    for (k, v) in arg_params
        d["arg:$(k)"] = v
    end
    for (k, v) in aux_params
        d["aux:$(k)"] = v
    end
    save(_epoch_file(prefix, epoch, "params"), d)
    nothing
end
_epoch_file(prefix, epoch, ext) = "$(prefix)-$(lpad(epoch, 4, '0')).$(ext)"

"Save a model's checkpoint (and prefix-%04d.states with `save_optimizer_states`)."
function save_checkpoint(m::FeedForward, prefix::AbstractString, epoch::Integer; save_optimizer_states::Bool=false)
    _sync_params!(m)
    save_checkpoint(prefix, epoch, m.arch, m.arg_params, m.aux_params)
    if save_optimizer_states
        m.optimizer === nothing && throw(MXInvalidArgumentError("save_checkpoint: the model has no optimizer (fit first)"))
        save_states(m.optimizer, _epoch_file(prefix, epoch, "states"))
    end
    nothing
end

"`(arg_params, aux_params)` from prefix-%04d.params."
function load_params(prefix::AbstractString, epoch::Integer)
    fname = _epoch_file(prefix, epoch, "params")
    d = load(fname)
    d isa AbstractDict || throw(MXFormatError("$(fname) holds an unnamed list of arrays, not a checkpoint"))
    arg = Dict{String,NDArray}(); aux = Dict{String,NDArray}()
    for (k, v) in d
        tp, name = occursin(':', k) ? split(k, ':'; limit=2) : ("", k)
        if tp == "arg" && !isempty(name)
            arg[name] = v
        elseif tp == "aux" && !isempty(name)
            aux[name] = v
        else
            throw(MXFormatError("$(fname): key '$(k)' is neither 'arg:<name>' nor 'aux:<name>'"))
        end
    end
    arg, aux
end

"""
    load_checkpoint(prefix, epoch) -> (sym, arg_params, aux_params)
    load_checkpoint(prefix, epoch, FeedForward; context=cpu()) -> model

Read a checkpoint written by any MX front end or by Apache MXNet.
"""
function load_checkpoint(prefix::AbstractString, epoch::Integer)
    s = load_symbol("$(prefix)-symbol.json")
    arg, aux = load_params(prefix, epoch)
    s, arg, aux
end
function load_checkpoint(prefix::AbstractString, epoch::Integer, ::Type{FeedForward}; context::Context=cpu(), kwargs...)
    s, arg, aux = load_checkpoint(prefix, epoch)
    m = FeedForward(s; context=context, kwargs...)
    m.arg_params = arg
    m.aux_params = aux
    m
end
