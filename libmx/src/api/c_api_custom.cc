// C API: custom operators implemented by a front end.
#include "api/api_util.h"
#include "ops/custom_op.h"

extern "C" {

MX_API int mx_custom_op_register(const char *op_type, mx_custom_fn fn, void *user_data) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(op_type);
  mx::register_custom_op(op_type, fn, user_data);
  MX_API_END();
}

}  // extern "C"
