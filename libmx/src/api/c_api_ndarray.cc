// NDArray handles: creation, views, copies, host transfer.
#include <cstring>

#include "api/api_util.h"
#include "backends/gpu.h"

using namespace mx;

extern "C" {

int mx_ndarray_new(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_id, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(ndim >= 0 && ndim <= 32, MX_ERR_SHAPE, "ndim must be in [0, 32], got ", ndim);
  MX_CHECK(ndim == 0 || shape != nullptr, MX_ERR_INVALID_ARGUMENT, "shape is NULL");
  MX_CHECK(dtype_valid(dtype), MX_ERR_TYPE, "unknown dtype code ", dtype);
  MX_CHECK(dev_type == MX_CPU || dev_type == MX_GPU || dev_type == MX_CPU_PINNED, MX_ERR_INVALID_ARGUMENT,
           "unknown device type ", dev_type);
  Shape s(shape, ndim);  // dims and sizes are checked by the NDArray constructor, as everywhere
  *out = new_handle(NDArray(s, static_cast<DType>(dtype), Device{dev_type, dev_id}));
  MX_API_END();
}

int mx_ndarray_free(mx_ndarray_t arr) {
  MX_API_BEGIN();
  delete arr;
  MX_API_END();
}

int mx_ndarray_shape(mx_ndarray_t arr, int *out_ndim, const int64_t **out_shape) {
  MX_API_BEGIN();
  const NDArray &a = any_arr_of(arr, "arr");
  MX_REQUIRE_PTR(out_ndim);
  MX_REQUIRE_PTR(out_shape);
  *out_ndim = a.ndim();
  *out_shape = a.shape().data();
  MX_API_END();
}

int mx_ndarray_dtype(mx_ndarray_t arr, int *out_dtype) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_dtype);
  *out_dtype = static_cast<int>(any_arr_of(arr, "arr").dtype());
  MX_API_END();
}

int mx_ndarray_device(mx_ndarray_t arr, int *out_dev_type, int *out_dev_id) {
  MX_API_BEGIN();
  Device d = any_arr_of(arr, "arr").device();
  if (out_dev_type) *out_dev_type = d.type;
  if (out_dev_id) *out_dev_id = d.id;
  MX_API_END();
}

int mx_ndarray_size(mx_ndarray_t arr, int64_t *out_size) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_size);
  *out_size = any_arr_of(arr, "arr").size();
  MX_API_END();
}

int mx_ndarray_copy_from(mx_ndarray_t arr, const void *data, size_t nbytes) {
  MX_API_BEGIN();
  const NDArray &a = arr_of(arr, "arr");
  MX_CHECK(nbytes == a.nbytes(), MX_ERR_SHAPE, "got ", nbytes, " bytes but the array of shape ",
           a.shape().str(), " and dtype ", dtype_name(a.dtype()), " holds ", a.nbytes());
  MX_CHECK(data != nullptr || nbytes == 0, MX_ERR_INVALID_ARGUMENT, "data is NULL");
  if (!a.device().is_cpu()) gpu::copy(a.raw(), a.device(), data, Device(), nbytes);
  else if (nbytes) std::memcpy(a.raw(), data, nbytes);
  MX_API_END();
}

int mx_ndarray_copy_to(mx_ndarray_t arr, void *data, size_t nbytes) {
  MX_API_BEGIN();
  const NDArray &a = arr_of(arr, "arr");
  MX_CHECK(nbytes == a.nbytes(), MX_ERR_SHAPE, "buffer has ", nbytes, " bytes but the array of shape ",
           a.shape().str(), " and dtype ", dtype_name(a.dtype()), " holds ", a.nbytes());
  MX_CHECK(data != nullptr || nbytes == 0, MX_ERR_INVALID_ARGUMENT, "data is NULL");
  if (!a.device().is_cpu()) gpu::copy(data, Device(), a.craw(), a.device(), nbytes);  // waits
  else if (nbytes) std::memcpy(data, a.craw(), nbytes);  // a read: the version stays
  MX_API_END();
}

int mx_ndarray_data(mx_ndarray_t arr, void **out_data) {
  MX_API_BEGIN();
  const NDArray &a = arr_of(arr, "arr");
  MX_REQUIRE_PTR(out_data);
  MX_CHECK(a.device().is_cpu(), MX_ERR_UNSUPPORTED, "raw data pointers are only given for cpu arrays");
  *out_data = a.raw();
  // The caller may write through the pointer at any later time (R's glue does): no cached data
  // derived from this storage (oneDNN's blocked weights) is trusted from now on.
  if (a.storage()) a.storage()->mark_escaped();
  MX_API_END();
}

int mx_ndarray_version(mx_ndarray_t arr, uint64_t *out_version) {
  MX_API_BEGIN();
  const NDArray &a = arr_of(arr, "arr");
  MX_REQUIRE_PTR(out_version);
  *out_version = a.storage() ? a.storage()->version() : 0;
  MX_API_END();
}

int mx_ndarray_reshape(mx_ndarray_t arr, const int64_t *shape, int ndim, mx_ndarray_t *out) {
  MX_API_BEGIN();
  const NDArray &a = arr_of(arr, "arr");
  MX_REQUIRE_PTR(out);
  MX_CHECK(ndim >= 0 && ndim <= 32 && (ndim == 0 || shape), MX_ERR_SHAPE, "invalid ndim ", ndim);
  std::vector<int64_t> d(shape, shape + ndim);
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < ndim; ++i) {
    if (d[static_cast<size_t>(i)] == -1) {
      MX_CHECK(infer < 0, MX_ERR_SHAPE, "reshape: only one dimension may be -1");
      infer = i;
    } else {
      MX_CHECK(d[static_cast<size_t>(i)] >= 0, MX_ERR_SHAPE, "reshape: invalid dimension ", d[static_cast<size_t>(i)]);
      known *= d[static_cast<size_t>(i)];
    }
  }
  if (infer >= 0) {
    MX_CHECK(known > 0 && a.size() % known == 0, MX_ERR_SHAPE, "reshape: cannot view ", a.shape().str(),
             " with ", Shape(d).str());
    d[static_cast<size_t>(infer)] = a.size() / known;
  }
  *out = new_handle(a.reshape(Shape(d)));
  MX_API_END();
}

int mx_ndarray_slice(mx_ndarray_t arr, int64_t begin, int64_t end, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  *out = new_handle(arr_of(arr, "arr").slice(begin, end));
  MX_API_END();
}

int mx_ndarray_at(mx_ndarray_t arr, int64_t index, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  *out = new_handle(arr_of(arr, "arr").at(index));
  MX_API_END();
}

int mx_ndarray_copy(mx_ndarray_t src, mx_ndarray_t dst) {
  MX_API_BEGIN();
  any_arr_of(dst, "dst").assign(any_arr_of(src, "src"));
  MX_API_END();
}

int mx_ndarray_to_device(mx_ndarray_t arr, int dev_type, int dev_id, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(dev_type == MX_CPU || dev_type == MX_GPU || dev_type == MX_CPU_PINNED, MX_ERR_INVALID_ARGUMENT,
           "unknown device type ", dev_type);
  *out = new_handle(any_arr_of(arr, "arr").to(Device{dev_type, dev_id}));
  MX_API_END();
}

int mx_ndarray_detach(mx_ndarray_t arr, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  *out = new_handle(any_arr_of(arr, "arr").detach());
  MX_API_END();
}

int mx_ndarray_shares_memory(mx_ndarray_t a, mx_ndarray_t b, int *out_flag) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_flag);
  const NDArray &x = arr_of(a, "a"), &y = arr_of(b, "b");
  size_t x0 = x.offset(), x1 = x0 + x.nbytes(), y0 = y.offset(), y1 = y0 + y.nbytes();
  *out_flag = x.storage() == y.storage() && x0 < y1 && y0 < x1;
  MX_API_END();
}

// CPU work is synchronous; GPU work is queued on the device's streams: wait for that device
// (a kernel error since the last sync is reported here, naming the op).
int mx_ndarray_wait_to_read(mx_ndarray_t arr) {
  MX_API_BEGIN();
  Device d = any_arr_of(arr, "arr").device();
  if (!d.is_cpu()) gpu::synchronize(d.id);
  MX_API_END();
}

int mx_waitall(void) {
  MX_API_BEGIN();
  gpu::synchronize(-1);
  MX_API_END();
}

}  // extern "C"
