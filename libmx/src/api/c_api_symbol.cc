// Symbols and executors.
#include <memory>
#include <algorithm>
#include <set>

#include "api/api_util.h"
#include "base/file_util.h"
#include "base/json.h"
#include "graph/executor.h"
#include "graph/executor_tape.h"
#include "graph/graph_rewrite.h"

struct mx_symbol_s {
  mx::Symbol sym;
  std::vector<std::string> names;  // borrowed results of mx_symbol_list
  std::vector<const char *> name_ptrs;
  std::string text;  // borrowed results of the JSON functions
};
struct mx_executor_s {
  std::shared_ptr<mx::Executor> ex;  // shared with autograd nodes of taped calls
};

using namespace mx;

namespace {
thread_local std::vector<mx_ndarray_t> t_exec_arrays;

const Symbol &sym_of(mx_symbol_t s) {
  MX_CHECK(s != nullptr, MX_ERR_INVALID_ARGUMENT, "NULL symbol handle");
  return s->sym;
}
mx_symbol_t new_symbol(Symbol s) { return new mx_symbol_s{std::move(s), {}, {}, {}}; }
std::map<std::string, std::string> attr_map(int n, const char **keys, const char **values) {
  MX_CHECK(n >= 0 && (n == 0 || (keys && values)), MX_ERR_INVALID_ARGUMENT, "attribute keys or values are NULL");
  std::map<std::string, std::string> m;
  for (int i = 0; i < n; ++i) {
    MX_CHECK(keys[i] && values[i], MX_ERR_INVALID_ARGUMENT, "attribute ", i, " is NULL");
    m[keys[i]] = values[i];
  }
  return m;
}
GraphNode &single_node(const Symbol &s, const char *what) {
  MX_CHECK(s.outputs.size() == 1, MX_ERR_INVALID_ARGUMENT, what, ": the symbol is a group of ", s.outputs.size(),
           " outputs; select one first");
  return *s.outputs[0].node;
}
Json shape_json(const Shape &s) {
  if (!s.known()) return Json();
  Json a = Json::array();
  for (int64_t d : s.dims()) a.push(d);
  return a;
}
std::map<std::string, Shape> parse_known_shapes(const char *text) {
  std::map<std::string, Shape> known;
  if (!text || !*text) return known;
  Json j = Json::parse(text);
  MX_CHECK(j.is_object(), MX_ERR_INVALID_ARGUMENT, "shapes must be a JSON object of name -> list of ints");
  for (auto &kv : j.members()) {
    MX_CHECK(kv.second.is_array(), MX_ERR_INVALID_ARGUMENT, "shape of '", kv.first, "' must be a list of ints");
    std::vector<int64_t> d;
    for (auto &x : kv.second.items()) {
      int64_t v = x.as_int();
      MX_CHECK(v >= 0, MX_ERR_SHAPE, "shape of '", kv.first, "' has a negative dimension ", v);
      d.push_back(v);
    }
    known[kv.first] = Shape(d);
  }
  return known;
}
std::map<std::string, int> parse_known_types(const char *text) {
  std::map<std::string, int> known;
  if (!text || !*text) return known;
  Json j = Json::parse(text);
  MX_CHECK(j.is_object(), MX_ERR_INVALID_ARGUMENT, "dtypes must be a JSON object of name -> dtype name");
  for (auto &kv : j.members())
    known[kv.first] = kv.second.is_string() ? static_cast<int>(dtype_from_name(kv.second.as_string()))
                                            : static_cast<int>(kv.second.as_int());
  return known;
}
}  // namespace

extern "C" {

int mx_symbol_variable(const char *name, int num_attrs, const char **attr_keys, const char **attr_values,
                       mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(name);
  MX_REQUIRE_PTR(out);
  *out = new_symbol(Symbol::variable(name, attr_map(num_attrs, attr_keys, attr_values)));
  MX_API_END();
}

int mx_symbol_compose(mx_op_t op, mx_params_t params, const char *name, int num_args, const mx_symbol_t *args,
                      int num_kwargs, const char **kw_names, const mx_symbol_t *kw_args, int num_attrs,
                      const char **attr_keys, const char **attr_values, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  const OpDef *def = op_of(op);
  std::shared_ptr<const Params> p = params ? params->p : parse_params(def, {});
  MX_CHECK(p->op == def, MX_ERR_INVALID_ARGUMENT, "parameters were parsed for ", p->op->name, " but are used with ",
           def->name);
  MX_CHECK(num_args >= 0 && (num_args == 0 || args), MX_ERR_INVALID_ARGUMENT, "args is NULL");
  MX_CHECK(num_kwargs >= 0 && (num_kwargs == 0 || (kw_names && kw_args)), MX_ERR_INVALID_ARGUMENT,
           "kw_names or kw_args is NULL");
  std::vector<Symbol> a;
  for (int i = 0; i < num_args; ++i) a.push_back(sym_of(args[i]));
  std::vector<std::pair<std::string, Symbol>> kw;
  for (int i = 0; i < num_kwargs; ++i) {
    MX_REQUIRE_PTR(kw_names[i]);
    kw.emplace_back(kw_names[i], sym_of(kw_args[i]));
  }
  *out = new_symbol(Symbol::compose(def, p, name ? name : "", a, kw, attr_map(num_attrs, attr_keys, attr_values)));
  MX_API_END();
}

int mx_symbol_group(int num, const mx_symbol_t *symbols, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(num > 0 && symbols, MX_ERR_INVALID_ARGUMENT, "group: no symbols given");
  std::vector<Symbol> v;
  for (int i = 0; i < num; ++i) v.push_back(sym_of(symbols[i]));
  *out = new_symbol(Symbol::group(v));
  MX_API_END();
}

int mx_symbol_free(mx_symbol_t sym) {
  MX_API_BEGIN();
  delete sym;
  MX_API_END();
}

int mx_symbol_num_outputs(mx_symbol_t sym, int *out_num) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num);
  *out_num = static_cast<int>(sym_of(sym).outputs.size());
  MX_API_END();
}

int mx_symbol_get_output(mx_symbol_t sym, int index, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  *out = new_symbol(sym_of(sym).get_output(index));
  MX_API_END();
}

int mx_symbol_get_internals(mx_symbol_t sym, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  *out = new_symbol(sym_of(sym).get_internals());
  MX_API_END();
}

int mx_symbol_get_children(mx_symbol_t sym, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  // The inputs of each output's node, each node once (a group's outputs may share a node).
  Symbol s;
  std::set<const GraphNode *> seen;
  for (auto &e : sym_of(sym).outputs)
    if (seen.insert(e.node.get()).second) s.outputs.insert(s.outputs.end(), e.node->inputs.begin(), e.node->inputs.end());
  *out = s.outputs.empty() ? nullptr : new_symbol(s);
  MX_API_END();
}

int mx_symbol_list(mx_symbol_t sym, int kind, int *out_num, const char ***out_names) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_names);
  const Symbol &s = sym_of(sym);
  switch (kind) {
    case MX_LIST_ARGUMENTS: sym->names = s.list_arguments(); break;
    case MX_LIST_OUTPUTS: sym->names = s.list_outputs(); break;
    case MX_LIST_AUX_STATES: sym->names = s.list_auxiliary_states(); break;
    case MX_LIST_INPUTS: sym->names = s.list_inputs(); break;
    default: fail(MX_ERR_INVALID_ARGUMENT, "unknown list kind ", kind);
  }
  sym->name_ptrs.clear();
  for (auto &n : sym->names) sym->name_ptrs.push_back(n.c_str());
  *out_num = static_cast<int>(sym->names.size());
  *out_names = sym->name_ptrs.data();
  MX_API_END();
}

int mx_symbol_name(mx_symbol_t sym, const char **out_name) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_name);
  *out_name = single_node(sym_of(sym), "name").name.c_str();
  MX_API_END();
}

int mx_symbol_get_attr(mx_symbol_t sym, const char *key, const char **out_value) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(key);
  MX_REQUIRE_PTR(out_value);
  GraphNode &n = single_node(sym_of(sym), "attr");
  *out_value = nullptr;
  auto it = n.attrs.find(key);
  if (it != n.attrs.end()) {
    *out_value = it->second.c_str();
  } else if (n.params) {
    for (auto &kv : n.params->given)
      if (kv.first == key) {
        sym->text = kv.second;
        *out_value = sym->text.c_str();
      }
  }
  MX_API_END();
}

int mx_symbol_set_attr(mx_symbol_t sym, const char *key, const char *value) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(key);
  MX_REQUIRE_PTR(value);
  single_node(sym_of(sym), "set_attr").attrs[key] = value;
  MX_API_END();
}

int mx_symbol_list_attr(mx_symbol_t sym, int recursive, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  const Symbol &s = sym_of(sym);
  auto node_attrs = [](const GraphNode &n) {
    Json o = Json::object();
    if (n.params)
      for (auto &kv : n.params->given) o.set(kv.first, kv.second);
    for (auto &kv : n.attrs) o.set(kv.first, kv.second);
    return o;
  };
  Json out = Json::object();
  if (recursive) {
    for (auto &n : s.topo_nodes()) {
      Json a = node_attrs(*n);
      if (a.size()) out.set(n->name, a);
    }
  } else {
    out = node_attrs(single_node(s, "list_attr"));
  }
  sym->text = out.dump();
  *out_json = sym->text.c_str();
  MX_API_END();
}

int mx_symbol_to_json(mx_symbol_t sym, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  sym->text = sym_of(sym).to_json();
  *out_json = sym->text.c_str();
  MX_API_END();
}

int mx_symbol_from_json(const char *json, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(json);
  MX_REQUIRE_PTR(out);
  *out = new_symbol(Symbol::from_json(json));
  MX_API_END();
}

int mx_symbol_save(mx_symbol_t sym, const char *path) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  write_file_atomic(path, sym_of(sym).to_json());
  MX_API_END();
}

int mx_symbol_load(const char *path, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  MX_REQUIRE_PTR(out);
  std::string text = read_file(path, size_t(1) << 30);
  try {
    *out = new_symbol(Symbol::from_json(text));
  } catch (const Error &e) {
    fail(e.status(), "'", path, "': ", e.what());
  }
  MX_API_END();
}

int mx_symbol_infer_shape(mx_symbol_t sym, const char *known_json, int partial, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  GraphShapes r = infer_graph_shapes(sym_of(sym), parse_known_shapes(known_json), partial != 0);
  Json o = Json::object();
  for (auto pr : {std::make_pair("arg_shapes", &r.args), std::make_pair("out_shapes", &r.outputs),
                  std::make_pair("aux_shapes", &r.aux)}) {
    Json a = Json::array();
    for (auto &s : *pr.second) a.push(shape_json(s));
    o.set(pr.first, a);
  }
  o.set("complete", r.complete);
  sym->text = o.dump();
  *out_json = sym->text.c_str();
  MX_API_END();
}

int mx_symbol_infer_type(mx_symbol_t sym, const char *known_json, int partial, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  GraphTypes r = infer_graph_types(sym_of(sym), parse_known_types(known_json), partial != 0);
  Json o = Json::object();
  for (auto pr : {std::make_pair("arg_types", &r.args), std::make_pair("out_types", &r.outputs),
                  std::make_pair("aux_types", &r.aux)}) {
    Json a = Json::array();
    for (int t : *pr.second) a.push(t < 0 ? Json() : Json(dtype_name(static_cast<DType>(t))));
    o.set(pr.first, a);
  }
  o.set("complete", r.complete);
  sym->text = o.dump();
  *out_json = sym->text.c_str();
  MX_API_END();
}

int mx_executor_bind(mx_symbol_t sym, int dev_type, int dev_id, int num_args, const mx_ndarray_t *args,
                     const mx_ndarray_t *grads, const int *grad_reqs, int num_aux, const mx_ndarray_t *aux,
                     mx_executor_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(num_args >= 0 && (num_args == 0 || args), MX_ERR_INVALID_ARGUMENT, "args is NULL");
  MX_CHECK(num_aux >= 0 && (num_aux == 0 || aux), MX_ERR_INVALID_ARGUMENT, "aux is NULL");
  std::vector<NDArray> a, g, x;
  std::vector<int> r;
  for (int i = 0; i < num_args; ++i) {
    a.push_back(any_arr_of(args[i], "args[i]"));  // sparse inputs reach the ops' sparse kernels
    g.push_back(grads && grads[i] ? any_arr_of(grads[i], "grads[i]") : NDArray());  // row_sparse gradients too
    r.push_back(grads && grad_reqs ? grad_reqs[i] : MX_GRAD_NULL);
  }
  for (int i = 0; i < num_aux; ++i) x.push_back(arr_of(aux[i], "aux[i]"));
  *out = new mx_executor_s{std::make_shared<Executor>(sym_of(sym), Device{dev_type, dev_id}, a, g, r, x)};
  MX_API_END();
}

int mx_executor_simple_bind(mx_symbol_t sym, int dev_type, int dev_id, const char *shapes_json,
                            const char *types_json, int grad_req, const char *grad_reqs_json, mx_executor_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  const Symbol &s = sym_of(sym);
  Device dev{dev_type, dev_id};
  if (auto dyn = Executor::dynamic_shape_node(s))  // MXNet's simple_bind refuses these graphs too
    fail(MX_ERR_SHAPE, "simple_bind: node '", dyn->name, "' (", dyn->op->name, ") has an output shape that depends "
         "on its input values, so the graph cannot be allocated from shapes; use bind() with arrays (it runs such "
         "graphs node by node) or a hybridized Gluon block");
  GraphShapes shapes = infer_graph_shapes(s, parse_known_shapes(shapes_json), false);
  GraphTypes types = infer_graph_types(s, parse_known_types(types_json), true);
  std::map<std::string, int> reqs;
  if (grad_reqs_json && *grad_reqs_json) {
    Json f = Json::parse(grad_reqs_json);
    MX_CHECK(f.is_object(), MX_ERR_INVALID_ARGUMENT, "grad_reqs must be a JSON object of name -> grad_req");
    for (auto &kv : f.members()) {
      const std::string &v = kv.second.as_string();
      int r = v == "null" ? MX_GRAD_NULL : v == "write" ? MX_GRAD_WRITE : v == "inplace" ? MX_GRAD_INPLACE
              : v == "add" ? MX_GRAD_ADD : -1;
      MX_CHECK(r >= 0, MX_ERR_INVALID_ARGUMENT, "grad_req of '", kv.first, "' must be null, write or add, got '", v, "'");
      reqs[kv.first] = r;
    }
  }
  std::vector<std::string> arg_names = s.list_arguments();
  for (auto &kv : reqs)
    MX_CHECK(std::find(arg_names.begin(), arg_names.end(), kv.first) != arg_names.end(), MX_ERR_INVALID_ARGUMENT,
             "simple_bind: grad_req given for '", kv.first, "', which is not an argument");
  std::vector<NDArray> a, g, x;
  std::vector<int> r;
  for (size_t i = 0; i < arg_names.size(); ++i) {
    DType t = types.args[i] < 0 ? DType::f32 : static_cast<DType>(types.args[i]);
    NDArray arr(shapes.args[i], t, dev);
    arr.fill(0);
    a.push_back(arr);
    auto ri = reqs.find(arg_names[i]);
    int req = ri != reqs.end() ? ri->second : grad_req;
    r.push_back(req);
    if (req != MX_GRAD_NULL) {
      NDArray gr(shapes.args[i], t, dev);
      gr.fill(0);
      g.push_back(gr);
    } else {
      g.push_back(NDArray());
    }
  }
  for (size_t i = 0; i < shapes.aux.size(); ++i) {
    DType t = types.aux[i] < 0 ? DType::f32 : static_cast<DType>(types.aux[i]);
    NDArray arr(shapes.aux[i], t, dev);
    arr.fill(0);
    x.push_back(arr);
  }
  *out = new mx_executor_s{std::make_shared<Executor>(s, dev, a, g, r, x)};
  MX_API_END();
}

int mx_executor_grad_stypes(mx_executor_t exec, int *out_num, const int **out_stypes) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_stypes);
  static thread_local std::vector<int> buf;
  buf = exec->ex->grad_stypes();
  *out_num = static_cast<int>(buf.size());
  *out_stypes = buf.data();
  MX_API_END();
}

int mx_executor_free(mx_executor_t exec) {
  MX_API_BEGIN();
  delete exec;
  MX_API_END();
}

int mx_executor_forward(mx_executor_t exec, int is_train) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  exec->ex->forward(is_train != 0);
  MX_API_END();
}

int mx_executor_backward(mx_executor_t exec, int num, const mx_ndarray_t *head_grads, int is_train) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  std::vector<NDArray> hg;
  if (head_grads)
    for (int i = 0; i < num; ++i) hg.push_back(head_grads[i] ? arr_of(head_grads[i], "head_grads[i]") : NDArray());
  exec->ex->backward(hg, is_train != 0);
  MX_API_END();
}

int mx_executor_arrays(mx_executor_t exec, int kind, int *out_num, mx_ndarray_t **out_arrays) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_arrays);
  const Executor &ex = *exec->ex;
  const std::vector<NDArray> *v = nullptr;
  switch (kind) {
    case MX_EXEC_OUTPUTS: v = &ex.outputs(); break;
    case MX_EXEC_ARGS: v = &ex.args(); break;
    case MX_EXEC_GRADS: v = &ex.grads(); break;
    case MX_EXEC_AUX: v = &ex.aux(); break;
    default: fail(MX_ERR_INVALID_ARGUMENT, "unknown executor array kind ", kind);
  }
  t_exec_arrays.clear();
  for (auto &a : *v) t_exec_arrays.push_back(a.defined() ? new_handle(a) : nullptr);
  *out_num = static_cast<int>(t_exec_arrays.size());
  *out_arrays = t_exec_arrays.data();
  MX_API_END();
}

int mx_executor_forward_taped(mx_executor_t exec, int is_train, int num_inputs, const mx_ndarray_t *inputs,
                              const int *arg_index, int *out_num, mx_ndarray_t **out_arrays) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_arrays);
  MX_CHECK(num_inputs >= 0 && (num_inputs == 0 || (inputs && arg_index)), MX_ERR_INVALID_ARGUMENT,
           "mx_executor_forward_taped: inputs and arg_index must hold num_inputs entries");
  std::vector<NDArray> in;
  std::vector<int> idx(arg_index, arg_index + num_inputs);
  for (int i = 0; i < num_inputs; ++i) {
    MX_CHECK(inputs[i] != nullptr, MX_ERR_INVALID_ARGUMENT, "mx_executor_forward_taped: input ", i, " is NULL");
    in.push_back(any_arr_of(inputs[i], "inputs[i]"));  // csr inputs of hybridized blocks
  }
  std::vector<NDArray> outs = forward_taped(exec->ex, is_train != 0, in, idx);
  t_exec_arrays.clear();
  for (auto &o : outs) t_exec_arrays.push_back(new_handle(o));
  *out_num = static_cast<int>(t_exec_arrays.size());
  *out_arrays = t_exec_arrays.data();
  MX_API_END();
}

int mx_executor_steps(mx_executor_t exec, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  MX_REQUIRE_PTR(out_json);
  thread_local std::string json;
  Json a = Json::array();
  for (auto &s : exec->ex->step_ops()) {
    Json o = Json::object();
    o.set("op", s.first);
    o.set("backward", s.second);
    a.push(o);
  }
  json = a.dump();
  *out_json = json.c_str();
  MX_API_END();
}

int mx_executor_busy(mx_executor_t exec, int *out_flag) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  MX_REQUIRE_PTR(out_flag);
  *out_flag = exec->ex->busy_token() != 0;
  MX_API_END();
}

int mx_executor_memory(mx_executor_t exec, int64_t *out_planned_bytes, int64_t *out_unplanned_bytes) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(exec);
  if (out_planned_bytes) *out_planned_bytes = exec->ex->planned_bytes();
  if (out_unplanned_bytes) *out_unplanned_bytes = exec->ex->unplanned_bytes();
  MX_API_END();
}

}  // extern "C"

// ---------------------------------------------------------------- graphs derived from graphs
extern "C" {

int mx_autograd_get_symbol(mx_ndarray_t head, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  *out = new_symbol(mx::symbol_from_tape(any_arr_of(head, "get_symbol")));
  MX_API_END();
}

int mx_symbol_substitute(mx_symbol_t sym, int num_positional, const mx_symbol_t *positional,
                         int num_named, const char **names, const mx_symbol_t *named,
                         const char *name, mx_symbol_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(num_positional >= 0 && (num_positional == 0 || positional), MX_ERR_INVALID_ARGUMENT,
           "compose: positional inputs are NULL");
  MX_CHECK(num_named >= 0 && (num_named == 0 || (names && named)), MX_ERR_INVALID_ARGUMENT,
           "compose: named inputs are NULL");
  std::vector<Symbol> pos;
  for (int i = 0; i < num_positional; ++i) pos.push_back(sym_of(positional[i]));
  std::vector<std::pair<std::string, Symbol>> kw;
  for (int i = 0; i < num_named; ++i) {
    MX_CHECK(names[i] != nullptr, MX_ERR_INVALID_ARGUMENT, "compose: input name ", i, " is NULL");
    kw.emplace_back(names[i], sym_of(named[i]));
  }
  *out = new_symbol(substitute_variables(sym_of(sym), pos, kw, name ? name : ""));
  MX_API_END();
}

}  // extern "C"
