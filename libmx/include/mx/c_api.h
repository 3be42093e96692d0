/*
 * MX C ABI: the only door into libmx. Every front end (Python, R, Julia) includes this file and
 * nothing else from the core.
 *
 * Conventions (docs/DESIGN.md section 2):
 *  - Every fallible function returns int: 0 = ok, a negative mx_status value on error. On error,
 *    mx_last_error() (thread-local) names the function, what was wrong and the offending value.
 *  - out_* pointers are written only on success.
 *  - Handles returned through out_* are OWNED BY THE CALLER and released with the matching
 *    *_free function, which accepts NULL and may be called from any thread.
 *  - Strings and arrays returned through `const` pointers are BORROWED: they live as long as the
 *    handle that returned them, or until the next call of the same function on the same thread
 *    where that is stated.
 *  - Enum values are explicit and append-only. mx_abi_version() and mx_version() never change.
 *  - The library never aborts, exits or prints on user error.
 *
 * This header is pure C99 and must stay parseable by cffi's cdef() after preprocessing: no
 * function-like macros, unions, bitfields or varargs in declarations.
 */
#ifndef MX_C_API_H_
#define MX_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MX_API __declspec(dllexport)
#else
#define MX_API __attribute__((visibility("default")))
#endif

/* Bumped when any declaration below changes incompatibly. Front ends refuse a mismatch. */
enum { MX_ABI_VERSION = 1 };

/* ---------------------------------------------------------------- status, version, logging */

typedef enum mx_status {
  MX_OK = 0,
  MX_ERR_INVALID_ARGUMENT = -1, /* bad value: unknown op, bad parameter, out-of-range axis     */
  MX_ERR_SHAPE = -2,            /* incompatible or invalid shapes                              */
  MX_ERR_TYPE = -3,             /* unsupported or mismatched dtype                             */
  MX_ERR_UNSUPPORTED = -4,      /* valid request this build cannot do (no GPU, sparse storage) */
  MX_ERR_OUT_OF_MEMORY = -5,
  MX_ERR_IO = -6,               /* file missing, unreadable, unwritable                        */
  MX_ERR_FORMAT = -7,           /* corrupt or truncated file, malformed JSON                   */
  MX_ERR_INTERNAL = -8          /* a bug in MX                                                 */
} mx_status;

MX_API int mx_abi_version(void);
MX_API void mx_version(int *major, int *minor, int *patch);
/* Thread-local message of the last failed call on this thread ("" if none). Borrowed. */
MX_API const char *mx_last_error(void);

typedef enum mx_log_level {
  MX_LOG_DEBUG = 0,
  MX_LOG_INFO = 1,
  MX_LOG_WARNING = 2,
  MX_LOG_ERROR = 3
} mx_log_level;
typedef void (*mx_log_fn)(int level, const char *message, void *user_data);
/* Install (or, with NULL, remove) the host's log sink. Without one the library logs nothing. */
MX_API int mx_set_log_callback(mx_log_fn fn, void *user_data);

/* Library-wide features compiled in: JSON object, e.g. {"cuda":false,"blas":"openblas",...}.
 * Borrowed, static. */
MX_API int mx_features(const char **out_json);

/* ---------------------------------------------------------------- dtypes and devices */

/* Numbering equals MXNet's type flags, so files and graphs map directly. */
typedef enum mx_dtype {
  MX_FLOAT32 = 0,
  MX_FLOAT64 = 1,
  MX_FLOAT16 = 2,
  MX_UINT8 = 3,
  MX_INT32 = 4,
  MX_INT8 = 5,
  MX_INT64 = 6,
  MX_BOOL = 7,
  MX_BFLOAT16 = 12
} mx_dtype;

/* Numbering equals MXNet's Context::DeviceType. */
typedef enum mx_device_type {
  MX_CPU = 1,
  MX_GPU = 2,
  MX_CPU_PINNED = 3
} mx_device_type;

/* Number of usable GPUs (0 on a build without CUDA or a machine without a GPU). */
MX_API int mx_device_count(int dev_type, int *out_count);

/* Number of threads the CPU kernels use. */
MX_API int mx_set_num_threads(int num_threads);

/* ---------------------------------------------------------------- NDArray */

typedef struct mx_ndarray_s *mx_ndarray_t;

/* New array, contents uninitialised. Caller owns the handle. ndim may be 0 (a scalar). */
MX_API int mx_ndarray_new(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_id,
                          mx_ndarray_t *out);
/* Releases the handle; the storage lives on while other handles or views reference it. */
MX_API int mx_ndarray_free(mx_ndarray_t arr);
/* Shape: borrowed pointer valid while `arr` lives and is not reshaped in place. */
MX_API int mx_ndarray_shape(mx_ndarray_t arr, int *out_ndim, const int64_t **out_shape);
MX_API int mx_ndarray_dtype(mx_ndarray_t arr, int *out_dtype);
MX_API int mx_ndarray_device(mx_ndarray_t arr, int *out_dev_type, int *out_dev_id);
MX_API int mx_ndarray_size(mx_ndarray_t arr, int64_t *out_size);
/* Copy `nbytes` (must equal size * itemsize) row-major bytes from/to host memory. */
MX_API int mx_ndarray_copy_from(mx_ndarray_t arr, const void *data, size_t nbytes);
MX_API int mx_ndarray_copy_to(mx_ndarray_t arr, void *data, size_t nbytes);
/* Raw pointer to the first element (CPU arrays only). Valid while `arr` lives. */
MX_API int mx_ndarray_data(mx_ndarray_t arr, void **out_data);
/* A view sharing storage with a new shape of the same size; one dim may be -1. Caller owns. */
MX_API int mx_ndarray_reshape(mx_ndarray_t arr, const int64_t *shape, int ndim, mx_ndarray_t *out);
/* View of rows [begin, end) along the first axis. Caller owns. */
MX_API int mx_ndarray_slice(mx_ndarray_t arr, int64_t begin, int64_t end, mx_ndarray_t *out);
/* View of row `index` along the first axis (one fewer dimension). Caller owns. */
MX_API int mx_ndarray_at(mx_ndarray_t arr, int64_t index, mx_ndarray_t *out);
/* Copy values of `src` into `dst` (same shape; dtype converted; any devices). */
MX_API int mx_ndarray_copy(mx_ndarray_t src, mx_ndarray_t dst);
/* A new array on another device (deep copy). Caller owns. */
MX_API int mx_ndarray_to_device(mx_ndarray_t arr, int dev_type, int dev_id, mx_ndarray_t *out);
/* A new handle to the same storage, detached from the autograd graph. Caller owns. */
MX_API int mx_ndarray_detach(mx_ndarray_t arr, mx_ndarray_t *out);
/* 1 if both handles view overlapping bytes of the same storage. */
MX_API int mx_ndarray_shares_memory(mx_ndarray_t a, mx_ndarray_t b, int *out_flag);
/* Block until pending work on the array is done (MX executes eagerly: returns at once). */
MX_API int mx_ndarray_wait_to_read(mx_ndarray_t arr);
MX_API int mx_waitall(void);

/* DLPack (v0.8 ABI, unversioned DLManagedTensor): export returns a DLManagedTensor* viewing the
 * array with explicit compact strides (the consumer calls its deleter once, from any thread; it
 * keeps the memory alive). Import takes a CPU tensor (kDLCPU) of float16/32/64, bfloat16,
 * int8/32/64, uint8 or bool (kDLBool, 8 bits), lanes 1, compact row-major strides (or NULL);
 * ON SUCCESS MX owns it and calls its deleter when the last array viewing it is released; ON
 * FAILURE ownership stays with the caller and the deleter is not called. Both zero-copy. */
MX_API int mx_ndarray_to_dlpack(mx_ndarray_t arr, void **out_dlmanaged);
MX_API int mx_ndarray_from_dlpack(void *dlmanaged, mx_ndarray_t *out);

/* ---------------------------------------------------------------- operators */

typedef struct mx_op_s *mx_op_t;          /* borrowed, valid for the library's lifetime */
typedef struct mx_params_s *mx_params_t;  /* parsed parameters, owned by the caller */

MX_API int mx_op_count(int *out_count);
/* Name of the op with index [0, count). Borrowed, static. */
MX_API int mx_op_name(int index, const char **out_name);
/* Look up an op by name or alias. */
MX_API int mx_op_find(const char *name, mx_op_t *out_op);
/* JSON schema of the op: {"name","aliases","doc","inputs":[...],"variadic_input":bool,
 * "outputs":[...],"aux":[...],"params":[{"name","type",
 * "default","required","doc","choices"}],"dtypes","differentiable","has_shape_inference",
 * "has_cpu_kernel","has_gpu_kernel","has_gradient",...}. Borrowed, static. */
MX_API int mx_op_schema(mx_op_t op, const char **out_json);
/* Parse parameters once (string values, as MXNet writes them in symbol JSON) for reuse across
 * calls. Unknown keys, bad values and missing required parameters fail here. Caller owns. */
MX_API int mx_params_new(mx_op_t op, int num_params, const char **keys, const char **values,
                         mx_params_t *out_params);
MX_API int mx_params_free(mx_params_t params);
/* Canonical JSON object of all parameter values (defaults filled in). Borrowed from `params`. */
MX_API int mx_params_json(mx_params_t params, const char **out_json);

/* Run an op on its inputs (aux states, e.g. BatchNorm's moving statistics, are passed after the
 * regular inputs and updated in place).
 *  - num_out == 0: outputs are allocated; *out_num_outputs is the number of visible outputs and
 *    *out_outputs points to a thread-local array of new handles, OWNED BY THE CALLER, valid
 *    until the next mx_op_invoke on this thread.
 *  - num_out > 0: results are written into `out` (the user's out=); *out_num_outputs = num_out
 *    and *out_outputs = NULL.
 * While autograd is recording the call is taped. `params` may be NULL for all defaults. */
MX_API int mx_op_invoke(mx_op_t op, mx_params_t params, int num_inputs, const mx_ndarray_t *inputs,
                        int num_out, const mx_ndarray_t *out, int *out_num_outputs,
                        mx_ndarray_t **out_outputs);
/* Fast path for single-output ops: one new output handle, owned by the caller. */
MX_API int mx_op_invoke1(mx_op_t op, mx_params_t params, int num_inputs, const mx_ndarray_t *inputs,
                         mx_ndarray_t *out);
/* The same for the commonest calls, without an input array to build: `b` may be NULL for a
 * one-input op. One new output handle, owned by the caller. */
MX_API int mx_op_invoke_ab(mx_op_t op, mx_params_t params, mx_ndarray_t a, mx_ndarray_t b,
                           mx_ndarray_t *out);

/* ---------------------------------------------------------------- custom operators */

/* Operators implemented in a front end's language (MXNet's mx.operator.CustomOp). The core's
 * "Custom" op (parameter op_type, plus any other key=value strings, passed through) asks the
 * callback registered for op_type to describe and run the op, so custom ops work in imperative
 * calls, autograd and the symbolic executor alike (CPU only).
 * Requests and their data (JSON in `in_json`; the answer in *out_json):
 *  - MX_CUSTOM_LIST_ARGUMENTS / LIST_OUTPUTS / LIST_AUXILIARY_STATES: answer a JSON array of names.
 *  - MX_CUSTOM_INFER_SHAPE: in_json [shape or null per input]; answer {"in": [...], "out": [...],
 *    "aux": [...]} with every shape filled in.
 *  - MX_CUSTOM_INFER_TYPE: in_json [dtype code or -1 per input]; answer {"in", "out", "aux"} codes.
 *  - MX_CUSTOM_FORWARD: arrays = inputs, outputs, aux states (in that order); outputs are to be
 *    written. MX_CUSTOM_BACKWARD: arrays = output gradients, inputs, outputs, input gradients (to
 *    be written), aux states. `counts` gives the number of arrays in each group. No answer.
 * `params_json` is a JSON object of every parameter given (op_type included), as strings.
 * Every array handle passed is NEW and owned by the callback (free it with mx_ndarray_free, or
 * keep it). The callback returns 0 on success; otherwise non-zero with *out_json set to the
 * error message. *out_json must stay valid until the next request on the same thread. */
typedef enum mx_custom_request {
  MX_CUSTOM_LIST_ARGUMENTS = 0,
  MX_CUSTOM_LIST_OUTPUTS = 1,
  MX_CUSTOM_LIST_AUXILIARY_STATES = 2,
  MX_CUSTOM_INFER_SHAPE = 3,
  MX_CUSTOM_INFER_TYPE = 4,
  MX_CUSTOM_FORWARD = 5,
  MX_CUSTOM_BACKWARD = 6
} mx_custom_request;
typedef int (*mx_custom_fn)(void *user_data, int request, const char *params_json, const char *in_json,
                            int num_groups, const int *counts, mx_ndarray_t *arrays, int is_train,
                            const char **out_json);
/* Register (or replace, or with fn NULL remove) the implementation of op_type. The core keeps
 * fn and user_data until replaced; the caller keeps user_data alive that long. */
MX_API int mx_custom_op_register(const char *op_type, mx_custom_fn fn, void *user_data);

/* ---------------------------------------------------------------- autograd */

typedef enum mx_grad_req {
  MX_GRAD_NULL = 0,
  MX_GRAD_WRITE = 1,
  MX_GRAD_INPLACE = 2, /* treated as write */
  MX_GRAD_ADD = 3
} mx_grad_req;

/* Thread-local switches; `out_prev` (may be NULL) receives the previous value. */
MX_API int mx_autograd_set_recording(int is_recording, int *out_prev);
MX_API int mx_autograd_set_training(int is_training, int *out_prev);
MX_API int mx_autograd_is_recording(int *out_flag);
MX_API int mx_autograd_is_training(int *out_flag);
/* Make arrays leaves of the graph. grads[i] receives the gradient (its shape must match);
 * grads may be NULL, then zero gradient buffers are allocated. */
MX_API int mx_autograd_mark_variables(int num, const mx_ndarray_t *vars, const int *grad_reqs,
                                      const mx_ndarray_t *grads);
/* 1 when the array is a marked variable or was computed from one while recording. */
MX_API int mx_autograd_is_tracked(mx_ndarray_t arr, int *out_flag);
/* The gradient buffer of a marked variable, a new handle sharing it (caller owns); *out = NULL
 * when the array has no gradient buffer. */
MX_API int mx_ndarray_grad(mx_ndarray_t arr, mx_ndarray_t *out);
/* *out_flag = 1 when a backward pass wrote arr's gradient since the flag was last cleared
 * (MXNet's _fresh_grad; 0 for arrays without attach_grad). Trainers clear it after an update
 * with mx_ndarray_set_grad_fresh(arr, 0) and warn when asked to step on a stale gradient. */
MX_API int mx_ndarray_grad_fresh(mx_ndarray_t arr, int *out_flag);
MX_API int mx_ndarray_set_grad_fresh(mx_ndarray_t arr, int flag);
/* Back-propagate from heads into the gradient buffers of marked variables. head_grads may be
 * NULL, or hold NULL entries, meaning ones. */
MX_API int mx_autograd_backward(int num_heads, const mx_ndarray_t *heads,
                                const mx_ndarray_t *head_grads, int retain_graph, int is_train);
/* Gradients of heads with respect to `vars`, returned as new arrays in out_grads (a
 * caller-provided array of num_vars handles, each owned by the caller) instead of being written
 * into gradient buffers. With create_graph the computation is itself recorded, for higher-order
 * gradients. */
MX_API int mx_autograd_grad(int num_heads, const mx_ndarray_t *heads, const mx_ndarray_t *head_grads,
                            int num_vars, const mx_ndarray_t *vars, int retain_graph,
                            int create_graph, int is_train, mx_ndarray_t *out_grads);

/* ---------------------------------------------------------------- random */

/* Seed the core's counter-based generator (Philox4x32-10): the same seed gives the same stream
 * in every front end. dev_type -1 seeds every device. */
MX_API int mx_random_seed(uint64_t seed, int dev_type);

/* ---------------------------------------------------------------- initializers */

typedef struct mx_initializer_s *mx_initializer_t;

/* Create from MXNet's initializer description JSON, e.g. ["xavier", {"magnitude": 2.0}] or
 * {"name": "normal", "sigma": 0.01}, or a bare name; names: zero (zeros), one (ones), constant,
 * uniform, normal, xavier, msraprelu, orthogonal, bilinear, lstmbias, mixed ({"patterns": [regex,
 * ...], "initializers": [description, ...]}). Unknown names and arguments fail. Caller owns. */
MX_API int mx_initializer_new(const char *json, mx_initializer_t *out);
MX_API int mx_initializer_free(mx_initializer_t init);
/* Fill `arr` for a parameter named `name`, following MXNet's name rules (*_bias and *_beta get
 * zeros, *_gamma ones, moving_mean / moving_inv_var / moving_avg zeros, moving_var ones, *min
 * zeros, *max ones, upsampling* bilinear, *_weight the initializer's weight rule; any other name
 * is an MX_ERR_INVALID_ARGUMENT). Random draws use the CPU generator seeded by mx_random_seed. */
MX_API int mx_initializer_apply(mx_initializer_t init, const char *name, mx_ndarray_t arr);
/* MXNet's Initializer.__call__(InitDesc(name, attrs), arr): `attrs_json` is the variable's
 * attribute object (NULL or "" for none); a non-empty "__init__" attribute (an initializer
 * description, e.g. the string "[\"zero\", {}]") overrides the name rules and fills `arr` with
 * that initializer's weight rule. Otherwise as mx_initializer_apply. */
MX_API int mx_initializer_apply_desc(mx_initializer_t init, const char *name, const char *attrs_json,
                                     mx_ndarray_t arr);
/* Canonical description JSON, ["name", {arguments}] as MXNet's dumps(). Borrowed from `init`. */
MX_API int mx_initializer_json(mx_initializer_t init, const char **out_json);

/* ---------------------------------------------------------------- optimizers, schedulers */

typedef struct mx_lr_scheduler_s *mx_lr_scheduler_t;
typedef struct mx_optimizer_s *mx_optimizer_t;

/* Scheduler from JSON: {"type":"factor"|"multifactor"|"poly"|"cosine", ...MXNet arguments...,
 * "warmup_steps", "warmup_begin_lr", "warmup_mode"}. Caller owns. */
MX_API int mx_lr_scheduler_new(const char *json, mx_lr_scheduler_t *out);
MX_API int mx_lr_scheduler_free(mx_lr_scheduler_t sched);
/* Learning rate at update count num_update. Stateful like MXNet's (factor schedulers step). */
MX_API int mx_lr_scheduler_get(mx_lr_scheduler_t sched, int64_t num_update, double *out_lr);
MX_API int mx_lr_scheduler_json(mx_lr_scheduler_t sched, const char **out_json);

/* Optimizer by MXNet name (sgd, nag, adam, adamw, rmsprop, adagrad, adadelta, ftrl, signum,
 * signsgd, lamb, ...) with hyperparameters as a JSON object (learning_rate, wd, rescale_grad,
 * clip_gradient, momentum, beta1, ..., multi_precision, lr_scheduler: {...}). Caller owns. */
MX_API int mx_optimizer_new(const char *name, const char *hparams_json, mx_optimizer_t *out);
MX_API int mx_optimizer_free(mx_optimizer_t opt);
/* Change one hyperparameter (value as JSON), e.g. ("learning_rate", "0.1"). */
MX_API int mx_optimizer_set(mx_optimizer_t opt, const char *key, const char *value_json);
/* Per-index settings: lr_mult, wd_mult, and a name (weight decay rules follow names). */
MX_API int mx_optimizer_set_index(mx_optimizer_t opt, int index, const char *name, double lr_mult,
                                  double wd_mult);
/* Update weights in place from gradients; state for each index is created on first use. */
MX_API int mx_optimizer_update(mx_optimizer_t opt, int num, const int *indices,
                               const mx_ndarray_t *weights, const mx_ndarray_t *grads);
/* Current learning rate (after the scheduler). */
MX_API int mx_optimizer_learning_rate(mx_optimizer_t opt, double *out_lr);
/* Everything as JSON: name, hyperparameters, update counts, per-index settings. Borrowed from
 * `opt` until its next call. */
MX_API int mx_optimizer_json(mx_optimizer_t opt, const char **out_json);
/* State as named arrays ("<index>:<state name>") plus the JSON above. out_arrays points to an
 * array of new handles owned by the caller; out_names to borrowed strings; both arrays valid
 * until the next call on `opt`. */
MX_API int mx_optimizer_export_states(mx_optimizer_t opt, int *out_num, const char ***out_names,
                                      mx_ndarray_t **out_arrays, const char **out_json);
MX_API int mx_optimizer_import_states(mx_optimizer_t opt, int num, const char **names,
                                      const mx_ndarray_t *arrays, const char *json);
/* The same in one file (an NDArray container holding the arrays and the JSON). */
MX_API int mx_optimizer_save_states(mx_optimizer_t opt, const char *path);
MX_API int mx_optimizer_load_states(mx_optimizer_t opt, const char *path);

/* ---------------------------------------------------------------- metrics */

typedef struct mx_metric_s *mx_metric_t;

/* Metric by MXNet name (acc, top_k_accuracy, f1, mae, mse, rmse, ce, perplexity, loss, ...),
 * arguments as JSON object (top_k, axis, ignore_label, average, ...). Caller owns. */
MX_API int mx_metric_new(const char *name, const char *args_json, mx_metric_t *out);
MX_API int mx_metric_free(mx_metric_t metric);
/* Accumulate `num` (label, prediction) pairs, MXNet 1.x update semantics. `labels` may be NULL
 * for metrics that ignore labels (loss). Mismatched shapes are MX_ERR_SHAPE. */
MX_API int mx_metric_update(mx_metric_t metric, int num, const mx_ndarray_t *labels,
                            const mx_ndarray_t *preds);
MX_API int mx_metric_reset(mx_metric_t metric);
/* Current value (NaN when nothing was seen) and the count of instances. */
MX_API int mx_metric_get(mx_metric_t metric, const char **out_name, double *out_value,
                         int64_t *out_num_inst);
/* The same over everything since the last mx_metric_reset (MXNet's get_global); the local
 * statistics of mx_metric_get are also cleared by mx_metric_reset_local. */
MX_API int mx_metric_get_global(mx_metric_t metric, const char **out_name, double *out_value,
                                int64_t *out_num_inst);
MX_API int mx_metric_reset_local(mx_metric_t metric);
/* Configuration and raw statistics as JSON: {"metric","name","args",{...},"sum_metric",
 * "num_inst","global_sum_metric","global_num_inst"}. Borrowed from `metric` until its next call. */
MX_API int mx_metric_json(mx_metric_t metric, const char **out_json);

/* ---------------------------------------------------------------- NDArray files */

typedef enum mx_file_format {
  MX_FORMAT_AUTO = 0,       /* by extension when saving (.safetensors), by magic when loading */
  MX_FORMAT_MXNET = 1,      /* MXNet's binary NDArray list (.params, .nd)                    */
  MX_FORMAT_SAFETENSORS = 2
} mx_file_format;

/* Save arrays, with names (names == NULL saves an unnamed list). format MX_FORMAT_AUTO picks
 * safetensors for a path ending in ".safetensors", else MXNet's format (V2 records, as MXNet 1.9
 * writes; V3 for every record when an array is 0-d, as MXNet under np_shape). Unnamed lists in
 * safetensors are named "0".."n-1" with __metadata__ {"mx.list": "true"}; a sparse array NAME
 * is stored in safetensors as its component tensors NAME.data, NAME.indices (int64) and, for
 * csr, NAME.indptr (int64), with __metadata__ "mx.sparse:NAME" = {"stype": ..., "shape": [...]}
 * (a JSON string), and loads back as the sparse array. Written to
 * "<path>.tmp.<pid>.<random>", fsynced and renamed, so an interrupted or failed save never
 * destroys the previous file (and leaves no temporary behind). */
MX_API int mx_ndarray_save(const char *path, int num, const mx_ndarray_t *arrays,
                           const char **names, int format);
/* Load a file (format detected from its first bytes: MXNet's 0x112 magic, or a safetensors
 * header). *out_arrays: thread-local array of new handles (caller owns the handles);
 * *out_names: thread-local NULL-terminated array of borrowed names, or NULL for an unnamed list
 * (out_names itself may be NULL). Both valid until the next mx_ndarray_load* call on this
 * thread. Missing/unreadable file: MX_ERR_IO; truncated or corrupt: MX_ERR_FORMAT naming the
 * byte offset; sparse arrays or dtypes MX lacks: MX_ERR_UNSUPPORTED / MX_ERR_TYPE. */
MX_API int mx_ndarray_load(const char *path, int *out_num, mx_ndarray_t **out_arrays,
                           const char ***out_names);
MX_API int mx_ndarray_load_buffer(const void *data, size_t nbytes, int *out_num,
                                  mx_ndarray_t **out_arrays, const char ***out_names);

/* ---------------------------------------------------------------- symbols */

typedef struct mx_symbol_s *mx_symbol_t;

/* A variable (graph input). attrs: node attributes such as __shape__, __dtype__, __init__,
 * __lr_mult__, __wd_mult__ (MXNet's spelling). Caller owns. */
MX_API int mx_symbol_variable(const char *name, int num_attrs, const char **attr_keys,
                              const char **attr_values, mx_symbol_t *out);
/* Apply an op: positional inputs `args`, then named inputs (`kw_names`/`kw_args`); inputs not
 * given become variables "<name>_<input>". name NULL or "" picks an automatic name such as
 * "fullyconnected0". params may be NULL (defaults). Caller owns. */
MX_API int mx_symbol_compose(mx_op_t op, mx_params_t params, const char *name, int num_args,
                             const mx_symbol_t *args, int num_kwargs, const char **kw_names,
                             const mx_symbol_t *kw_args, int num_attrs, const char **attr_keys,
                             const char **attr_values, mx_symbol_t *out);
MX_API int mx_symbol_group(int num, const mx_symbol_t *symbols, mx_symbol_t *out);
MX_API int mx_symbol_free(mx_symbol_t sym);
MX_API int mx_symbol_num_outputs(mx_symbol_t sym, int *out_num);
MX_API int mx_symbol_get_output(mx_symbol_t sym, int index, mx_symbol_t *out);
MX_API int mx_symbol_get_internals(mx_symbol_t sym, mx_symbol_t *out);
/* Inputs of the node of each output (each node once), as a group (MXNet's get_children), or
 * NULL when there are none (a variable). */
MX_API int mx_symbol_get_children(mx_symbol_t sym, mx_symbol_t *out);

typedef enum mx_symbol_list_kind {
  MX_LIST_ARGUMENTS = 0,
  MX_LIST_OUTPUTS = 1,
  MX_LIST_AUX_STATES = 2,
  MX_LIST_INPUTS = 3
} mx_symbol_list_kind;
/* Names; *out_names is borrowed from `sym` until the next mx_symbol_list on it. */
MX_API int mx_symbol_list(mx_symbol_t sym, int kind, int *out_num, const char ***out_names);
/* Name of a one-output symbol's node. Borrowed from `sym`. */
MX_API int mx_symbol_name(mx_symbol_t sym, const char **out_name);
/* Node attribute of a one-output symbol; *out_value = NULL when absent. Borrowed from `sym`. */
MX_API int mx_symbol_get_attr(mx_symbol_t sym, const char *key, const char **out_value);
MX_API int mx_symbol_set_attr(mx_symbol_t sym, const char *key, const char *value);
/* All attributes as a JSON object: {"name": {...}} per node when recursive, else the node's
 * attributes and op parameters. Borrowed from `sym` until the next call on it. */
MX_API int mx_symbol_list_attr(mx_symbol_t sym, int recursive, const char **out_json);
/* MXNet's -symbol.json text. Borrowed from `sym` until the next call on it. */
MX_API int mx_symbol_to_json(mx_symbol_t sym, const char **out_json);
MX_API int mx_symbol_from_json(const char *json, mx_symbol_t *out);
/* Atomic write (temporary file and rename) / read of a -symbol.json file. */
MX_API int mx_symbol_save(mx_symbol_t sym, const char *path);
MX_API int mx_symbol_load(const char *path, mx_symbol_t *out);
/* Shape inference from known input shapes given as a JSON object {"data": [32, 784], ...}.
 * Result JSON: {"arg_shapes": [[...] or null, ...], "out_shapes": [...], "aux_shapes": [...],
 * "complete": bool}. With partial == 0 an unknown shape is an error. Borrowed from `sym`. */
MX_API int mx_symbol_infer_shape(mx_symbol_t sym, const char *known_json, int partial,
                                 const char **out_json);
/* Dtype inference: known {"data": "float32", ...}; result {"arg_types": ["float32", null, ...],
 * "out_types", "aux_types", "complete"}. Borrowed from `sym`. */
MX_API int mx_symbol_infer_type(mx_symbol_t sym, const char *known_json, int partial,
                                const char **out_json);

/* ---------------------------------------------------------------- executors */

typedef struct mx_executor_s *mx_executor_t;

/* Bind arrays to a symbol. args/grads/grad_reqs follow MX_LIST_ARGUMENTS order (grads entries
 * may be NULL where grad_req is MX_GRAD_NULL; grads NULL means no gradients), aux follows
 * MX_LIST_AUX_STATES. The executor keeps references to the arrays. Caller owns the executor. */
MX_API int mx_executor_bind(mx_symbol_t sym, int dev_type, int dev_id, int num_args,
                            const mx_ndarray_t *args, const mx_ndarray_t *grads, const int *grad_reqs,
                            int num_aux, const mx_ndarray_t *aux, mx_executor_t *out);
/* Allocate every array (zero-filled) from shapes inferred from `shapes_json`
 * ({"data": [32, 784], ...}) and dtypes from `types_json` (may be NULL: float32). Every argument
 * gets `grad_req` except those named in `grad_reqs_json`, a JSON object of per-argument
 * overrides ({"data": "null", "w": "add"}; may be NULL). Caller owns. */
MX_API int mx_executor_simple_bind(mx_symbol_t sym, int dev_type, int dev_id, const char *shapes_json,
                                   const char *types_json, int grad_req, const char *grad_reqs_json,
                                   mx_executor_t *out);
MX_API int mx_executor_free(mx_executor_t exec);
MX_API int mx_executor_forward(mx_executor_t exec, int is_train);
/* head_grads: one per output or NULL (ones; loss outputs ignore them). */
MX_API int mx_executor_backward(mx_executor_t exec, int num, const mx_ndarray_t *head_grads, int is_train);
typedef enum mx_executor_array_kind {
  MX_EXEC_OUTPUTS = 0,
  MX_EXEC_ARGS = 1,
  MX_EXEC_GRADS = 2,
  MX_EXEC_AUX = 3
} mx_executor_array_kind;
/* New handles (caller owns each) to the executor's arrays of one kind, in list order; a NULL
 * entry where an argument has no gradient array. *out_arrays is a thread-local array valid until
 * the next call of this function on this thread. Outputs are overwritten by the next forward. */
MX_API int mx_executor_arrays(mx_executor_t exec, int kind, int *out_num, mx_ndarray_t **out_arrays);
/* Bytes the memory plan allocates, and what one buffer per value would have needed. */
MX_API int mx_executor_memory(mx_executor_t exec, int64_t *out_planned_bytes, int64_t *out_unplanned_bytes);
/* Forward with autograd (hybridized blocks under record): inputs[i] is copied into argument
 * arg_index[i] (skipped when it is the bound array itself), forward runs, and the outputs come
 * back as new arrays (caller owns each; *out_arrays is thread-local, valid until the next call
 * on this thread). While autograd records and some input is tracked, the whole run is taped as
 * one node whose backward is this executor's backward (arguments bound with grad_req write
 * pass gradients to their inputs); until that backward (or the node is dropped) the executor
 * is busy and this call fails on it: check mx_executor_busy and use another binding. */
MX_API int mx_executor_forward_taped(mx_executor_t exec, int is_train, int num_inputs,
                                     const mx_ndarray_t *inputs, const int *arg_index, int *out_num,
                                     mx_ndarray_t **out_arrays);
MX_API int mx_executor_busy(mx_executor_t exec, int *out_flag);

/* ---------------------------------------------------------------- RecordIO */

/* MXNet/dmlc RecordIO (.rec), byte-compatible: per chunk uint32 magic 0xCED7230A, uint32 lrec
 * (upper 3 bits cflag, lower 29 length), data, zero padding to 4 bytes; records holding the magic
 * at 4-byte aligned offsets are split into chunks and re-joined on read. One handle type serves
 * writers and readers. A corrupt or truncated file is MX_ERR_FORMAT naming the byte offset. */
typedef struct mx_recordio_s *mx_recordio_t;

/* Open (truncate) `path` for writing. Caller owns; mx_recordio_free flushes and closes. */
MX_API int mx_recordio_writer_new(const char *path, mx_recordio_t *out);
/* Append one record of nbytes bytes. */
MX_API int mx_recordio_write(mx_recordio_t rec, const void *data, size_t nbytes);
/* Flush and close the file now (reports write errors that free cannot); later calls fail. */
MX_API int mx_recordio_close(mx_recordio_t rec);
/* Open `path` for reading. Caller owns. */
MX_API int mx_recordio_reader_new(const char *path, mx_recordio_t *out);
/* Next record: *out_data is BORROWED, valid until the next read/seek/free on `rec`. At the end
 * of the file *out_data = NULL and *out_nbytes = 0 (an empty record gives a non-NULL pointer). */
MX_API int mx_recordio_read(mx_recordio_t rec, const void **out_data, size_t *out_nbytes);
/* Reader: move to a byte offset (a record start, e.g. from an .idx file). */
MX_API int mx_recordio_seek(mx_recordio_t rec, uint64_t pos);
/* Current byte offset (writer: where the next record starts). */
MX_API int mx_recordio_tell(mx_recordio_t rec, uint64_t *out_pos);
MX_API int mx_recordio_free(mx_recordio_t rec);

/* ---------------------------------------------------------------- images */

/* Decode PNG or JPEG bytes into a new uint8 HWC array (caller owns). channels: 3 (colour), 1
 * (grey) or 0 (as stored: 1 or 3; alpha is dropped). to_bgr != 0 returns BGR order (OpenCV's,
 * as mx.recordio.unpack_img in MXNet). MX_ERR_UNSUPPORTED for formats this build cannot decode
 * (see mx_image_supported); MX_ERR_FORMAT for corrupt data. */
MX_API int mx_image_decode(const void *data, size_t nbytes, int channels, int to_bgr, mx_ndarray_t *out);
/* Encode h*w*c uint8 HWC pixels (c = 1 or 3; RGB, or BGR when from_bgr != 0) as ".png" or
 * ".jpg" (quality 1..100). *out_data is borrowed from a thread-local buffer valid until the next
 * mx_image_encode on this thread. */
MX_API int mx_image_encode(const void *pixels, int height, int width, int channels, int from_bgr,
                           const char *format, int quality, const void **out_data, size_t *out_nbytes);
/* *out_flag = 1 if this build decodes and encodes `format` ("png" or "jpeg"), else 0. */
MX_API int mx_image_supported(const char *format, int *out_flag);
/* Bilinear resize of a uint8 HWC array to (height, width). New array, caller owns. */
MX_API int mx_image_resize(mx_ndarray_t src, int height, int width, mx_ndarray_t *out);
/* The largest width*height mx_image_decode (and ImageRecordIter) accepts; checked from the
 * header before any pixel memory is allocated (MX_ERR_FORMAT beyond it). Process-wide; default
 * MX_MAX_IMAGE_PIXELS from the environment, else 178956970 (Pillow's decompression-bomb limit).
 * Headers claiming more pixels than their compressed bytes can hold are refused as well. */
MX_API int mx_image_max_pixels(int64_t *out_pixels);
/* Set that limit (pixels > 0, else MX_ERR_INVALID_ARGUMENT). */
MX_API int mx_image_set_max_pixels(int64_t pixels);

/* ---------------------------------------------------------------- data iterators */

typedef struct mx_dataiter_s *mx_dataiter_t;

/* Iterator by MXNet name: "CSVIter", "MNISTIter", "ImageRecordIter", with MXNet's arguments as a
 * JSON object (shapes as arrays or "(3,28,28)" strings), e.g. {"data_csv": "d.csv",
 * "data_shape": [3], "batch_size": 4}. Unknown names and arguments fail. Caller owns. */
MX_API int mx_dataiter_new(const char *name, const char *params_json, mx_dataiter_t *out);
/* NDArrayIter over arrays (values are copied now): data/label arrays share the first axis;
 * names "data"/"softmax_label" (or "_<i>_data"... for several). last_batch_handle: "pad",
 * "discard" or "roll_over". label may be NULL with num_label 0. Caller owns. */
MX_API int mx_dataiter_new_arrays(int num_data, const mx_ndarray_t *data, int num_label,
                                  const mx_ndarray_t *label, int64_t batch_size, int shuffle,
                                  const char *last_batch_handle, mx_dataiter_t *out);
MX_API int mx_dataiter_free(mx_dataiter_t it);
/* Advance to the next batch; *out_has_next = 0 at the end of the epoch. */
MX_API int mx_dataiter_next(mx_dataiter_t it, int *out_has_next);
/* Start the next epoch. */
MX_API int mx_dataiter_reset(mx_dataiter_t it);
/* Arrays of the current batch: *out_arrays is a thread-local array of NEW handles (the caller
 * owns each), valid until the next mx_dataiter_data/label call on this thread. The arrays are
 * fresh for every batch: later batches never overwrite them. */
MX_API int mx_dataiter_data(mx_dataiter_t it, int *out_num, mx_ndarray_t **out_arrays);
MX_API int mx_dataiter_label(mx_dataiter_t it, int *out_num, mx_ndarray_t **out_arrays);
/* Number of padding samples at the end of the current batch. */
MX_API int mx_dataiter_pad(mx_dataiter_t it, int64_t *out_pad);
/* Instance indices of the current batch (batch_size entries). Borrowed from `it` until its
 * next mx_dataiter_next. */
MX_API int mx_dataiter_index(mx_dataiter_t it, int *out_num, const uint64_t **out_index);
/* {"data": [{"name": "data", "shape": [4, 3], "dtype": "float32"}], "label": [...]}.
 * Borrowed from `it`. */
MX_API int mx_dataiter_provide(mx_dataiter_t it, const char **out_json);

/* ---------------------------------------------------------------- KVStore (data-parallel) */

/* MXNet's KVStore. Keys are strings (front ends pass integer keys as decimal text). Values
 * pushed under one key are summed: over the arrays of one call ('local', 'device') and over
 * all workers of the job for 'dist_sync', 'dist_device_sync' and 'horovod' (an alias), which
 * reduce by allreduce over MPI (Horovod style: every worker holds the whole store; no server).
 * MPI (Open MPI's libmpi.so.40, or MX_MPI_LIBRARY) is loaded only when a dist type is created;
 * without it that fails with MX_ERR_UNSUPPORTED naming the library and the Debian package.
 * 'dist_async' is MX_ERR_UNSUPPORTED (no parameter server). Gradients of one push are fused
 * into buckets (bucket_bytes, default 25 MiB) reduced by one allreduce each. Collectives wait
 * at most `timeout` seconds (default 300, env MX_KVSTORE_TIMEOUT) for the other workers, then
 * fail with MX_ERR_IO (a dead worker never hangs the others). Every worker must make the same
 * collective calls (init, push, pushpull, broadcast, barrier) with the same keys, shapes and
 * dtypes; a mismatch is an error naming the key, on every worker. Only CPU arrays for now
 * (a NCCL backend for GPU arrays slots in behind the same calls). */
typedef struct mx_kvstore_s *mx_kvstore_t;

/* Caller owns; the first dist kvstore of a process initialises MPI (finalised at exit). */
MX_API int mx_kvstore_new(const char *type, mx_kvstore_t *out);
MX_API int mx_kvstore_free(mx_kvstore_t kv);
/* The type name, e.g. "dist_sync". Borrowed from `kv`. */
MX_API int mx_kvstore_type(mx_kvstore_t kv, const char **out_type);
MX_API int mx_kvstore_rank(mx_kvstore_t kv, int *out_rank);
MX_API int mx_kvstore_num_workers(mx_kvstore_t kv, int *out_num);
/* Store copies of `values` (keys must be new and distinct). Dist types: collective; rank 0's
 * values are broadcast, so every worker starts from the same values. */
MX_API int mx_kvstore_init(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values);
/* Sum the values of each key (a key may repeat: its arrays are summed), over workers for dist
 * types; with an optimizer set, update the stored value with that sum as gradient, else the
 * stored value becomes the sum. Collective for dist types. `priority` is accepted and ignored. */
MX_API int mx_kvstore_push(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                           int priority);
/* Copy stored values into `outs` (a key may repeat). Local, never collective. */
MX_API int mx_kvstore_pull(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *outs,
                           int priority);
/* push then pull, fused: an array pushed and pulled into itself under one key (no optimizer)
 * is reduced in place without a copy. */
MX_API int mx_kvstore_pushpull(mx_kvstore_t kv, int num, const char **keys,
                               const mx_ndarray_t *values, int num_out, const char **out_keys,
                               const mx_ndarray_t *outs, int priority);
/* Horovod's allreduce, in place: each array receives the sum over the arrays pushed under its
 * key in this call and over workers (dist types); keys must be initialised (their shape and
 * dtype are checked on every worker), and the stored values are NOT changed, so nothing is
 * copied into the store. The optimizer, if any, is not run. Collective for dist types. */
MX_API int mx_kvstore_allreduce(mx_kvstore_t kv, int num, const char **keys,
                                const mx_ndarray_t *values, int priority);
/* init then pull (dist: rank 0's values reach every worker's `outs`). */
MX_API int mx_kvstore_broadcast(mx_kvstore_t kv, int num, const char **keys,
                                const mx_ndarray_t *values, int num_out, const char **out_keys,
                                const mx_ndarray_t *outs, int priority);
/* For each key, the rows of the stored value listed in row_ids[i] (any integer or float dtype)
 * into outs[i] (row_sparse, or dense with the other rows zero). Local, never collective. */
MX_API int mx_kvstore_row_sparse_pull(mx_kvstore_t kv, int num, const char **keys,
                                      const mx_ndarray_t *outs, const mx_ndarray_t *row_ids,
                                      int priority);
/* Run `opt` on pushes (update_on_kvstore). The kvstore shares the optimizer (its states and
 * counts are the ones mx_optimizer_* see); freeing `opt` afterwards is allowed. Integer keys
 * are the optimizer's indices; other keys use the index the optimizer's idx2name gives them. */
MX_API int mx_kvstore_set_optimizer(mx_kvstore_t kv, mx_optimizer_t opt);
/* The optimizer state file of mx_optimizer_save_states / load. MX_ERR_INVALID_ARGUMENT when no
 * optimizer is set. */
MX_API int mx_kvstore_save_optimizer_states(mx_kvstore_t kv, const char *path);
MX_API int mx_kvstore_load_optimizer_states(mx_kvstore_t kv, const char *path);
/* Collective: returns when every worker has reached it. */
MX_API int mx_kvstore_barrier(mx_kvstore_t kv);
/* MXNet's compression_params as JSON: {"type": "2bit", "threshold": 0.5}. Not for 'local'. */
MX_API int mx_kvstore_set_gradient_compression(mx_kvstore_t kv, const char *params_json);
/* Settings: "bucket_bytes" (number), "timeout" (seconds), "overlap" (true/false: see
 * mx_kvstore_allreduce_grads). value_json is JSON text. */
MX_API int mx_kvstore_set_config(mx_kvstore_t kv, const char *key, const char *value_json);
/* {"type","backend","device_backend" (null, or "nccl" once GPU arrays were reduced),"rank",
 * "num_workers","bucket_bytes","gradient_compression","optimizer",...}.
 * Borrowed from `kv` until its next call. */
MX_API int mx_kvstore_config(mx_kvstore_t kv, const char **out_json);

/* ---------------------------------------------------------------- CUDA backend (GPU devices) */
/* Whether this libmx has the CUDA backend (*out_compiled 1/0), how many GPUs it can use, and,
 * when that is 0, why (*out_reason: "this build of MX has no CUDA backend ...", "no NVIDIA
 * driver: libcuda.so.1 could not be loaded ...", "no CUDA-capable GPU is present ..."; "" when
 * GPUs are usable). Any out pointer may be NULL. The reason is borrowed and static. Never fails
 * for lack of a GPU: the probe runs once, on the first call. */
MX_API int mx_gpu_status(int *out_compiled, int *out_count, const char **out_reason);
/* Free and total bytes of GPU dev_id as the driver reports them (MXNet's gpu_memory_info).
 * MX_ERR_UNSUPPORTED naming the reason when gpu(dev_id) is not usable. */
MX_API int mx_gpu_memory_info(int dev_id, uint64_t *out_free, uint64_t *out_total);
/* MX's caching pool on GPU dev_id: bytes in arrays now (*out_in_use) and bytes taken from the
 * driver (*out_reserved; kept for reuse until mx_gpu_empty_cache). */
MX_API int mx_gpu_pool_stats(int dev_id, uint64_t *out_in_use, uint64_t *out_reserved);
/* Wait for dev_id's work, then give the pool's unused memory back to the driver. */
MX_API int mx_gpu_empty_cache(int dev_id);
/* ---------------------------------------------------------------- CPU kernels: oneDNN and threads
 * (docs/ONEDNN.md) */

/* *out_built: 1 when this libmx has oneDNN kernels (convolution ...); *out_enabled: 1 when they
 * run now; *out_calls: oneDNN primitives run since load (reorders not counted; shows which ops
 * took the oneDNN path). Any pointer may be NULL. */
MX_API int mx_onednn_status(int *out_built, int *out_enabled, int64_t *out_calls);
/* Use (1) or bypass (0) the oneDNN kernels from now on (process-wide; bypassed, MX's own kernels
 * run). Default: on when built, off when the environment has MX_ONEDNN=0 at load. Enabling in a
 * build without oneDNN is MX_ERR_UNSUPPORTED. */
MX_API int mx_onednn_set_enabled(int enabled);
/* Number of threads the CPU kernels use now (mx_set_num_threads; default: MX_NUM_THREADS, else
 * OMP_NUM_THREADS, else the CPUs this process may run on). */
MX_API int mx_get_num_threads(int *out_num_threads);

/* ---------------------------------------------------------------- sparse storage (csr, row_sparse) */
/* MXNet's storage types; the numbers are those in MXNet's .params files. A sparse array's shape
 * (mx_ndarray_shape) is its logical dense shape and its dtype is that of its values. Functions
 * that read or write dense memory (mx_ndarray_copy_to/_from, _data, _reshape, _slice, dlpack,
 * executors, ...) refuse sparse arrays with MX_ERR_UNSUPPORTED; operators accept them (ops
 * without a sparse kernel densify their sparse inputs and return dense results). */
typedef enum mx_stype {
  MX_STYPE_DEFAULT = 0,
  MX_STYPE_ROW_SPARSE = 1,
  MX_STYPE_CSR = 2
} mx_stype;

/* Parts of a sparse array. row_sparse: DATA [nnz_rows, shape[1:]...] values and INDICES
 * [nnz_rows] int64 row numbers (strictly increasing). csr (2-d): DATA [nnz] values, INDPTR
 * [rows+1] int64 row offsets (0 first, non-decreasing, nnz last), INDICES [nnz] int64 column
 * numbers (strictly increasing within each row). */
typedef enum mx_sparse_part {
  MX_SPARSE_DATA = 0,
  MX_SPARSE_INDICES = 1,
  MX_SPARSE_INDPTR = 2
} mx_sparse_part;

/* Storage type of `arr` (an mx_stype). */
MX_API int mx_ndarray_stype(mx_ndarray_t arr, int *out_stype);
/* A new sparse array of logical `shape` from its parts (dense arrays on one device; indices
 * of any integer dtype are converted to int64, the values keep their dtype). row_sparse takes
 * num_parts 2: {data, indices}; csr takes 3: {data, indptr, indices}. The parts are validated
 * (bounds, order, counts: MX_ERR_INVALID_ARGUMENT / MX_ERR_SHAPE) and copied, so the caller
 * keeps its handles. The result is owned by the caller. */
MX_API int mx_ndarray_sparse_new(int stype, const int64_t *shape, int ndim, int num_parts,
                                 const mx_ndarray_t *parts, mx_ndarray_t *out);
/* A part (mx_sparse_part) of a sparse array, as a new dense handle owned by the caller that
 * shares the part's memory. MX_ERR_INVALID_ARGUMENT for a dense array or a part its storage
 * type lacks (row_sparse has no INDPTR). */
MX_API int mx_ndarray_sparse_part(mx_ndarray_t arr, int part, mx_ndarray_t *out);
/* Convert to storage type `stype` (a new array owned by the caller; a copy even when the type
 * is unchanged). Dense to sparse keeps the non-zero rows (row_sparse) or elements (csr). */
MX_API int mx_ndarray_cast_storage(mx_ndarray_t arr, int stype, mx_ndarray_t *out);

/* ---------------------------------------------------------------- executor graph passes */
/* The bound executor's steps in run order, as JSON: [{"op":"_fused_Convolution_relu",
 * "backward":false}, ...]. Shows what the bind-time graph passes made of the symbol (e.g. a
 * Convolution or FullyConnected followed by relu runs as one "_fused_<op>_relu" step; the
 * environment variable MX_EXEC_FUSION=0 at bind turns that off). Borrowed: valid until the next
 * call of this function on the same thread. */
MX_API int mx_executor_steps(mx_executor_t exec, const char **out_json);

/* ---------------------------------------------------------------- graphs derived from graphs
 * (MXNet 1.x API semantics outside operators: autograd.get_symbol, Symbol.__call__) */
/* The recorded computation that produced `head` (which must have been computed under
 * autograd.record()), as a new symbol owned by the caller: op nodes are named "node_<k>", marked
 * variables "var<k>", unrecorded inputs "null<k>". MX_ERR_INVALID_ARGUMENT when `head` is not
 * recorded; MX_ERR_UNSUPPORTED when the recording passes through a hybridized block. */
MX_API int mx_autograd_get_symbol(mx_ndarray_t head, mx_symbol_t *out);
/* An independent copy of `metric` (same kind, arguments and statistics), owned by the caller
 * (MXNet metrics are deep-copied, e.g. by copy.deepcopy). */
MX_API int mx_metric_copy(mx_metric_t metric, mx_metric_t *out);
/* A copy of `sym` (a new symbol owned by the caller; `sym` is unchanged) whose argument
 * variables are replaced: the first `num_positional` arguments (list_arguments order) by
 * `positional`, and the arguments named `names` by `named` (each a one-output symbol; all
 * handles are borrowed). `name` (may be NULL) renames the head node when `sym` is one op applied
 * to variables. MX_ERR_INVALID_ARGUMENT for a name that is not an argument, an argument given
 * twice, too many positional inputs or a multi-output replacement. */
MX_API int mx_symbol_substitute(mx_symbol_t sym, int num_positional, const mx_symbol_t *positional,
                                int num_named, const char **names, const mx_symbol_t *named,
                                const char *name, mx_symbol_t *out);

/* ---------------------------------------------------------------- sparse storage in graphs (issue 14, round 3) */
/* Per argument (MX_LIST_ARGUMENTS order), the storage type the executor inferred for its
 * gradient from the bound arrays' storage types: 0 default, 1 row_sparse, 2 csr, -1 where no
 * gradient is computed (e.g. 1 for w in dot(csr, w), as MXNet 1.9.1). A gradient array of another
 * storage type receives the converted value. *out_stypes is thread-local, valid until the next
 * call of this function on this thread. */
MX_API int mx_executor_grad_stypes(mx_executor_t exec, int *out_num, const int **out_stypes);
/* ---------------------------------------------------------------- array versions and oneDNN's
 * weight cache (docs/ONEDNN.md) */
/* The version of the storage `arr` views: it changes whenever its bytes may have changed (every
 * write path: op outputs, in-place ops, optimizer updates, copies, loads, kvstore pulls; also any
 * read that takes a mutable pointer). For storage whose pointer was handed out (mx_ndarray_data,
 * DLPack export or import) it changes on every call. 0 for sparse arrays. */
MX_API int mx_ndarray_version(mx_ndarray_t arr, uint64_t *out_version);
/* oneDNN weights reused in their blocked layout (*out_hits) and reordered afresh (*out_misses)
 * since load; 0 and 0 in a build without oneDNN. Either pointer may be NULL. */
MX_API int mx_onednn_weight_cache_stats(int64_t *out_hits, int64_t *out_misses);

/* ---------------------------------------------------------------- kvstore: gradient reduction
 * overlapped with backward (dist types, more than one worker). A trainer calls these once per
 * step instead of mx_kvstore_allreduce / mx_kvstore_pushpull, with the gradient arrays that
 * backward writes (arguments as there; same results, bit for bit). The first call reduces
 * synchronously and registers the arrays; during the next backward each fusion bucket is
 * reduced on a communication thread as soon as backward has written all its gradients, and the
 * next call sends the rest and waits. Dense arrays, one per key, no gradient compression;
 * otherwise, or with overlap off (the default; on with mx_kvstore_set_config "overlap" true or
 * the environment variable MX_KVSTORE_OVERLAP=1, alike on every worker), they are the plain
 * calls. Collective. */
MX_API int mx_kvstore_allreduce_grads(mx_kvstore_t kv, int num, const char **keys,
                                      const mx_ndarray_t *values, int priority);
MX_API int mx_kvstore_pushpull_grads(mx_kvstore_t kv, int num, const char **keys,
                                     const mx_ndarray_t *values, int num_out, const char **out_keys,
                                     const mx_ndarray_t *outs, int priority);
/* Completes the reductions a backward started for the registered gradients (then they hold the
 * sums over workers; does nothing when no backward ran since the last step). Call before
 * reading gradients between backward and the step; collective in that case. */
MX_API int mx_kvstore_overlap_sync(mx_kvstore_t kv);

/* ---------------------------------------------------------------- kvstore: NCCL for GPU arrays
 * The dist types reduce GPU arrays with NCCL (libnccl.so.2, opened at run time: MX_NCCL_LIBRARY,
 * the loader's path, or site-packages/nvidia/nccl/lib beside an installed mx, from `pip install
 * nvidia-nccl-cu13`). Whether it can be loaded (*out_available 1/0) and *out_message: "NCCL
 * 2.x.y (path)" or why not, naming what to install or set. Either pointer may be NULL; the message
 * is borrowed and static. Does not fail for lack of NCCL. */
MX_API int mx_kvstore_nccl_status(int *out_available, const char **out_message);

#ifdef __cplusplus
}
#endif

#endif /* MX_C_API_H_ */
