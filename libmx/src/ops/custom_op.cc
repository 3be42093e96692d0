// The "Custom" operator: MXNet's mx.operator.CustomOp, implemented by a front end. Every question
// the registry asks (inputs, outputs, shapes, dtypes) and every kernel call goes to the callback
// registered for the op's `op_type` (mx_custom_op_register), so custom ops run in imperative
// calls, autograd and the executor like any registered op. `_backward_Custom` runs the backward.
#include "ops/custom_op.h"

#include <map>
#include <mutex>

#include "api/api_util.h"
#include "base/json.h"
#include "ops/registry.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

struct CustomParam {
  std::string op_type;
  static void describe(ParamDecl<CustomParam> &d) {
    d.field("op_type", &CustomParam::op_type).required().doc("Name the custom operator was registered under.");
    d.open();  // every other key is the custom op's own parameter, passed through as a string
  }
};

struct Impl {
  mx_custom_fn fn = nullptr;
  void *user_data = nullptr;
};

std::mutex g_mutex;
std::map<std::string, Impl> g_impls;
// Answers to the LIST_* requests per op type, then per request and parameter set (the registry
// asks for them on hot paths); re-registering an op type drops its answers.
std::map<std::string, std::map<std::string, std::vector<std::string>>> g_lists;
// Registrations per op type: an answer computed across a re-registration is not cached.
std::map<std::string, uint64_t> g_generation;

Impl impl_of(const std::string &op_type) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_impls.find(op_type);
  MX_CHECK(it != g_impls.end(), MX_ERR_INVALID_ARGUMENT, "Custom: op_type '", op_type,
           "' is not registered in this process (register it first, e.g. with mx.operator.register)");
  return it->second;
}

std::string given_json(const Params &p) {
  Json o = Json::object();
  for (auto &kv : p.given) o.set(kv.first, kv.second);
  return o.dump();
}

// One request to the front end; returns its JSON answer (empty for the kernel requests).
std::string ask(const Params &p, mx_custom_request req, const std::string &in_json, std::vector<int> counts,
                std::vector<NDArray> arrays, bool is_train) {
  const std::string &op_type = p.get<CustomParam>().op_type;
  Impl impl = impl_of(op_type);
  std::vector<mx_ndarray_t> handles;
  handles.reserve(arrays.size());
  for (auto &a : arrays) handles.push_back(new_handle(a));  // owned by the callback from here on
  const char *answer = nullptr;
  const std::string params = given_json(p);
  int rc = impl.fn(impl.user_data, req, params.c_str(), in_json.c_str(), static_cast<int>(counts.size()),
                   counts.data(), handles.data(), is_train ? 1 : 0, &answer);
  MX_CHECK(rc == 0, MX_ERR_INVALID_ARGUMENT, "Custom op '", op_type, "': ", answer ? answer : "the callback failed");
  return answer ? answer : "";
}

// A copy, taken under the lock: re-registering the op type (another thread may) drops the cache.
std::vector<std::string> names(const Params &p, mx_custom_request req) {
  const std::string &op_type = p.get<CustomParam>().op_type;
  const std::string key = std::to_string(static_cast<int>(req)) + p.json();
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto &answers = g_lists[op_type];
    auto it = answers.find(key);
    if (it != answers.end()) return it->second;
    generation = g_generation[op_type];
  }
  Json j = Json::parse(ask(p, req, "null", {}, {}, false));
  MX_CHECK(j.is_array(), MX_ERR_INVALID_ARGUMENT, "Custom op '", p.get<CustomParam>().op_type,
           "': list_arguments/list_outputs must give a list of names");
  std::vector<std::string> v;
  for (auto &e : j.items()) v.push_back(e.as_string());
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_generation[op_type] == generation) g_lists[op_type][key] = v;
  return v;
}

int64_t count_of(const Params &p, mx_custom_request req) { return static_cast<int64_t>(names(p, req).size()); }

void check_no_aux(const Params &p) {
  MX_CHECK(names(p, MX_CUSTOM_LIST_AUXILIARY_STATES).empty(), MX_ERR_UNSUPPORTED, "Custom op '",
           p.get<CustomParam>().op_type, "': auxiliary states are not supported by MX's Custom operator");
}

Json shapes_json(const ShapeVec &v, size_t begin, size_t n) {
  Json a = Json::array();
  for (size_t i = begin; i < begin + n; ++i) {
    if (!v[i].known()) {
      a.push(Json());
      continue;
    }
    Json s = Json::array();
    for (int64_t d : v[i].dims()) s.push(d);
    a.push(s);
  }
  return a;
}

Shape shape_of(const Json &j, const char *op) {
  MX_CHECK(j.is_array(), MX_ERR_SHAPE, op, ": infer_shape must give a shape (list of ints) for every array");
  std::vector<int64_t> d;
  for (auto &e : j.items()) d.push_back(e.as_int());
  return Shape(d);
}

// Shapes of `n_in` inputs starting at in[in_begin] -> the callback's input and output shapes.
bool infer_shapes(const Params &p, ShapeVec &in, size_t in_begin, size_t n_in, std::vector<Shape> &ins,
                  std::vector<Shape> &outs) {
  for (size_t i = in_begin; i < in_begin + n_in; ++i)
    if (!in[i].known()) return false;
  const std::string op = "Custom op '" + p.get<CustomParam>().op_type + "'";
  Json ans = Json::parse(ask(p, MX_CUSTOM_INFER_SHAPE, shapes_json(in, in_begin, n_in).dump(), {}, {}, false));
  MX_CHECK(ans.is_object() && ans["in"].is_array() && ans["out"].is_array(), MX_ERR_SHAPE, op,
           ": infer_shape must return (in_shapes, out_shapes, aux_shapes)");
  for (auto &s : ans["in"].items()) ins.push_back(shape_of(s, op.c_str()));
  for (auto &s : ans["out"].items()) outs.push_back(shape_of(s, op.c_str()));
  MX_CHECK(ins.size() == n_in && static_cast<int64_t>(outs.size()) == count_of(p, MX_CUSTOM_LIST_OUTPUTS),
           MX_ERR_SHAPE, op, ": infer_shape returned ", ins.size(), " input and ", outs.size(),
           " output shapes for ", n_in, " inputs and ", count_of(p, MX_CUSTOM_LIST_OUTPUTS), " outputs");
  return true;
}

bool infer_types(const Params &p, const TypeVec &in, size_t in_begin, size_t n_in, std::vector<int> &ins,
                 std::vector<int> &outs) {
  Json a = Json::array();
  bool any = false;
  for (size_t i = in_begin; i < in_begin + n_in; ++i) {
    a.push(in[i]);
    any = any || in[i] >= 0;
  }
  if (!any) return false;
  Json ans = Json::parse(ask(p, MX_CUSTOM_INFER_TYPE, a.dump(), {}, {}, false));
  MX_CHECK(ans.is_object() && ans["in"].is_array() && ans["out"].is_array(), MX_ERR_TYPE, "Custom op '",
           p.get<CustomParam>().op_type, "': infer_type must return (in_types, out_types, aux_types)");
  for (auto &t : ans["in"].items()) ins.push_back(static_cast<int>(t.as_int()));
  for (auto &t : ans["out"].items()) outs.push_back(static_cast<int>(t.as_int()));
  return ins.size() == n_in && static_cast<int64_t>(outs.size()) == count_of(p, MX_CUSTOM_LIST_OUTPUTS);
}

std::vector<std::string> backward_inputs(const Params &p) {
  std::vector<std::string> v;
  for (auto &o : names(p, MX_CUSTOM_LIST_OUTPUTS)) v.push_back(o + "_grad");
  for (auto &i : names(p, MX_CUSTOM_LIST_ARGUMENTS)) v.push_back(i);
  for (auto &o : names(p, MX_CUSTOM_LIST_OUTPUTS)) v.push_back(o);
  return v;
}

const int registered = [] {
  MX_REGISTER_OP(Custom)
      .doc("Runs an operator implemented in a front end (Python: mx.operator.CustomOp registered with "
           "mx.operator.register) under the name 'op_type'; other parameters are passed to it as strings.")
      .params<CustomParam>()
      .inputs_fn([](const Params &p) {
        check_no_aux(p);
        return names(p, MX_CUSTOM_LIST_ARGUMENTS);
      })
      .num_outputs([](const Params &p) { return static_cast<int>(count_of(p, MX_CUSTOM_LIST_OUTPUTS)); })
      .dtypes(shape_detail::all_dtypes())
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        std::vector<Shape> ins, outs;
        if (!infer_shapes(p, in, 0, in.size(), ins, outs)) return false;
        const std::string op = "Custom op '" + p.get<CustomParam>().op_type + "'";
        for (size_t i = 0; i < in.size(); ++i) assign_shape(in[i], ins[i], op.c_str(), "input");
        for (size_t i = 0; i < out.size(); ++i) assign_shape(out[i], outs[i], op.c_str(), "output");
        return true;
      })
      .type([](const Params &p, TypeVec &in, TypeVec &, TypeVec &out) {
        std::vector<int> ins, outs;
        if (!infer_types(p, in, 0, in.size(), ins, outs)) return false;
        for (size_t i = 0; i < in.size(); ++i) in[i] = ins[i];
        for (size_t i = 0; i < out.size(); ++i) out[i] = outs[i];
        return true;
      })
      .cpu([](const OpCall &c) {
        std::vector<NDArray> arrays(c.inputs.begin(), c.inputs.end());
        arrays.insert(arrays.end(), c.outputs.begin(), c.outputs.end());
        ask(c.params, MX_CUSTOM_FORWARD, "null", {static_cast<int>(c.inputs.size()), static_cast<int>(c.outputs.size()), 0},
            arrays, c.is_train);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> ins(n.out_grads.begin(), n.out_grads.end());
        ins.insert(ins.end(), n.inputs.begin(), n.inputs.end());
        ins.insert(ins.end(), n.outputs.begin(), n.outputs.begin() + static_cast<long>(n.out_grads.size()));
        auto g = b.emit(&Registry::get().require("_backward_Custom"), n.params, ins);
        return std::vector<Var>(g.begin(), g.begin() + static_cast<long>(n.inputs.size()));
      });

  MX_REGISTER_OP(_backward_Custom)
      .doc("Backward of a Custom op: inputs (output gradients, inputs, outputs); outputs the input gradients.")
      .params<CustomParam>()
      .inputs_fn(backward_inputs)
      .num_outputs([](const Params &p) { return static_cast<int>(count_of(p, MX_CUSTOM_LIST_ARGUMENTS)); })
      .dtypes(shape_detail::all_dtypes())
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const size_t nout = static_cast<size_t>(count_of(p, MX_CUSTOM_LIST_OUTPUTS)), nin = out.size();
        for (size_t i = 0; i < nin; ++i) {
          if (!in[nout + i].known()) return false;
          assign_shape(out[i], in[nout + i], "_backward_Custom", "input gradient");
        }
        return true;
      })
      .type([](const Params &p, TypeVec &in, TypeVec &, TypeVec &out) {
        const size_t nout = static_cast<size_t>(count_of(p, MX_CUSTOM_LIST_OUTPUTS));
        for (size_t i = 0; i < out.size(); ++i) {
          if (in[nout + i] < 0) return false;
          out[i] = in[nout + i];
        }
        return true;
      })
      .cpu([](const OpCall &c) {
        const int nout = static_cast<int>(count_of(c.params, MX_CUSTOM_LIST_OUTPUTS)), nin = static_cast<int>(c.outputs.size());
        std::vector<NDArray> arrays(c.inputs.begin(), c.inputs.end());
        arrays.insert(arrays.end(), c.outputs.begin(), c.outputs.end());
        ask(c.params, MX_CUSTOM_BACKWARD, "null", {nout, nin, nout, nin, 0}, arrays, c.is_train);
      })
      .no_grad();
  return 0;
}();

}  // namespace

void register_custom_op(const std::string &op_type, mx_custom_fn fn, void *user_data) {
  MX_CHECK(!op_type.empty(), MX_ERR_INVALID_ARGUMENT, "mx_custom_op_register: op_type is empty");
  std::lock_guard<std::mutex> lock(g_mutex);
  // A new implementation may describe itself differently: forget cached answers for this type.
  g_lists.erase(op_type);
  ++g_generation[op_type];
  if (fn)
    g_impls[op_type] = Impl{fn, user_data};
  else
    g_impls.erase(op_type);
}

}  // namespace mx
