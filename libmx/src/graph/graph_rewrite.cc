#include "graph/graph_rewrite.h"

#include <map>
#include <set>
#include <unordered_map>

#include "autograd/autograd.h"

namespace mx {

Symbol symbol_from_tape(const NDArray &head) {
  const std::shared_ptr<AGInfo> &hinfo = head.ag();
  MX_CHECK(hinfo != nullptr, MX_ERR_INVALID_ARGUMENT,
           "get_symbol: the array is not part of a recorded graph (compute it inside autograd.record() "
           "from arrays with attach_grad())");
  std::unordered_map<const AGNode *, std::shared_ptr<GraphNode>> nodes;
  std::unordered_map<const AGInfo *, std::shared_ptr<GraphNode>> vars;
  int n_nodes = 0, n_vars = 0;
  auto fresh_var = [&](const std::string &prefix) {
    auto v = std::make_shared<GraphNode>();
    v->name = prefix + std::to_string(n_vars++);
    return v;
  };
  // Iterative post-order over the tape so deep recordings do not exhaust the stack.
  auto entry_of = [&](const std::shared_ptr<AGInfo> &info) -> NodeEntry {
    if (!info) return NodeEntry{fresh_var("null"), 0, 0};
    if (!info->node) {
      auto &v = vars[info.get()];
      if (!v) v = fresh_var(info->is_variable ? "var" : "null");
      return NodeEntry{v, 0, 0};
    }
    return NodeEntry{nodes.at(info->node.get()), info->index, 0};
  };
  std::vector<std::pair<AGNode *, size_t>> stack;
  auto push = [&](const std::shared_ptr<AGInfo> &info) {
    if (info && info->node && !nodes.count(info->node.get())) {
      nodes[info->node.get()] = nullptr;  // visiting
      stack.emplace_back(info->node.get(), 0);
    }
  };
  push(hinfo);
  while (!stack.empty()) {
    AGNode *n = stack.back().first;
    size_t &next = stack.back().second;
    if (next < n->in_entries.size()) {
      push(n->in_entries[next++]);
      continue;
    }
    stack.pop_back();
    MX_CHECK(n->op != nullptr, MX_ERR_UNSUPPORTED, "get_symbol: the recording passes through ",
             n->taped ? n->taped->name() : std::string("a taped computation"),
             ", a hybridized block whose graph is not kept on the tape; call it without hybridize()");
    auto g = std::make_shared<GraphNode>();
    g->op = n->op;
    g->params = n->params;
    g->name = "node_" + std::to_string(n_nodes++);
    for (auto &e : n->in_entries) g->inputs.push_back(entry_of(e));
    for (size_t i = 0; i < n->op->aux_names.size(); ++i) g->inputs.push_back(NodeEntry{fresh_var("null"), 0, 0});
    nodes[n] = g;
  }
  Symbol s;
  s.outputs.push_back(entry_of(hinfo));
  return s;
}

Symbol substitute_variables(const Symbol &sym, const std::vector<Symbol> &positional,
                            const std::vector<std::pair<std::string, Symbol>> &named, const std::string &name) {
  std::vector<std::string> args = sym.list_arguments();
  MX_CHECK(positional.size() <= args.size(), MX_ERR_INVALID_ARGUMENT, "compose: ", positional.size(),
           " positional inputs given but the symbol has only ", args.size(), " arguments");
  std::map<std::string, NodeEntry> repl;
  auto single = [&](const Symbol &s, const std::string &what) {
    MX_CHECK(s.outputs.size() == 1, MX_ERR_INVALID_ARGUMENT, "compose: the input for '", what,
             "' is a group of ", s.outputs.size(), " outputs; pick one");
    return s.outputs[0];
  };
  for (size_t i = 0; i < positional.size(); ++i) repl[args[i]] = single(positional[i], args[i]);
  std::set<std::string> known(args.begin(), args.end());
  for (auto &kv : named) {
    if (!known.count(kv.first)) {
      std::string list;
      for (auto &a : args) list += (list.empty() ? "" : ", ") + a;
      fail(MX_ERR_INVALID_ARGUMENT, "compose: '", kv.first, "' is not an argument of the symbol (arguments: ",
           list, ")");
    }
    MX_CHECK(!repl.count(kv.first), MX_ERR_INVALID_ARGUMENT, "compose: argument '", kv.first,
             "' is given twice");
    repl[kv.first] = single(kv.second, kv.first);
  }
  // Copy every op node (in topological order) so the original symbol is left unchanged.
  std::unordered_map<const GraphNode *, std::shared_ptr<GraphNode>> copies;
  auto map_entry = [&](const NodeEntry &e) -> NodeEntry {
    if (e.node->is_variable()) {
      auto r = repl.find(e.node->name);
      if (r != repl.end()) return r->second;
      return e;
    }
    return NodeEntry{copies.at(e.node.get()), e.index, e.version};
  };
  std::vector<std::shared_ptr<GraphNode>> order = sym.topo_nodes();
  for (auto &n : order) {
    if (n->is_variable()) continue;
    auto c = std::make_shared<GraphNode>(*n);
    for (auto &in : c->inputs) in = map_entry(in);
    copies[n.get()] = c;
  }
  Symbol out;
  for (auto &e : sym.outputs) out.outputs.push_back(map_entry(e));
  if (!name.empty() && sym.outputs.size() >= 1) {
    const GraphNode *head = sym.outputs[0].node.get();
    bool atomic = !head->is_variable();
    for (auto &e : sym.outputs) atomic = atomic && e.node.get() == head;
    for (auto &in : atomic ? head->inputs : std::vector<NodeEntry>()) atomic = atomic && in.node->is_variable();
    if (atomic) copies.at(head)->name = name;
  }
  return out;
}

}  // namespace mx
