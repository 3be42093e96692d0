// Graphs derived from other graphs: the autograd tape as a symbol (MXNet's autograd.get_symbol)
// and a symbol with some of its variables replaced by other symbols (MXNet's Symbol.__call__).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "graph/symbol.h"
#include "ndarray/ndarray.h"

namespace mx {

// The recorded computation that produced `head` as a graph: op nodes "node_<k>", marked
// variables "var<k>", inputs that were not recorded (constants) "null<k>", as MXNet names them.
// Throws MX_ERR_INVALID_ARGUMENT when `head` is not recorded, MX_ERR_UNSUPPORTED when the tape
// holds a hybridized block's executor (its graph is not kept on the tape).
Symbol symbol_from_tape(const NDArray &head);

// A copy of `sym` in which argument variables are replaced: positional replacements follow
// list_arguments() order, named ones replace the variable of that name. Replacements must be
// single-output symbols; names that are not arguments are an error. A `name` renames the head
// node when `sym` is a single op applied to variables only (MXNet composes such "atomic" symbols).
Symbol substitute_variables(const Symbol &sym, const std::vector<Symbol> &positional,
                            const std::vector<std::pair<std::string, Symbol>> &named, const std::string &name);

}  // namespace mx
