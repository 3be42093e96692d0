// Shared by the C API translation units: handle layouts and the guard that turns every C++
// exception into a status code plus the thread-local message.
#pragma once
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "base/error.h"
#include "ndarray/ndarray.h"
#include "ops/registry.h"

struct mx_ndarray_s {
  mx::NDArray arr;
};
struct mx_params_s {
  std::shared_ptr<const mx::Params> p;
};

namespace mx {

int set_last_error(int status, const char *func, const std::string &msg);
void clear_last_error();

inline mx_ndarray_t new_handle(NDArray a) { return new mx_ndarray_s{std::move(a)}; }
// Dense arrays only: functions that read or write dense memory. A sparse array is refused with
// MX_ERR_UNSUPPORTED naming its storage type (ndarray/sparse.h).
[[noreturn]] void fail_sparse(const NDArray &a, const char *what);
inline const NDArray &arr_of(mx_ndarray_t h, const char *what) {
  if (!h) fail(MX_ERR_INVALID_ARGUMENT, what, " is a NULL array handle");
  if (h->arr.is_sparse()) fail_sparse(h->arr, what);
  return h->arr;
}
// Any storage type: functions that handle sparse arrays too.
inline const NDArray &any_arr_of(mx_ndarray_t h, const char *what) {
  if (!h) fail(MX_ERR_INVALID_ARGUMENT, what, " is a NULL array handle");
  return h->arr;
}
inline const OpDef *op_of(mx_op_t op) {
  if (!op) fail(MX_ERR_INVALID_ARGUMENT, "NULL op handle");
  return reinterpret_cast<const OpDef *>(op);
}
#define MX_REQUIRE_PTR(p) MX_CHECK((p) != nullptr, MX_ERR_INVALID_ARGUMENT, #p " is NULL")

}  // namespace mx

#define MX_API_BEGIN() try {
#define MX_API_END()                                                                   \
  }                                                                                    \
  catch (const ::mx::Error &e) {                                                       \
    return ::mx::set_last_error(e.status(), __func__, e.what());                       \
  }                                                                                    \
  catch (const std::bad_alloc &) {                                                     \
    return ::mx::set_last_error(MX_ERR_OUT_OF_MEMORY, __func__, "out of memory");      \
  }                                                                                    \
  catch (const std::exception &e) {                                                    \
    return ::mx::set_last_error(MX_ERR_INTERNAL, __func__, e.what());                  \
  }                                                                                    \
  catch (...) {                                                                        \
    return ::mx::set_last_error(MX_ERR_INTERNAL, __func__, "unknown internal error");  \
  }                                                                                    \
  return MX_OK;
