// C API: RecordIO, image codecs and data iterators (io/recordio, io/image_decode, io/data_iter).
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "api/api_util.h"
#include "base/json.h"
#include "io/data_iter.h"
#include "io/image_decode.h"
#include "io/recordio.h"

struct mx_recordio_s {
  std::unique_ptr<mx::io::RecordWriter> writer;
  std::unique_ptr<mx::io::RecordReader> reader;
  std::string buf;
};

struct mx_dataiter_s {
  std::unique_ptr<mx::io::DataIter> it;
  bool has_batch = false;
};

using namespace mx;

namespace {
mx_recordio_s *rec_of(mx_recordio_t h) {
  MX_CHECK(h != nullptr, MX_ERR_INVALID_ARGUMENT, "NULL RecordIO handle");
  return h;
}
io::DataIter *iter_of(mx_dataiter_t h) {
  MX_CHECK(h != nullptr && h->it, MX_ERR_INVALID_ARGUMENT, "NULL data iterator handle");
  return h->it.get();
}
void need_batch(mx_dataiter_t h) {
  MX_CHECK(h->has_batch, MX_ERR_INVALID_ARGUMENT,
           "no current batch: call mx_dataiter_next (and check has_next) first");
}
int export_arrays(const std::vector<NDArray> &arrs, int *out_num, mx_ndarray_t **out_arrays) {
  thread_local std::vector<mx_ndarray_t> handles;
  std::vector<mx_ndarray_t> hs;
  hs.reserve(arrs.size());
  try {
    for (const NDArray &a : arrs) hs.push_back(new_handle(a));
  } catch (...) {
    for (auto h : hs) delete h;
    throw;
  }
  handles.swap(hs);
  *out_num = int(handles.size());
  *out_arrays = handles.data();
  return MX_OK;
}
}  // namespace

extern "C" {

int mx_recordio_writer_new(const char *path, mx_recordio_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  MX_REQUIRE_PTR(out);
  auto h = std::make_unique<mx_recordio_s>();
  h->writer = std::make_unique<io::RecordWriter>(path);
  *out = h.release();
  MX_API_END();
}

int mx_recordio_write(mx_recordio_t rec, const void *data, size_t nbytes) {
  MX_API_BEGIN();
  auto *h = rec_of(rec);
  MX_CHECK(h->writer != nullptr, MX_ERR_INVALID_ARGUMENT, "mx_recordio_write: the handle is a reader");
  h->writer->write(data, nbytes);
  MX_API_END();
}

int mx_recordio_close(mx_recordio_t rec) {
  MX_API_BEGIN();
  auto *h = rec_of(rec);
  if (h->writer) h->writer->close();
  h->reader.reset();
  MX_API_END();
}

int mx_recordio_reader_new(const char *path, mx_recordio_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  MX_REQUIRE_PTR(out);
  auto h = std::make_unique<mx_recordio_s>();
  h->reader = std::make_unique<io::RecordReader>(path);
  *out = h.release();
  MX_API_END();
}

int mx_recordio_read(mx_recordio_t rec, const void **out_data, size_t *out_nbytes) {
  MX_API_BEGIN();
  auto *h = rec_of(rec);
  MX_REQUIRE_PTR(out_data);
  MX_REQUIRE_PTR(out_nbytes);
  MX_CHECK(h->reader != nullptr, MX_ERR_INVALID_ARGUMENT, "mx_recordio_read: the handle is not an open reader");
  if (!h->reader->next(&h->buf)) {
    *out_data = nullptr;
    *out_nbytes = 0;
  } else {
    *out_data = h->buf.data();
    *out_nbytes = h->buf.size();
  }
  MX_API_END();
}

int mx_recordio_seek(mx_recordio_t rec, uint64_t pos) {
  MX_API_BEGIN();
  auto *h = rec_of(rec);
  MX_CHECK(h->reader != nullptr, MX_ERR_INVALID_ARGUMENT, "mx_recordio_seek: the handle is not an open reader");
  h->reader->seek(pos);
  MX_API_END();
}

int mx_recordio_tell(mx_recordio_t rec, uint64_t *out_pos) {
  MX_API_BEGIN();
  auto *h = rec_of(rec);
  MX_REQUIRE_PTR(out_pos);
  if (h->writer) *out_pos = h->writer->tell();
  else if (h->reader) *out_pos = h->reader->tell();
  else fail(MX_ERR_INVALID_ARGUMENT, "mx_recordio_tell: the handle is closed");
  MX_API_END();
}

int mx_recordio_free(mx_recordio_t rec) {
  try {
    delete rec;
  } catch (...) {
  }
  return MX_OK;
}

// ---------------------------------------------------------------- images
int mx_image_decode(const void *data, size_t nbytes, int channels, int to_bgr, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  io::Image img = io::image_decode(data, nbytes, channels);
  NDArray a(Shape({int64_t(img.h), int64_t(img.w), int64_t(img.c)}), DType::u8);
  uint8_t *p = a.data<uint8_t>();
  std::memcpy(p, img.px.data(), img.px.size());
  if (to_bgr && img.c == 3)
    for (size_t i = 0; i < img.px.size(); i += 3) std::swap(p[i], p[i + 2]);
  *out = new_handle(std::move(a));
  MX_API_END();
}

int mx_image_encode(const void *pixels_v, int height, int width, int channels, int from_bgr, const char *format,
                    int quality, const void **out_data, size_t *out_nbytes) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(pixels_v);
  const uint8_t *pixels = static_cast<const uint8_t *>(pixels_v);
  MX_REQUIRE_PTR(format);
  MX_REQUIRE_PTR(out_data);
  MX_REQUIRE_PTR(out_nbytes);
  MX_CHECK(height > 0 && width > 0 && (channels == 1 || channels == 3), MX_ERR_SHAPE,
           "mx_image_encode: image of ", height, "x", width, "x", channels, " (need positive size, 1 or 3 channels)");
  thread_local std::string buf;
  if (from_bgr && channels == 3) {
    std::vector<uint8_t> rgb(pixels, pixels + size_t(height) * width * 3);
    for (size_t i = 0; i < rgb.size(); i += 3) std::swap(rgb[i], rgb[i + 2]);
    buf = io::image_encode(rgb.data(), height, width, channels, format, quality);
  } else {
    buf = io::image_encode(pixels, height, width, channels, format, quality);
  }
  *out_data = buf.data();
  *out_nbytes = buf.size();
  MX_API_END();
}

int mx_image_supported(const char *format, int *out_flag) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(format);
  MX_REQUIRE_PTR(out_flag);
  std::string f = format;
  if (f == "png" || f == ".png") *out_flag = io::image_png_supported();
  else if (f == "jpeg" || f == "jpg" || f == ".jpg" || f == ".jpeg") *out_flag = io::image_jpeg_supported();
  else *out_flag = 0;
  MX_API_END();
}

int mx_image_resize(mx_ndarray_t src, int height, int width, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  const NDArray &a = arr_of(src, "src");
  MX_CHECK(a.dtype() == DType::u8, MX_ERR_TYPE, "mx_image_resize: src must be uint8, got ", dtype_name(a.dtype()));
  MX_CHECK(a.shape().ndim() == 3 && a.shape()[2] >= 1 && a.shape()[2] <= 4, MX_ERR_SHAPE,
           "mx_image_resize: src must be HWC with 1 to 4 channels");
  MX_CHECK(a.device().is_cpu(), MX_ERR_UNSUPPORTED, "mx_image_resize: src must be a CPU array");
  io::Image img;
  img.h = int(a.shape()[0]);
  img.w = int(a.shape()[1]);
  img.c = int(a.shape()[2]);
  img.px.assign(a.data<uint8_t>(), a.data<uint8_t>() + a.nbytes());
  io::Image r = io::image_resize(img, height, width);
  NDArray o(Shape({int64_t(r.h), int64_t(r.w), int64_t(r.c)}), DType::u8);
  std::memcpy(o.raw(), r.px.data(), r.px.size());
  *out = new_handle(std::move(o));
  MX_API_END();
}

// ---------------------------------------------------------------- data iterators
int mx_dataiter_new(const char *name, const char *params_json, mx_dataiter_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(name);
  MX_REQUIRE_PTR(out);
  Json p = (params_json && *params_json) ? Json::parse(params_json) : Json::object();
  auto h = std::make_unique<mx_dataiter_s>();
  h->it = io::make_data_iter(name, p);
  *out = h.release();
  MX_API_END();
}

int mx_dataiter_new_arrays(int num_data, const mx_ndarray_t *data, int num_label, const mx_ndarray_t *label,
                           int64_t batch_size, int shuffle, const char *last_batch_handle, mx_dataiter_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(num_data > 0 && data != nullptr, MX_ERR_INVALID_ARGUMENT,
           "mx_dataiter_new_arrays: at least one data array is needed, got num_data=", num_data);
  MX_CHECK(num_label >= 0 && (num_label == 0 || label != nullptr), MX_ERR_INVALID_ARGUMENT,
           "mx_dataiter_new_arrays: label is NULL with num_label=", num_label);
  std::vector<NDArray> d, l;
  for (int i = 0; i < num_data; ++i) d.push_back(arr_of(data[i], "data"));
  for (int i = 0; i < num_label; ++i) l.push_back(arr_of(label[i], "label"));
  auto h = std::make_unique<mx_dataiter_s>();
  h->it = io::make_ndarray_iter(d, l, batch_size, shuffle != 0, last_batch_handle ? last_batch_handle : "pad");
  *out = h.release();
  MX_API_END();
}

int mx_dataiter_free(mx_dataiter_t it) {
  try {
    delete it;
  } catch (...) {
  }
  return MX_OK;
}

int mx_dataiter_next(mx_dataiter_t it, int *out_has_next) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_has_next);
  io::DataIter *d = iter_of(it);
  it->has_batch = false;
  bool ok = d->next();
  it->has_batch = ok;
  *out_has_next = ok ? 1 : 0;
  MX_API_END();
}

int mx_dataiter_reset(mx_dataiter_t it) {
  MX_API_BEGIN();
  iter_of(it)->reset();
  it->has_batch = false;
  MX_API_END();
}

int mx_dataiter_data(mx_dataiter_t it, int *out_num, mx_ndarray_t **out_arrays) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_arrays);
  io::DataIter *d = iter_of(it);
  need_batch(it);
  return export_arrays(d->data, out_num, out_arrays);
  MX_API_END();
}

int mx_dataiter_label(mx_dataiter_t it, int *out_num, mx_ndarray_t **out_arrays) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_arrays);
  io::DataIter *d = iter_of(it);
  need_batch(it);
  return export_arrays(d->label, out_num, out_arrays);
  MX_API_END();
}

int mx_dataiter_pad(mx_dataiter_t it, int64_t *out_pad) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_pad);
  io::DataIter *d = iter_of(it);
  need_batch(it);
  *out_pad = d->pad;
  MX_API_END();
}

int mx_dataiter_index(mx_dataiter_t it, int *out_num, const uint64_t **out_index) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_index);
  io::DataIter *d = iter_of(it);
  need_batch(it);
  *out_num = int(d->index.size());
  *out_index = d->index.data();
  MX_API_END();
}

int mx_dataiter_provide(mx_dataiter_t it, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  *out_json = iter_of(it)->provide_json.c_str();
  MX_API_END();
}

int mx_image_max_pixels(int64_t *out_pixels) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_pixels);
  *out_pixels = mx::io::image_max_pixels();
  MX_API_END();
}

int mx_image_set_max_pixels(int64_t pixels) {
  MX_API_BEGIN();
  mx::io::image_set_max_pixels(pixels);
  MX_API_END();
}

}  // extern "C"
