#include "graph/symbol.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/json.h"

namespace mx {

namespace {
thread_local std::map<std::string, int> t_name_counts;

std::string output_name(const GraphNode &n, int i) {
  if (n.is_variable()) return n.name;
  int nout = n.num_visible_outputs();
  const auto &names = n.op->output_names;
  if (nout == 1) return n.name + "_" + (names.empty() ? "output" : names[0]);
  if (static_cast<int>(names.size()) == n.num_outputs()) return n.name + "_" + names[static_cast<size_t>(i)];
  return n.name + "_output" + std::to_string(i);
}

// A variable's "__shape__" attribute, e.g. "(4, 3)" (0 marks an unknown dim). Attributes come
// from user code and files: a malformed one is a format error naming the variable and the value.
Shape parse_shape_attr(const std::string &var, const std::string &text) {
  std::vector<int64_t> d;
  try {
    parse_value(text, &d);
  } catch (const std::invalid_argument &e) {
    fail(MX_ERR_FORMAT, "variable '", var, "': attribute __shape__ has value '", text,
         "', which is not a shape (a tuple of non-negative integers such as (4, 3)): ", e.what());
  }
  for (int64_t x : d)
    MX_CHECK(x >= 0, MX_ERR_FORMAT, "variable '", var, "': attribute __shape__ has value '", text,
             "' with a negative dimension ", x);
  return Shape(d);
}
}  // namespace

std::string auto_node_name(const std::string &op_name) {
  std::string base;
  for (char c : op_name) base += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int n = t_name_counts[base]++;
  return base + std::to_string(n);
}

void reset_auto_names() { t_name_counts.clear(); }

Symbol Symbol::variable(const std::string &name, const std::map<std::string, std::string> &attrs) {
  MX_CHECK(!name.empty(), MX_ERR_INVALID_ARGUMENT, "Variable: name must not be empty");
  auto n = std::make_shared<GraphNode>();
  n->name = name;
  n->attrs = attrs;
  Symbol s;
  s.outputs.push_back(NodeEntry{n, 0, 0});
  return s;
}

Symbol Symbol::compose(const OpDef *op, std::shared_ptr<const Params> params, const std::string &name_in,
                       const std::vector<Symbol> &args, const std::vector<std::pair<std::string, Symbol>> &kwargs,
                       const std::map<std::string, std::string> &attrs) {
  std::string name = name_in.empty() ? auto_node_name(op->name) : name_in;
  auto n = std::make_shared<GraphNode>();
  n->op = op;
  n->name = name;
  n->params = params;
  n->attrs = attrs;
  auto single = [&](const Symbol &s, const std::string &what) {
    MX_CHECK(s.outputs.size() == 1, MX_ERR_INVALID_ARGUMENT, op->name, " '", name, "': input '", what,
             "' is a group of ", s.outputs.size(), " outputs; pick one");
    return s.outputs[0];
  };
  if (op->variadic) {
    MX_CHECK(kwargs.empty(), MX_ERR_INVALID_ARGUMENT, op->name, " '", name,
             "': variadic inputs must be passed positionally");
    for (size_t i = 0; i < args.size(); ++i) n->inputs.push_back(single(args[i], "arg" + std::to_string(i)));
  } else {
    std::vector<std::string> names = op->inputs(*params);
    for (auto &a : op->aux_names) names.push_back(a);
    MX_CHECK(args.size() <= names.size(), MX_ERR_INVALID_ARGUMENT, op->name, " '", name, "': takes ",
             names.size(), " inputs but ", args.size(), " were given");
    std::set<std::string> used;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i < args.size()) {
        n->inputs.push_back(single(args[i], names[i]));
        continue;
      }
      bool found = false;
      for (auto &kv : kwargs)
        if (kv.first == names[i]) {
          n->inputs.push_back(single(kv.second, names[i]));
          used.insert(kv.first);
          found = true;
          break;
        }
      if (!found) n->inputs.push_back(variable(name + "_" + names[i]).outputs[0]);
    }
    for (auto &kv : kwargs)
      MX_CHECK(used.count(kv.first), MX_ERR_INVALID_ARGUMENT, op->name, " '", name, "': unknown input '",
               kv.first, "'");
  }
  Symbol s;
  int nvis = n->num_visible_outputs();
  for (int i = 0; i < nvis; ++i) s.outputs.push_back(NodeEntry{n, i, 0});
  return s;
}

Symbol Symbol::group(const std::vector<Symbol> &syms) {
  Symbol s;
  for (auto &x : syms) s.outputs.insert(s.outputs.end(), x.outputs.begin(), x.outputs.end());
  return s;
}

std::vector<std::shared_ptr<GraphNode>> Symbol::topo_nodes() const {
  std::vector<std::shared_ptr<GraphNode>> order;
  std::unordered_set<const GraphNode *> done, on_stack;
  // Iterative post-order DFS; inputs are visited in order so argument lists match MXNet's.
  for (auto &head : outputs) {
    if (done.count(head.node.get())) continue;
    std::vector<std::pair<std::shared_ptr<GraphNode>, size_t>> stack{{head.node, 0}};
    on_stack.insert(head.node.get());
    while (!stack.empty()) {
      auto &top = stack.back();
      if (top.second < top.first->inputs.size()) {
        std::shared_ptr<GraphNode> next = top.first->inputs[top.second++].node;
        if (done.count(next.get())) continue;
        MX_CHECK(!on_stack.count(next.get()), MX_ERR_INVALID_ARGUMENT, "graph has a cycle through node '",
                 next->name, "'");
        on_stack.insert(next.get());
        stack.emplace_back(next, 0);
      } else {
        done.insert(top.first.get());
        on_stack.erase(top.first.get());
        order.push_back(top.first);
        stack.pop_back();
      }
    }
  }
  return order;
}

void graph_inputs(const Symbol &s, std::vector<std::shared_ptr<GraphNode>> *args,
                  std::vector<std::shared_ptr<GraphNode>> *aux, std::vector<std::shared_ptr<GraphNode>> *all) {
  auto nodes = s.topo_nodes();
  std::unordered_set<const GraphNode *> aux_set;
  for (auto &n : nodes) {
    if (n->is_variable()) continue;
    for (size_t i = n->num_regular_inputs(); i < n->inputs.size(); ++i)
      if (n->inputs[i].node->is_variable()) aux_set.insert(n->inputs[i].node.get());
  }
  for (auto &n : nodes) {
    if (!n->is_variable()) continue;
    if (all) all->push_back(n);
    if (aux_set.count(n.get())) {
      if (aux) aux->push_back(n);
    } else if (args) {
      args->push_back(n);
    }
  }
}

std::vector<std::string> Symbol::list_arguments() const {
  std::vector<std::shared_ptr<GraphNode>> v;
  graph_inputs(*this, &v, nullptr, nullptr);
  std::vector<std::string> out;
  for (auto &n : v) out.push_back(n->name);
  return out;
}

std::vector<std::string> Symbol::list_auxiliary_states() const {
  std::vector<std::shared_ptr<GraphNode>> v;
  graph_inputs(*this, nullptr, &v, nullptr);
  std::vector<std::string> out;
  for (auto &n : v) out.push_back(n->name);
  return out;
}

std::vector<std::string> Symbol::list_inputs() const {
  std::vector<std::shared_ptr<GraphNode>> v;
  graph_inputs(*this, nullptr, nullptr, &v);
  std::vector<std::string> out;
  for (auto &n : v) out.push_back(n->name);
  return out;
}

std::vector<std::string> Symbol::list_outputs() const {
  std::vector<std::string> out;
  for (auto &e : outputs) out.push_back(output_name(*e.node, e.index));
  return out;
}

Symbol Symbol::get_internals() const {
  Symbol s;
  for (auto &n : topo_nodes()) {
    int k = n->num_visible_outputs();
    for (int i = 0; i < k; ++i) s.outputs.push_back(NodeEntry{n, i, 0});
  }
  return s;
}

Symbol Symbol::get_output(int index) const {
  MX_CHECK(index >= 0 && static_cast<size_t>(index) < outputs.size(), MX_ERR_INVALID_ARGUMENT,
           "symbol output index ", index, " is out of range (the symbol has ", outputs.size(), " outputs)");
  Symbol s;
  s.outputs.push_back(outputs[static_cast<size_t>(index)]);
  return s;
}

std::string Symbol::to_json() const {
  auto nodes = topo_nodes();
  std::unordered_map<const GraphNode *, int> id;
  Json jnodes = Json::array(), arg_nodes = Json::array(), row_ptr = Json::array(), heads = Json::array();
  int rows = 0;
  row_ptr.push(0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const GraphNode &n = *nodes[i];
    id[&n] = static_cast<int>(i);
    Json jn = Json::object();
    jn.set("op", n.is_variable() ? "null" : n.op->name);
    jn.set("name", n.name);
    Json attrs = Json::object();
    if (!n.is_variable())
      for (auto &kv : n.params->given) attrs.set(kv.first, kv.second);
    for (auto &kv : n.attrs) attrs.set(kv.first, kv.second);
    if (attrs.size()) jn.set("attrs", attrs);
    Json ins = Json::array();
    for (auto &e : n.inputs) {
      Json t = Json::array();
      t.push(id.at(e.node.get()));
      t.push(e.index);
      t.push(e.version);
      ins.push(t);
    }
    jn.set("inputs", ins);
    jnodes.push(jn);
    if (n.is_variable()) arg_nodes.push(static_cast<int>(i));
    rows += n.num_outputs();
    row_ptr.push(rows);
  }
  for (auto &e : outputs) {
    Json t = Json::array();
    t.push(id.at(e.node.get()));
    t.push(e.index);
    t.push(e.version);
    heads.push(t);
  }
  Json root = Json::object();
  root.set("nodes", jnodes);
  root.set("arg_nodes", arg_nodes);
  root.set("node_row_ptr", row_ptr);
  root.set("heads", heads);
  Json ver = Json::array();
  ver.push("int");
  ver.push(10901);  // the MXNet version whose loader we target
  Json gattrs = Json::object();
  gattrs.set("mxnet_version", ver);
  root.set("attrs", gattrs);
  return root.dump(2);
}

Symbol Symbol::from_json(const std::string &text) {
  Json root = Json::parse(text);
  MX_CHECK(root.is_object() && root["nodes"].is_array() && root["heads"].is_array(), MX_ERR_FORMAT,
           "symbol JSON: expected an object with 'nodes' and 'heads' arrays");
  const auto &jnodes = root["nodes"].items();
  std::vector<std::shared_ptr<GraphNode>> nodes;
  nodes.reserve(jnodes.size());
  for (size_t i = 0; i < jnodes.size(); ++i) {
    const Json &jn = jnodes[i];
    MX_CHECK(jn.is_object() && jn["op"].is_string() && jn["name"].is_string(), MX_ERR_FORMAT,
             "symbol JSON: node ", i, " lacks 'op' or 'name'");
    auto n = std::make_shared<GraphNode>();
    n->name = jn["name"].as_string();
    const std::string &opname = jn["op"].as_string();
    // MXNet 0.x wrote op parameters under "param" and node attributes under "attr"; 1.x merges
    // both into "attrs".
    Kwargs kw;
    for (const char *key : {"param", "attr", "attrs"}) {
      const Json &a = jn[key];
      if (!a.is_object()) continue;
      for (auto &kv : a.members()) {
        std::string v = kv.second.is_string() ? kv.second.as_string() : kv.second.dump();
        bool dunder = kv.first.size() > 4 && kv.first.compare(0, 2, "__") == 0 &&
                      kv.first.compare(kv.first.size() - 2, 2, "__") == 0;
        if (dunder || opname == "null") n->attrs[kv.first] = v;
        else kw.emplace_back(kv.first, v);
      }
    }
    if (opname != "null") {
      n->op = Registry::get().find(opname);
      MX_CHECK(n->op != nullptr, MX_ERR_INVALID_ARGUMENT, "symbol JSON: node '", n->name,
               "' uses unknown operator '", opname, "'");
      n->params = parse_params(n->op, kw);
    }
    const Json &ins = jn["inputs"];
    if (!ins.is_null()) {
      MX_CHECK(ins.is_array(), MX_ERR_FORMAT, "symbol JSON: node '", n->name, "' has non-array inputs");
      for (auto &t : ins.items()) {
        MX_CHECK(t.is_array() && t.size() >= 2, MX_ERR_FORMAT, "symbol JSON: node '", n->name,
                 "' has a malformed input entry");
        int64_t nid = t.items()[0].as_int(), idx = t.items()[1].as_int();
        MX_CHECK(nid >= 0 && static_cast<size_t>(nid) < i, MX_ERR_FORMAT, "symbol JSON: node '", n->name,
                 "' reads node ", nid, ", which is not defined before it (a cycle or a bad node order)");
        const auto &src = nodes[static_cast<size_t>(nid)];
        MX_CHECK(idx >= 0 && idx < src->num_outputs(), MX_ERR_FORMAT, "symbol JSON: node '", n->name,
                 "' reads output ", idx, " of '", src->name, "', which has ", src->num_outputs(), " outputs");
        n->inputs.push_back(NodeEntry{src, static_cast<int>(idx), t.size() > 2 ? static_cast<int>(t.items()[2].as_int()) : 0});
      }
    }
    if (n->op) {
      size_t want = n->op->variadic ? n->inputs.size() : n->op->inputs(*n->params).size() + n->op->aux_names.size();
      if (n->op->variadic && !n->op->variadic_count_param.empty()) {
        int idx = n->op->params.find(n->op->variadic_count_param);
        if (idx >= 0) {
          int64_t cnt = 0;
          parse_value(n->op->params.fields[static_cast<size_t>(idx)].get(n->params->data.get()), &cnt);
          want = static_cast<size_t>(cnt) + n->op->aux_names.size();
        }
      }
      MX_CHECK(n->inputs.size() == want, MX_ERR_FORMAT, "symbol JSON: node '", n->name, "' (", opname, ") has ",
               n->inputs.size(), " inputs but the operator takes ", want);
    }
    nodes.push_back(n);
  }
  Symbol s;
  for (auto &t : root["heads"].items()) {
    MX_CHECK(t.is_array() && t.size() >= 2, MX_ERR_FORMAT, "symbol JSON: malformed head entry");
    int64_t nid = t.items()[0].as_int(), idx = t.items()[1].as_int();
    MX_CHECK(nid >= 0 && static_cast<size_t>(nid) < nodes.size(), MX_ERR_FORMAT, "symbol JSON: head refers to node ",
             nid, " of ", nodes.size());
    MX_CHECK(idx >= 0 && idx < nodes[static_cast<size_t>(nid)]->num_outputs(), MX_ERR_FORMAT,
             "symbol JSON: head reads output ", idx, " of '", nodes[static_cast<size_t>(nid)]->name, "'");
    s.outputs.push_back(NodeEntry{nodes[static_cast<size_t>(nid)], static_cast<int>(idx), 0});
  }
  MX_CHECK(!s.outputs.empty(), MX_ERR_FORMAT, "symbol JSON: no heads");
  return s;
}

// ---------------------------------------------------------------- inference
namespace {
template <typename V, typename Fn>
void infer_graph(const Symbol &sym, std::map<std::pair<const GraphNode *, int>, V> &val, Fn node_fn,
                 std::function<bool(const V &)> known) {
  auto nodes = sym.topo_nodes();
  // Forward passes propagate outputs; ops also fill inputs they can deduce (weights), which a
  // later pass may use. Stop when nothing changes.
  for (size_t pass = 0; pass < nodes.size() + 1; ++pass) {
    bool changed = false;
    for (auto &n : nodes) {
      if (n->is_variable()) continue;
      std::vector<V> in, aux, out(static_cast<size_t>(n->num_outputs()));
      size_t nreg = n->num_regular_inputs();
      for (size_t i = 0; i < n->inputs.size(); ++i) {
        auto &e = n->inputs[i];
        (i < nreg ? in : aux).push_back(val[{e.node.get(), e.index}]);
      }
      for (size_t i = 0; i < out.size(); ++i) out[i] = val[{n.get(), static_cast<int>(i)}];
      try {
        node_fn(*n, in, aux, out);
      } catch (const Error &err) {
        fail(err.status(), "node '", n->name, "' (", n->op->name, "): ", err.what());
      }
      for (size_t i = 0; i < n->inputs.size(); ++i) {
        auto &e = n->inputs[i];
        V &slot = val[{e.node.get(), e.index}];
        const V &v = i < nreg ? in[i] : aux[i - nreg];
        if (!known(slot) && known(v)) { slot = v; changed = true; }
      }
      for (size_t i = 0; i < out.size(); ++i) {
        V &slot = val[{n.get(), static_cast<int>(i)}];
        if (!known(slot) && known(out[i])) { slot = out[i]; changed = true; }
      }
    }
    if (!changed) break;
  }
}
}  // namespace

GraphShapes infer_graph_shapes(const Symbol &sym, const std::map<std::string, Shape> &known, bool partial) {
  std::map<std::pair<const GraphNode *, int>, Shape> val;
  std::vector<std::shared_ptr<GraphNode>> args, aux;
  graph_inputs(sym, &args, &aux, nullptr);
  std::set<std::string> input_names;
  for (auto *list : {&args, &aux})
    for (auto &n : *list) {
      input_names.insert(n->name);
      auto it = known.find(n->name);
      if (it != known.end()) {
        val[{n.get(), 0}] = it->second;
      } else {
        auto a = n->attrs.find("__shape__");
        if (a != n->attrs.end()) {
          Shape s = parse_shape_attr(n->name, a->second);
          bool full = true;
          for (int64_t d : s.dims()) full = full && d > 0;  // 0 marks an unknown dim
          if (full) val[{n.get(), 0}] = s;
        }
      }
    }
  for (auto &kv : known)
    MX_CHECK(input_names.count(kv.first), MX_ERR_INVALID_ARGUMENT, "infer_shape: '", kv.first,
             "' is not an input of the symbol");
  infer_graph<Shape>(sym, val,
                     [](const GraphNode &n, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
                       bool all_in = true;
                       for (auto &s : in) all_in = all_in && s.known();
                       if (!n.op->infer_shape) return;
                       n.op->infer_shape(*n.params, in, aux, out);
                       (void)all_in;
                     },
                     [](const Shape &s) { return s.known(); });
  GraphShapes r;
  r.complete = true;
  auto take = [&](const std::shared_ptr<GraphNode> &n, int i, std::vector<Shape> &dst, const char *what) {
    Shape s = val[{n.get(), i}];
    if (!s.known()) {
      r.complete = false;
      MX_CHECK(partial, MX_ERR_SHAPE, "infer_shape: cannot infer the shape of ", what, " '",
               n->is_variable() ? n->name : n->name + "' output " + std::to_string(i),
               n->is_variable() ? "'; give it explicitly" : "");
    }
    dst.push_back(s);
  };
  for (auto &n : args) take(n, 0, r.args, "argument");
  for (auto &n : aux) take(n, 0, r.aux, "auxiliary state");
  for (auto &e : sym.outputs) take(e.node, e.index, r.outputs, "output of");
  return r;
}

GraphTypes infer_graph_types(const Symbol &sym, const std::map<std::string, int> &known, bool partial) {
  std::map<std::pair<const GraphNode *, int>, int> val;
  std::vector<std::shared_ptr<GraphNode>> args, aux;
  graph_inputs(sym, &args, &aux, nullptr);
  for (auto *list : {&args, &aux})
    for (auto &n : *list) {
      auto it = known.find(n->name);
      int t = -1;
      if (it != known.end()) {
        t = it->second;
      } else {
        auto a = n->attrs.find("__dtype__");
        if (a != n->attrs.end()) {
          int64_t code = -1;
          try {
            parse_value(a->second, &code);
          } catch (const std::invalid_argument &) {
            try {
              code = static_cast<int64_t>(dtype_from_name(a->second));
            } catch (const Error &) {
              code = -2;
            }
          }
          MX_CHECK(code >= 0 && code <= INT32_MAX && dtype_valid(static_cast<int>(code)), MX_ERR_FORMAT,
                   "variable '", n->name, "': attribute __dtype__ has value '", a->second,
                   "', which is neither a dtype code nor a dtype name");
          t = static_cast<int>(code);
        }
      }
      val[{n.get(), 0}] = t;
    }
  // Mark unset entries as unknown (-1) rather than value-initialised 0 (float32).
  for (auto &n : sym.topo_nodes())
    for (int i = 0; i < n->num_outputs(); ++i)
      if (!val.count({n.get(), i})) val[{n.get(), i}] = -1;
  infer_graph<int>(sym, val,
                   [](const GraphNode &n, TypeVec &in, TypeVec &aux, TypeVec &out) {
                     if (n.op->infer_type) n.op->infer_type(*n.params, in, aux, out);
                     else infer_type_same(*n.params, in, aux, out);
                   },
                   [](const int &t) { return t >= 0; });
  GraphTypes r;
  r.complete = true;
  auto take = [&](const std::shared_ptr<GraphNode> &n, int i, std::vector<int> &dst) {
    int t = val[{n.get(), i}];
    if (t < 0) {
      r.complete = false;
      MX_CHECK(partial, MX_ERR_TYPE, "infer_type: cannot infer the dtype of '", n->name, "'");
    }
    dst.push_back(t);
  };
  for (auto &n : args) take(n, 0, r.args);
  for (auto &n : aux) take(n, 0, r.aux);
  for (auto &e : sym.outputs) take(e.node, e.index, r.outputs);
  return r;
}

}  // namespace mx
