#include "ops/registry.h"

#include <mutex>
#include <unordered_map>

#include "base/json.h"

namespace mx {

Registry &Registry::get() {
  static Registry *r = new Registry();  // never destroyed: ops may be looked up during exit
  return *r;
}

OpDef &Registry::add(const std::string &name) {
  auto *def = new OpDef();
  def->name = name;
  def->hidden = !name.empty() && name[0] == '_';
  by_name_[name] = def;
  ordered_.push_back(def);
  return *def;
}

void Registry::alias(const std::string &alias, OpDef *op) { by_name_[alias] = op; }

const OpDef *Registry::find(const std::string &name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const OpDef &Registry::require(const std::string &name) const {
  const OpDef *op = find(name);
  if (!op) fail(MX_ERR_INVALID_ARGUMENT, "unknown operator '", name, "'");
  return *op;
}

std::vector<std::string> OpDef::inputs(const Params &p) const {
  return input_names_fn ? input_names_fn(p) : input_names;
}
std::shared_ptr<const Params> OpDef::default_params() const {
  // Not std::call_once: some ops have no valid defaults (Pooling needs a kernel) and an
  // exception unwinding through pthread_once aborts under other unwinders (Julia's libunwind).
  // Every op call without parameters comes here: after the first success the read is one
  // acquire load (std::atomic_load on a shared_ptr took a global lock pool on each call).
  if (default_params_ready_.load(std::memory_order_acquire)) return default_params_;
  static std::mutex first_parse;
  std::lock_guard<std::mutex> hold(first_parse);
  if (default_params_ready_.load(std::memory_order_relaxed)) return default_params_;
  std::shared_ptr<const Params> p = parse_params(this, {});  // throws for invalid defaults; nothing is cached then
  default_params_ = p;
  default_params_ready_.store(true, std::memory_order_release);
  return p;
}

int OpDef::num_outputs(const Params &p) const {
  return num_outputs_fn ? num_outputs_fn(p) : static_cast<int>(output_names.size());
}
int OpDef::num_visible_outputs(const Params &p) const {
  return num_visible_outputs_fn ? num_visible_outputs_fn(p) : num_outputs(p);
}

std::string OpDef::schema_json() const {
  Json o = Json::object();
  o.set("name", name);
  Json al = Json::array();
  for (auto &a : aliases) al.push(a);
  o.set("aliases", al);
  o.set("doc", doc);
  Json in = Json::array();
  for (auto &i : input_names) in.push(i);
  o.set("inputs", in);
  o.set("inputs_depend_on_params", static_cast<bool>(input_names_fn));
  o.set("variadic_input", variadic);
  o.set("variadic_count_param", variadic_count_param);
  Json outs = Json::array();
  for (auto &i : output_names) outs.push(i);
  o.set("outputs", outs);
  o.set("num_outputs_depend_on_params", static_cast<bool>(num_outputs_fn) || static_cast<bool>(num_visible_outputs_fn));
  Json aux = Json::array();
  for (auto &a : aux_names) aux.push(a);
  o.set("aux", aux);
  Json ps = Json::array();
  for (auto &f : params.fields) {
    Json pj = Json::object();
    pj.set("name", f.name);
    pj.set("type", f.type);
    pj.set("required", f.required);
    pj.set("default", f.required ? Json() : Json(f.default_text));
    pj.set("doc", f.doc);
    Json ch = Json::array();
    for (auto &c : f.choices) ch.push(c);
    pj.set("choices", ch);
    ps.push(pj);
  }
  o.set("params", ps);
  Json dts = Json::array();
  for (auto t : dtypes) dts.push(dtype_name(t));
  o.set("dtypes", dts);
  Json gdts = Json::array();
  if (forward_gpu)
    for (auto t : gpu_dtypes) gdts.push(dtype_name(t));
  o.set("gpu_dtypes", gdts);  // computed natively only by the GPU kernel
  Json cdts = Json::array();
  for (auto t : cpu_dtypes) cdts.push(dtype_name(t));
  o.set("cpu_dtypes", cdts);  // taken directly only by the CPU kernel
  o.set("differentiable", differentiable);
  // Self-check facts for tests: every op must infer shapes, have a CPU kernel, and either a
  // gradient or an explicit non-differentiable mark.
  o.set("has_shape_inference", static_cast<bool>(infer_shape));
  o.set("has_cpu_kernel", static_cast<bool>(forward_cpu));
  o.set("has_gpu_kernel", static_cast<bool>(forward_gpu));
  o.set("has_gradient", static_cast<bool>(gradient));
  o.set("random", needs_rng);
  o.set("hidden", hidden);
  return o.dump();
}

std::vector<Var> GradBuilder::emit(const std::string &op, const Kwargs &kwargs,
                                   const std::vector<Var> &inputs) {
  const OpDef &def = Registry::get().require(op);
  return emit(&def, parse_params(&def, kwargs), inputs);
}

Shape broadcast_shapes(const Shape &a, const Shape &b, const char *op) {
  int n = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> d(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int ia = a.ndim() - n + i, ib = b.ndim() - n + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      fail(MX_ERR_SHAPE, op, ": shapes ", a.str(), " and ", b.str(), " cannot be broadcast together");
    d[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(d);
}

bool infer_type_same(const Params &p, TypeVec &in, TypeVec &aux, TypeVec &out) {
  int t = -1;
  for (int v : in) if (v >= 0) { t = v; break; }
  if (t < 0) for (int v : out) if (v >= 0) { t = v; break; }
  if (t < 0) return false;
  auto check = [&](TypeVec &vec, const char *what) {
    for (size_t i = 0; i < vec.size(); ++i) {
      if (vec[i] < 0) vec[i] = t;
      else if (vec[i] != t)
        fail(MX_ERR_TYPE, p.op ? p.op->name : "op", ": ", what, " ", i, " has dtype ",
             dtype_name(static_cast<DType>(vec[i])), " but ", dtype_name(static_cast<DType>(t)),
             " was expected (all inputs must share one dtype)");
    }
  };
  check(in, "input");
  check(aux, "aux state");
  check(out, "output");
  return true;
}

void assign_shape(Shape &slot, const Shape &known, const char *op, const std::string &what) {
  if (!known.known()) return;
  if (!slot.known()) {
    slot = known;
    return;
  }
  if (slot != known)
    fail(MX_ERR_SHAPE, op, ": ", what, " has shape ", slot.str(), " but ", known.str(), " was expected");
}

bool infer_shape_same(const Params &p, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
  const char *name = p.op ? p.op->name.c_str() : "op";
  // A reference, not a copy (no allocation per call): assign_shape writes only slots that are
  // still unknown, never the known one referred to, and the vectors do not grow.
  const Shape *known = nullptr;
  for (auto &x : in) if (x.known()) { known = &x; break; }
  if (!known) for (auto &x : out) if (x.known()) { known = &x; break; }
  if (!known) return false;
  const Shape &s = *known;
  // The message strings are built only when a slot is not already equal (imperative hot path).
  for (size_t i = 0; i < in.size(); ++i)
    if (!in[i].known()) in[i] = s;
    else if (in[i] != s) assign_shape(in[i], s, name, "input " + std::to_string(i));
  for (size_t i = 0; i < out.size(); ++i)
    if (!out[i].known()) out[i] = s;
    else if (out[i] != s) assign_shape(out[i], s, name, "output " + std::to_string(i));
  (void)aux;
  return true;
}

}  // namespace mx
