// Parameter initializers with Apache MXNet 1.x semantics (mx.init): the name-based dispatch of
// Initializer.__call__ (weight -> the initializer's rule, bias/beta -> 0, gamma -> 1, moving
// statistics, min/max, a variable's "__init__" attribute overriding all of it) and the weight
// rules of Zero, One, Constant, Uniform, Normal, Xavier, MSRAPrelu, Orthogonal, Bilinear,
// LSTMBias and Mixed. Random draws come from the CPU generator random_state(MX_CPU, 0), the
// stream the random ops use, so mx.random.seed(s) fixes initial weights in every front end.
#pragma once
#include <memory>
#include <string>

#include "base/json.h"
#include "ndarray/ndarray.h"

namespace mx {

class Initializer {
 public:
  virtual ~Initializer() = default;
  // Canonical description: ["name", {kwargs}] as MXNet's Initializer.dumps() writes it.
  virtual Json describe() const = 0;
  // The rule for *weight parameters (MXNet's _init_weight).
  virtual void init_weight(const std::string &name, const NDArray &arr) const = 0;
  // Initializer.__call__: attrs is the variable's attribute object (may be Null); an "__init__"
  // attribute names the initializer that fills arr by its weight rule.
  virtual void apply(const std::string &name, const Json &attrs, const NDArray &arr) const;
};

// Parse a description: ["xavier", {...}], {"name": "xavier", ...}, "xavier" (a JSON string) or
// a bare name. Throws MX_ERR_INVALID_ARGUMENT (unknown name, bad argument) / MX_ERR_FORMAT.
std::shared_ptr<Initializer> make_initializer(const std::string &text);
std::shared_ptr<Initializer> make_initializer(const Json &desc);

}  // namespace mx
