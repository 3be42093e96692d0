// Front-end implementations of the "Custom" operator, by op_type (see mx_custom_op_register).
#pragma once
#include <string>

#include "mx/c_api.h"

namespace mx {
void register_custom_op(const std::string &op_type, mx_custom_fn fn, void *user_data);
}  // namespace mx
