// Operator registry access and imperative invocation.
#include <mutex>
#include <unordered_map>

#include "api/api_util.h"
#include "ops/imperative.h"

using namespace mx;

namespace {
thread_local std::vector<mx_ndarray_t> t_outputs;
}

extern "C" {

int mx_op_count(int *out_count) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_count);
  *out_count = static_cast<int>(Registry::get().ops().size());
  MX_API_END();
}

int mx_op_name(int index, const char **out_name) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_name);
  const auto &ops = Registry::get().ops();
  MX_CHECK(index >= 0 && static_cast<size_t>(index) < ops.size(), MX_ERR_INVALID_ARGUMENT, "op index ",
           index, " is out of range [0, ", ops.size(), ")");
  *out_name = ops[static_cast<size_t>(index)]->name.c_str();
  MX_API_END();
}

int mx_op_find(const char *name, mx_op_t *out_op) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(name);
  MX_REQUIRE_PTR(out_op);
  *out_op = reinterpret_cast<mx_op_t>(const_cast<OpDef *>(&Registry::get().require(name)));
  MX_API_END();
}

int mx_op_schema(mx_op_t op, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  const OpDef *def = op_of(op);
  static std::mutex mu;
  static auto *cache = new std::unordered_map<const OpDef *, std::string>();
  std::lock_guard<std::mutex> g(mu);
  auto it = cache->find(def);
  if (it == cache->end()) it = cache->emplace(def, def->schema_json()).first;
  *out_json = it->second.c_str();
  MX_API_END();
}

int mx_params_new(mx_op_t op, int num_params, const char **keys, const char **values, mx_params_t *out_params) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_params);
  MX_CHECK(num_params >= 0, MX_ERR_INVALID_ARGUMENT, "num_params must be >= 0");
  MX_CHECK(num_params == 0 || (keys && values), MX_ERR_INVALID_ARGUMENT, "keys or values is NULL");
  Kwargs kw;
  for (int i = 0; i < num_params; ++i) {
    MX_CHECK(keys[i] && values[i], MX_ERR_INVALID_ARGUMENT, "parameter ", i, " has a NULL key or value");
    kw.emplace_back(keys[i], values[i]);
  }
  *out_params = new mx_params_s{parse_params(op_of(op), kw)};
  MX_API_END();
}

int mx_params_free(mx_params_t params) {
  MX_API_BEGIN();
  delete params;
  MX_API_END();
}

int mx_params_json(mx_params_t params, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(params);
  MX_REQUIRE_PTR(out_json);
  auto *p = const_cast<Params *>(params->p.get());
  if (p->json_cache.empty()) p->json_cache = p->json();
  *out_json = p->json_cache.c_str();
  MX_API_END();
}

namespace {
std::shared_ptr<const Params> params_or_default(const OpDef *def, mx_params_t params) {
  if (params) {
    MX_CHECK(params->p->op == def, MX_ERR_INVALID_ARGUMENT, "parameters were parsed for ",
             params->p->op->name, " but are used with ", def->name);
    return params->p;
  }
  return def->default_params();
}
std::vector<NDArray> gather(int n, const mx_ndarray_t *arrs, const char *what) {
  MX_CHECK(n >= 0, MX_ERR_INVALID_ARGUMENT, "negative number of ", what);
  MX_CHECK(n == 0 || arrs, MX_ERR_INVALID_ARGUMENT, what, " is NULL");
  std::vector<NDArray> v;
  v.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    MX_CHECK(arrs[i] != nullptr, MX_ERR_INVALID_ARGUMENT, what, "[", i, "] is a NULL handle");
    v.push_back(arrs[i]->arr);
  }
  return v;
}
}  // namespace

int mx_op_invoke(mx_op_t op, mx_params_t params, int num_inputs, const mx_ndarray_t *inputs, int num_out,
                 const mx_ndarray_t *out, int *out_num_outputs, mx_ndarray_t **out_outputs) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num_outputs);
  const OpDef *def = op_of(op);
  auto p = params_or_default(def, params);
  std::vector<NDArray> in = gather(num_inputs, inputs, "inputs");
  if (num_out > 0) {
    std::vector<NDArray> o = gather(num_out, out, "out");
    std::vector<NDArray> res = invoke(def, p, in, &o);
    // A recorded op makes `out` its output; an unrecorded write (an update w -= lr * w.grad)
    // keeps what `out` was to autograd, so a variable stays marked, as in MXNet.
    for (int i = 0; i < num_out; ++i)
      if (res[static_cast<size_t>(i)].ag()) out[i]->arr.ag() = res[static_cast<size_t>(i)].ag();
    *out_num_outputs = num_out;
    if (out_outputs) *out_outputs = nullptr;
  } else {
    MX_REQUIRE_PTR(out_outputs);
    std::vector<NDArray> res = invoke(def, p, in, nullptr);
    t_outputs.clear();
    for (auto &r : res) t_outputs.push_back(new_handle(std::move(r)));
    *out_num_outputs = static_cast<int>(t_outputs.size());
    *out_outputs = t_outputs.data();
  }
  MX_API_END();
}

int mx_op_invoke1(mx_op_t op, mx_params_t params, int num_inputs, const mx_ndarray_t *inputs, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  const OpDef *def = op_of(op);
  auto p = params_or_default(def, params);
  std::vector<NDArray> res = invoke(def, p, gather(num_inputs, inputs, "inputs"), nullptr);
  MX_CHECK(res.size() == 1, MX_ERR_INVALID_ARGUMENT, def->name, " has ", res.size(),
           " outputs; use mx_op_invoke");
  *out = new_handle(std::move(res[0]));
  MX_API_END();
}

int mx_op_invoke_ab(mx_op_t op, mx_params_t params, mx_ndarray_t a, mx_ndarray_t b, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  const OpDef *def = op_of(op);
  auto p = params_or_default(def, params);
  thread_local std::vector<NDArray> in;  // reused: keeps its capacity between calls
  in.clear();
  in.push_back(any_arr_of(a, "a"));  // sparse inputs too: invoke dispatches on storage types
  if (b) in.push_back(b->arr);
  std::vector<NDArray> res = invoke(def, p, in, nullptr);
  in.clear();
  MX_CHECK(res.size() == 1, MX_ERR_INVALID_ARGUMENT, def->name, " has ", res.size(),
           " outputs; use mx_op_invoke");
  *out = new_handle(std::move(res[0]));
  MX_API_END();
}

}  // extern "C"
