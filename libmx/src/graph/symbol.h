// Symbolic graphs: nodes (variables or op applications) linked by output entries. A Symbol is a
// list of output entries. Layout and JSON follow MXNet's `-symbol.json` schema.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ops/registry.h"

namespace mx {

struct GraphNode;

struct NodeEntry {
  std::shared_ptr<GraphNode> node;
  int index = 0;
  int version = 0;
};

struct GraphNode {
  const OpDef *op = nullptr;  // nullptr: a variable
  std::string name;
  std::shared_ptr<const Params> params;   // op parameters (op nodes)
  std::map<std::string, std::string> attrs;  // node attributes: __shape__, __init__, __lr_mult__, ...
  std::vector<NodeEntry> inputs;           // regular inputs, then aux states
  bool is_variable() const { return op == nullptr; }
  int num_outputs() const { return op ? op->num_outputs(*params) : 1; }
  int num_visible_outputs() const { return op ? op->num_visible_outputs(*params) : 1; }
  size_t num_regular_inputs() const { return inputs.size() - (op ? op->aux_names.size() : 0); }
};

class Symbol {
 public:
  std::vector<NodeEntry> outputs;

  static Symbol variable(const std::string &name, const std::map<std::string, std::string> &attrs = {});
  // Apply an op. `inputs` may name some inputs by position (args) or by input name (kwargs);
  // missing ones become variables "<name>_<input>" (e.g. fc1_weight), as MXNet does.
  static Symbol compose(const OpDef *op, std::shared_ptr<const Params> params, const std::string &name,
                        const std::vector<Symbol> &args, const std::vector<std::pair<std::string, Symbol>> &kwargs,
                        const std::map<std::string, std::string> &attrs = {});
  static Symbol group(const std::vector<Symbol> &syms);

  // Nodes in topological order (inputs before users), each once.
  std::vector<std::shared_ptr<GraphNode>> topo_nodes() const;
  std::vector<std::string> list_arguments() const;
  std::vector<std::string> list_auxiliary_states() const;
  std::vector<std::string> list_outputs() const;
  std::vector<std::string> list_inputs() const;  // arguments and aux states, in graph order
  Symbol get_internals() const;
  Symbol get_output(int index) const;

  std::string to_json() const;
  static Symbol from_json(const std::string &json);  // throws MX_ERR_FORMAT / MX_ERR_INVALID_ARGUMENT
};

// Variable nodes in graph order, split into arguments and aux states (and all of them).
void graph_inputs(const Symbol &s, std::vector<std::shared_ptr<GraphNode>> *args,
                  std::vector<std::shared_ptr<GraphNode>> *aux, std::vector<std::shared_ptr<GraphNode>> *all);

// Shape and dtype inference over a whole graph. `known` maps input names (arguments and aux) to
// shapes; unknown entries stay unknown with partial=true, else it fails naming what is missing.
struct GraphShapes {
  std::vector<Shape> args, aux, outputs;
  bool complete = false;
};
GraphShapes infer_graph_shapes(const Symbol &sym, const std::map<std::string, Shape> &known, bool partial);
struct GraphTypes {
  std::vector<int> args, aux, outputs;
  bool complete = false;
};
GraphTypes infer_graph_types(const Symbol &sym, const std::map<std::string, int> &known, bool partial);

// Automatic names: "<lowercased op>N" counted per op name (thread-local), like MXNet's NameManager.
std::string auto_node_name(const std::string &op_name);
void reset_auto_names();

}  // namespace mx
