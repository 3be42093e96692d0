// Comparisons and logic as binary element-wise families: outputs 1/0 in the input dtype
// (MXNet 1.x), no gradient. Kept apart from elemwise_binary.cc to split its compile time.
#include "ops/elemwise_binary_family.h"

namespace mx {
namespace {

using namespace formula;

int register_comparisons() {
  auto logic = [](Family f, const std::string &n) {
    f.elemwise_names = {"_" + n};
    f.broadcast_names = {"broadcast_" + n};
    f.scalar_names = {"_" + n + "_scalar"};
    register_binary_family(f);
  };
  logic(binary_family<Equal>("equal", kNumericTypes), "equal");
  logic(binary_family<NotEqual>("not_equal", kNumericTypes), "not_equal");
  logic(binary_family<Greater>("greater", kNumericTypes), "greater");
  logic(binary_family<GreaterEqual>("greater_equal", kNumericTypes), "greater_equal");
  logic(binary_family<Lesser>("lesser", kNumericTypes), "lesser");
  logic(binary_family<LesserEqual>("lesser_equal", kNumericTypes), "lesser_equal");
  logic(binary_family<LogicalAnd>("logical_and", kNumericTypes), "logical_and");
  logic(binary_family<LogicalOr>("logical_or", kNumericTypes), "logical_or");
  logic(binary_family<LogicalXor>("logical_xor", kNumericTypes), "logical_xor");
  return 0;
}

const int registered = register_comparisons();

}  // namespace
}  // namespace mx
