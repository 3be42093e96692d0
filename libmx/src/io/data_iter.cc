#include "io/data_iter.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "base/error.h"
#include "base/file_util.h"

#ifdef MX_HAVE_ZLIB
#include <zlib.h>
#endif

namespace mx {
namespace io {

// ---------------------------------------------------------------- parameters
namespace {
std::string shape_str(const std::vector<int64_t> &s) {
  std::string o = "(";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? "," : "") + std::to_string(s[i]);
  return o + (s.size() == 1 ? ",)" : ")");
}
}  // namespace

bool IterParams::has(const std::string &k) {
  known.push_back(k);
  return p.is_object() && p.has(k) && !p[k].is_null();
}

std::string IterParams::str(const std::string &k, const std::string &def, bool required) {
  if (!has(k)) {
    MX_CHECK(!required, MX_ERR_INVALID_ARGUMENT, iter, ": required parameter '", k, "' is missing");
    return def;
  }
  const Json &v = p[k];
  MX_CHECK(v.is_string(), MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k, "' must be a string, got ", v.dump());
  return v.as_string();
}

int64_t IterParams::integer(const std::string &k, int64_t def, bool required) {
  if (!has(k)) {
    MX_CHECK(!required, MX_ERR_INVALID_ARGUMENT, iter, ": required parameter '", k, "' is missing");
    return def;
  }
  const Json &v = p[k];
  double d = 0;
  if (v.is_number()) {
    d = v.as_number();
  } else if (v.is_bool()) {
    d = v.as_bool();
  } else if (v.is_string()) {
    char *end = nullptr;
    const std::string &s = v.as_string();
    d = std::strtod(s.c_str(), &end);
    MX_CHECK(!s.empty() && end && *end == 0, MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k,
             "' must be an integer, got '", s, "'");
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k, "' must be an integer, got ", v.dump());
  }
  MX_CHECK(std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15, MX_ERR_INVALID_ARGUMENT, iter,
           ": parameter '", k, "' must be an integer, got ", v.dump());
  return int64_t(d);
}

double IterParams::number(const std::string &k, double def) {
  if (!has(k)) return def;
  const Json &v = p[k];
  if (v.is_number()) return v.as_number();
  if (v.is_string()) {
    char *end = nullptr;
    const std::string &s = v.as_string();
    double d = std::strtod(s.c_str(), &end);
    MX_CHECK(!s.empty() && end && *end == 0, MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k,
             "' must be a number, got '", s, "'");
    return d;
  }
  fail(MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k, "' must be a number, got ", v.dump());
}

bool IterParams::boolean(const std::string &k, bool def) {
  if (!has(k)) return def;
  const Json &v = p[k];
  if (v.is_bool()) return v.as_bool();
  if (v.is_number()) return v.as_number() != 0;
  if (v.is_string()) {
    std::string s = v.as_string();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  }
  fail(MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k, "' must be a boolean, got ", v.dump());
}

std::vector<int64_t> IterParams::shape(const std::string &k, std::vector<int64_t> def, bool required) {
  if (!has(k)) {
    MX_CHECK(!required, MX_ERR_INVALID_ARGUMENT, iter, ": required parameter '", k, "' is missing");
    return def;
  }
  const Json &v = p[k];
  std::vector<int64_t> out;
  if (v.is_array()) {
    for (const Json &e : v.items()) {
      MX_CHECK(e.is_number() && e.as_number() == std::floor(e.as_number()), MX_ERR_INVALID_ARGUMENT, iter,
               ": parameter '", k, "' must be a shape, got ", v.dump());
      out.push_back(int64_t(e.as_number()));
    }
  } else if (v.is_number()) {
    out.push_back(int64_t(v.as_number()));
  } else if (v.is_string()) {
    std::string s = v.as_string();
    for (char &c : s)
      if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',') c = ' ';
    const char *q = s.c_str();
    for (;;) {
      while (*q == ' ') ++q;
      if (!*q) break;
      char *end = nullptr;
      long long d = std::strtoll(q, &end, 10);
      MX_CHECK(end != q, MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k, "' must be a shape, got '",
               v.as_string(), "'");
      out.push_back(d);
      q = end;
    }
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, iter, ": parameter '", k, "' must be a shape, got ", v.dump());
  }
  MX_CHECK(!out.empty() && out.size() <= 8, MX_ERR_SHAPE, iter, ": parameter '", k, "' has ", out.size(),
           " dimensions, expected 1 to 8");
  for (int64_t d : out)
    MX_CHECK(d > 0 && d < (int64_t(1) << 31), MX_ERR_SHAPE, iter, ": parameter '", k, "' = ", shape_str(out),
             " must have positive dimensions");
  return out;
}

void IterParams::check_unknown() {
  if (!p.is_object()) return;
  for (const auto &kv : p.members()) {
    if (std::find(known.begin(), known.end(), kv.first) == known.end()) {
      std::string list;
      for (const auto &k : known) list += (list.empty() ? "" : ", ") + k;
      fail(MX_ERR_INVALID_ARGUMENT, iter, ": unknown parameter '", kv.first, "' (known: ", list, ")");
    }
  }
}

// ---------------------------------------------------------------- BatchIter
void BatchIter::setup(int64_t batch_size, Last last, bool shuffle, uint64_t seed, bool shuffle_each_epoch) {
  MX_CHECK(batch_size > 0, MX_ERR_INVALID_ARGUMENT, "DataIter: batch_size must be positive, got ", batch_size);
  MX_CHECK(batch_size < (int64_t(1) << 31), MX_ERR_INVALID_ARGUMENT, "DataIter: batch_size ", batch_size,
           " is too large (at most 2147483647)");
  bs_ = batch_size;
  last_ = last;
  shuffle_ = shuffle;
  shuffle_each_epoch_ = shuffle_each_epoch;
  seed_ = seed;
  rng_.seed(seed);
  order_.resize(size_t(n_));
  std::iota(order_.begin(), order_.end(), int64_t(0));
  Json prov = Json::object();
  Json dl = Json::array(), ll = Json::array();
  for (size_t f = 0; f < fields_.size(); ++f) {
    Field &fd = fields_[f];
    int64_t per = 1;
    for (int64_t d : fd.shape) per *= d;
    fd.row_bytes = size_t(per) * dtype_size(fd.dtype);
    // A batch buffer is allocated at the first batch: an iterator with fewer instances than a
    // batch (or none) allocates nothing, whatever per-instance size its source declares.
    MX_CHECK(fd.row_bytes == 0 || size_t(bs_) <= (SIZE_MAX / 2) / fd.row_bytes, MX_ERR_SHAPE, "DataIter: a batch of ",
             bs_, " instances of field '", fd.name, "' (", fd.row_bytes, " bytes each) exceeds the address space");
    fd.buf.clear();
    fd.buf.shrink_to_fit();
    Json d = Json::object();
    d.set("name", fd.name);
    Json sh = Json::array();
    sh.push(Json(bs_));
    for (int64_t x : fd.shape) sh.push(Json(x));
    d.set("shape", sh);
    d.set("dtype", dtype_name(fd.dtype));
    (f < num_data_fields_ ? dl : ll).push(d);
  }
  prov.set("data", dl);
  prov.set("label", ll);
  provide_json = prov.dump();
  index.assign(size_t(bs_), 0);
  if (shuffle_) std::shuffle(order_.begin(), order_.end(), rng_);
  pos_ = 0;
  carry_ = 0;
  started_ = false;
}

void BatchIter::reset() {
  ++epoch_;
  pos_ = last_ == Last::kRoundCarry ? carry_ : 0;
  carry_ = 0;
  started_ = false;
  if (shuffle_ && shuffle_each_epoch_) std::shuffle(order_.begin(), order_.end(), rng_);
}

bool BatchIter::next() {
  // `started_` doubles as "this epoch has ended" once set to a negative position marker.
  std::vector<int64_t> sel;
  pad = 0;
  if (n_ == 0 || pos_ < 0) return false;
  auto finish = [&]() {
    pos_ = -1;
    return false;
  };
  switch (last_) {
    case Last::kRollOver:
      if (!lead_.empty()) {
        int64_t need = bs_ - int64_t(lead_.size());
        if (need > n_) return finish();
        sel = lead_;
        sel.insert(sel.end(), order_.begin(), order_.begin() + need);
        lead_.clear();
        pos_ = need;
        break;
      }
      if (pos_ + bs_ > n_) {
        lead_.assign(order_.begin() + std::min(pos_, n_), order_.end());
        return finish();
      }
      sel.assign(order_.begin() + pos_, order_.begin() + pos_ + bs_);
      pos_ += bs_;
      break;
    case Last::kDiscard:
      if (pos_ + bs_ > n_) return finish();
      sel.assign(order_.begin() + pos_, order_.begin() + pos_ + bs_);
      pos_ += bs_;
      break;
    case Last::kPadWrap:
    case Last::kRoundCarry:
      if (pos_ >= n_) return finish();
      for (int64_t k = 0; k < bs_; ++k) sel.push_back(order_[size_t((pos_ + k) % n_)]);
      if (pos_ + bs_ > n_) {
        pad = pos_ + bs_ - n_;
        if (last_ == Last::kRoundCarry) carry_ = pad % n_;
      }
      pos_ += bs_;
      break;
    case Last::kPadStale: {
      if (pos_ >= n_) return finish();
      int64_t cnt = std::min(bs_, n_ - pos_);
      sel.assign(order_.begin() + pos_, order_.begin() + pos_ + cnt);
      pad = bs_ - cnt;
      pos_ += bs_;
      break;
    }
  }
  started_ = true;
  for (Field &fd : fields_)
    if (fd.buf.size() != fd.row_bytes * size_t(bs_)) fd.buf.assign(fd.row_bytes * size_t(bs_), 0);
  fill(sel);
  for (size_t i = 0; i < sel.size(); ++i) index[i] = uint64_t(sel[i]);
  data.clear();
  label.clear();
  for (size_t f = 0; f < fields_.size(); ++f) {
    Field &fd = fields_[f];
    std::vector<int64_t> dims{bs_};
    dims.insert(dims.end(), fd.shape.begin(), fd.shape.end());
    NDArray a(Shape(dims), fd.dtype);
    std::memcpy(a.raw(), fd.buf.data(), fd.buf.size());
    (f < num_data_fields_ ? data : label).push_back(std::move(a));
  }
  return true;
}

// ---------------------------------------------------------------- in-memory instances
namespace {

// Instances held in host memory, one contiguous byte block per field (n rows of row_bytes).
// A uint8 source field may be widened to float32 times `scale` on the way into the batch.
class MemoryIter : public BatchIter {
 public:
  struct Source {
    std::vector<char> bytes;
    NDArray arr;  // alternatively the rows live in an NDArray
    bool u8_to_f32 = false;
    float scale = 1.f;
  };
  std::vector<Source> src_;

 protected:
  void fill(const std::vector<int64_t> &sel) override {
    for (size_t f = 0; f < fields_.size(); ++f) {
      Field &fd = fields_[f];
      Source &s = src_[f];
      const char *base = s.arr.defined() ? static_cast<const char *>(s.arr.raw()) : s.bytes.data();
      for (size_t i = 0; i < sel.size(); ++i) {
        char *dst = fd.buf.data() + i * fd.row_bytes;
        if (s.u8_to_f32) {
          size_t per = fd.row_bytes / sizeof(float);
          const uint8_t *p = reinterpret_cast<const uint8_t *>(base) + size_t(sel[i]) * per;
          float *o = reinterpret_cast<float *>(dst);
          for (size_t k = 0; k < per; ++k) o[k] = float(p[k]) * s.scale;
        } else {
          std::memcpy(dst, base + size_t(sel[i]) * fd.row_bytes, fd.row_bytes);
        }
      }
    }
  }

 public:
  void add_field(const std::string &name, std::vector<int64_t> shape, DType dt, bool is_data) {
    Field f;
    f.name = name;
    f.shape = std::move(shape);
    f.dtype = dt;
    if (is_data) {
      fields_.insert(fields_.begin() + num_data_fields_, std::move(f));
      src_.insert(src_.begin() + num_data_fields_, Source());
      ++num_data_fields_;
    } else {
      fields_.push_back(std::move(f));
      src_.emplace_back();
    }
  }
  Source &source(size_t i) { return src_[i]; }
  void set_n(int64_t n) { n_ = n; }
  size_t num_data() const { return num_data_fields_; }
  size_t num_fields() const { return fields_.size(); }
  void init(int64_t bs, Last last, bool shuffle, uint64_t seed, bool each_epoch) {
    setup(bs, last, shuffle, seed, each_epoch);
  }
};

// Parse a CSV of numbers into rows of `per` values each, as float32 (strtof) or, for integer
// dtypes, int64 (strtoll: exact beyond float's 24-bit mantissa, as MXNet's int32/int64 CSVIter).
template <typename V>
std::vector<V> read_csv(const std::string &iter, const std::string &path, int64_t per, const std::string &what,
                        int64_t *out_rows) {
  std::string text = read_file(path);
  std::vector<V> out;
  int64_t rows = 0;
  for_each_line(text, [&](std::string l, int64_t line) {
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.pop_back();
    if (l.empty()) return;
    int64_t cnt = 0;
    const char *q = l.c_str();
    for (;;) {
      while (*q == ' ' || *q == '\t') ++q;
      char *end = nullptr;
      errno = 0;
      V v;
      if (std::is_same<V, float>::value) v = static_cast<V>(std::strtof(q, &end));
      else v = static_cast<V>(std::strtoll(q, &end, 10));
      MX_CHECK(end != q, MX_ERR_FORMAT, iter, ": ", what, " '", path, "' line ", line, " column ", cnt + 1,
               ": '", std::string(q).substr(0, 20), "' is not a number");
      out.push_back(v);
      ++cnt;
      q = end;
      while (*q == ' ' || *q == '\t') ++q;
      if (*q == ',') {
        ++q;
        continue;
      }
      MX_CHECK(*q == 0, MX_ERR_FORMAT, iter, ": ", what, " '", path, "' line ", line, ": unexpected '",
               std::string(q).substr(0, 20), "'");
      break;
    }
    MX_CHECK(cnt == per, MX_ERR_SHAPE, iter, ": ", what, " '", path, "' line ", line, " has ", cnt,
             " values but the ", what == "data_csv" ? "data_shape" : "label_shape", " needs ", per);
    ++rows;
  });
  *out_rows = rows;
  return out;
}

}  // namespace

std::unique_ptr<DataIter> make_csv(const Json &params) {
  IterParams P("CSVIter", params);
  std::string data_csv = P.str("data_csv", "", true);
  std::vector<int64_t> data_shape = P.shape("data_shape", {}, true);
  std::string label_csv = P.str("label_csv", "NULL");
  std::vector<int64_t> label_shape = P.shape("label_shape", {1});
  int64_t bs = P.integer("batch_size", 0, true);
  bool round = P.boolean("round_batch", true);
  std::string data_name = P.str("data_name", "data"), label_name = P.str("label_name", "softmax_label");
  P.boolean("prefetch_buffer", true);
  P.str("dtype", "float32");
  P.check_unknown();
  MX_CHECK(bs > 0, MX_ERR_INVALID_ARGUMENT, "CSVIter: batch_size must be positive, got ", bs);
  const std::string dtype = P.str("dtype", "float32");
  MX_CHECK(dtype == "float32" || dtype == "int32" || dtype == "int64", MX_ERR_TYPE,
           "CSVIter: dtype must be 'float32', 'int32' or 'int64', got '", dtype, "'");
  auto it = std::make_unique<MemoryIter>();
  int64_t dper = 1, lper = 1;
  for (int64_t d : data_shape) dper *= d;
  for (int64_t d : label_shape) lper *= d;
  int64_t nrows = 0, lrows = 0;
  // data in `dtype` (MXNet's dtype applies to the data; labels stay float32)
  std::vector<char> dbytes;
  if (dtype == "float32") {
    std::vector<float> dv = read_csv<float>("CSVIter", data_csv, dper, "data_csv", &nrows);
    dbytes.assign(reinterpret_cast<char *>(dv.data()), reinterpret_cast<char *>(dv.data() + dv.size()));
  } else {
    std::vector<int64_t> dv = read_csv<int64_t>("CSVIter", data_csv, dper, "data_csv", &nrows);
    if (dtype == "int64") {
      dbytes.assign(reinterpret_cast<char *>(dv.data()), reinterpret_cast<char *>(dv.data() + dv.size()));
    } else {
      std::vector<int32_t> d32(dv.size());
      for (size_t k = 0; k < dv.size(); ++k) {
        MX_CHECK(dv[k] >= INT32_MIN && dv[k] <= INT32_MAX, MX_ERR_INVALID_ARGUMENT, "CSVIter: data_csv '",
                 data_csv, "' value ", dv[k], " does not fit dtype int32");
        d32[k] = static_cast<int32_t>(dv[k]);
      }
      dbytes.assign(reinterpret_cast<char *>(d32.data()), reinterpret_cast<char *>(d32.data() + d32.size()));
    }
  }
  std::vector<float> lv;
  bool has_label = !label_csv.empty() && label_csv != "NULL";
  if (has_label) {
    lv = read_csv<float>("CSVIter", label_csv, lper, "label_csv", &lrows);
    MX_CHECK(lrows == nrows, MX_ERR_SHAPE, "CSVIter: data_csv '", data_csv, "' has ", nrows, " rows but label_csv '",
             label_csv, "' has ", lrows);
  } else {
    lv.assign(size_t(nrows * lper), 0.f);
  }
  it->add_field(data_name, data_shape, dtype == "float32" ? DType::f32 : dtype == "int32" ? DType::i32 : DType::i64,
                true);
  std::vector<int64_t> ls = label_shape;
  if (ls.size() == 1 && ls[0] == 1) ls.clear();
  it->add_field(label_name, ls, DType::f32, false);
  it->source(0).bytes = std::move(dbytes);
  it->source(1).bytes.assign(reinterpret_cast<char *>(lv.data()), reinterpret_cast<char *>(lv.data() + lv.size()));
  it->set_n(nrows);
  it->init(bs, round ? BatchIter::Last::kRoundCarry : BatchIter::Last::kPadStale, false, 0, false);
  return it;
}

// ---------------------------------------------------------------- MNIST (IDX files)
namespace {
constexpr size_t kMaxIdxBytes = size_t(1) << 32;

// deflate cannot expand data more than about 1032:1; a gzip stream that claims more output than
// that ratio allows from its real size is a bomb or a lie.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint32_t be32(const unsigned char *b) {
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
}

// An IDX file of unsigned bytes with `ndims` dimensions (plain or gzip-compressed): the header
// is read and checked first, then exactly the bytes it declares. What the header may claim is
// bounded by the real input before anything is allocated: a plain file must hold the bytes, a
// gzip stream may not claim more than kMaxDeflateRatio times its size, and only regular files
// are read (/dev/zero would otherwise stream forever).
struct IdxFile {
  std::vector<uint64_t> dims;
  std::string data;
};
IdxFile read_idx(const std::string &iter, const std::string &path, const char *kind, int ndims) {
  check_path(path, iter.c_str());
  const uint32_t magic_want = 0x800u + uint32_t(ndims);
  const size_t header = 4 + 4 * size_t(ndims);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(MX_ERR_IO, iter, ": cannot open '", path, "': ", std::strerror(errno));
  MX_CHECK(S_ISREG(st.st_mode), MX_ERR_IO, iter, ": cannot read ", kind, " file '", path, "': ",
           S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file (a device, FIFO or socket)");
  const uint64_t file_size = uint64_t(st.st_size);
  unsigned char h[16];
  IdxFile out;
  uint64_t claim = 1;
  auto check_header = [&](size_t got, bool compressed) {
    MX_CHECK(got >= 4, MX_ERR_FORMAT, iter, ": ", kind, " file '", path, "' is truncated (", got,
             " bytes, an IDX ", kind, " header needs ", header, ")");
    uint32_t magic = be32(h);
    MX_CHECK(magic == magic_want, MX_ERR_FORMAT, iter, ": ", kind, " file '", path, "' has magic ", magic,
             " at offset 0, expected ", magic_want, " (IDX unsigned byte, ", ndims, " dims)");
    MX_CHECK(got >= header, MX_ERR_FORMAT, iter, ": ", kind, " file '", path, "' is truncated (", got,
             " bytes, an IDX ", kind, " header needs ", header, ")");
    for (int i = 0; i < ndims; ++i) {
      uint64_t d = be32(h + 4 + 4 * i);
      out.dims.push_back(d);
      claim *= d;  // at most 3 factors below 2^32 each: checked against the limit below
      MX_CHECK(claim <= kMaxIdxBytes, MX_ERR_FORMAT, iter, ": ", kind, " file '", path,
               "' declares more than ", kMaxIdxBytes, " bytes of data");
    }
    const uint64_t avail = compressed ? file_size * kMaxDeflateRatio : file_size - header;
    MX_CHECK(claim <= avail, MX_ERR_FORMAT, iter, ": ", kind, " file '", path, "' declares ", claim,
             " bytes of data but ",
             compressed ? "its gzip stream of " : "holds only ", compressed ? file_size : file_size - header,
             compressed ? " bytes cannot expand to that" : " bytes after the header");
  };
#ifdef MX_HAVE_ZLIB
  gzFile g = gzopen(path.c_str(), "rb");
  if (!g) fail(MX_ERR_IO, iter, ": cannot open '", path, "': ", std::strerror(errno));
  struct Closer {
    gzFile g;
    ~Closer() { gzclose(g); }
  } closer{g};
  auto gz_read = [&](void *dst, size_t n) -> size_t {
    size_t got = 0;
    while (got < n) {
      unsigned chunk = unsigned(std::min<size_t>(n - got, size_t(1) << 30));
      int r = gzread(g, static_cast<char *>(dst) + got, chunk);
      if (r < 0) {
        int code = 0;
        std::string msg = gzerror(g, &code);
        fail(MX_ERR_FORMAT, iter, ": corrupt gzip data in '", path, "' after ", got, " bytes: ", msg);
      }
      if (r == 0) break;
      got += size_t(r);
    }
    return got;
  };
  size_t got = gz_read(h, header);
  check_header(got, gzdirect(g) == 0);
  out.data.resize(size_t(claim));
  got = gz_read(&out.data[0], size_t(claim));
  MX_CHECK(got == claim, MX_ERR_FORMAT, iter, ": ", kind, " file '", path, "' declares ", claim,
           " bytes of data but holds only ", got, " bytes after the header (truncated)");
#else
  std::string s = read_file(path, kMaxIdxBytes);
  if (s.size() >= 2 && uint8_t(s[0]) == 0x1f && uint8_t(s[1]) == 0x8b)
    fail(MX_ERR_UNSUPPORTED, iter, ": '", path, "' is gzip-compressed but this build has no zlib; gunzip it first");
  std::memcpy(h, s.data(), std::min(s.size(), header));
  check_header(s.size(), false);
  out.data = s.substr(header, size_t(claim));
#endif
  return out;
}

}  // namespace

std::unique_ptr<DataIter> make_mnist(const Json &params) {
  IterParams P("MNISTIter", params);
  std::string image = P.str("image", "./train-images-idx3-ubyte");
  std::string labelf = P.str("label", "./train-labels-idx1-ubyte");
  int64_t bs = P.integer("batch_size", 128);
  bool shuffle = P.boolean("shuffle", true);
  bool flat = P.boolean("flat", false);
  int64_t seed = P.integer("seed", 0);
  int64_t num_parts = P.integer("num_parts", 1), part_index = P.integer("part_index", 0);
  std::string data_name = P.str("data_name", "data"), label_name = P.str("label_name", "softmax_label");
  P.boolean("silent", false);
  P.boolean("prefetch_buffer", true);
  P.check_unknown();
  MX_CHECK(bs > 0, MX_ERR_INVALID_ARGUMENT, "MNISTIter: batch_size must be positive, got ", bs);
  MX_CHECK(num_parts >= 1 && part_index >= 0 && part_index < num_parts, MX_ERR_INVALID_ARGUMENT,
           "MNISTIter: part_index ", part_index, " must be in [0, num_parts=", num_parts, ")");
  IdxFile imf = read_idx("MNISTIter", image, "image", 3);
  uint64_t n = imf.dims[0], rows = imf.dims[1], cols = imf.dims[2];
  MX_CHECK(rows > 0 && cols > 0 && rows <= 65536 && cols <= 65536, MX_ERR_FORMAT, "MNISTIter: image file '", image,
           "' declares images of ", rows, "x", cols, " pixels");
  IdxFile lbf = read_idx("MNISTIter", labelf, "label", 1);
  uint64_t nl = lbf.dims[0];
  MX_CHECK(nl == n, MX_ERR_SHAPE, "MNISTIter: '", image, "' has ", n, " images but '", labelf, "' has ", nl, " labels");
  const std::string &img = imf.data, &lab = lbf.data;
  // Partition (num_parts / part_index): contiguous ranges.
  uint64_t begin = n * uint64_t(part_index) / uint64_t(num_parts);
  uint64_t end = n * uint64_t(part_index + 1) / uint64_t(num_parts);
  auto it = std::make_unique<MemoryIter>();
  std::vector<int64_t> ds = flat ? std::vector<int64_t>{int64_t(rows * cols)}
                                 : std::vector<int64_t>{1, int64_t(rows), int64_t(cols)};
  it->add_field(data_name, ds, DType::f32, true);
  it->add_field(label_name, {}, DType::f32, false);
  auto &s0 = it->source(0);
  s0.bytes.assign(img.begin() + std::ptrdiff_t(begin * rows * cols), img.begin() + std::ptrdiff_t(end * rows * cols));
  s0.u8_to_f32 = true;
  s0.scale = 1.f / 255.f;
  std::vector<float> lv(end - begin);
  for (uint64_t i = begin; i < end; ++i) lv[i - begin] = float(uint8_t(lab[i]));
  it->source(1).bytes.assign(reinterpret_cast<char *>(lv.data()), reinterpret_cast<char *>(lv.data() + lv.size()));
  it->set_n(int64_t(end - begin));
  // MXNet's MNISTIter shuffles once at creation and drops an incomplete last batch.
  it->init(bs, BatchIter::Last::kDiscard, shuffle, uint64_t(seed), false);
  return it;
}

// ---------------------------------------------------------------- NDArrayIter over given arrays
std::unique_ptr<DataIter> make_ndarray_iter(const std::vector<NDArray> &data, const std::vector<NDArray> &label,
                                            int64_t batch_size, bool shuffle, const std::string &last_batch_handle) {
  BatchIter::Last last;
  if (last_batch_handle == "pad") last = BatchIter::Last::kPadWrap;
  else if (last_batch_handle == "discard") last = BatchIter::Last::kDiscard;
  else if (last_batch_handle == "roll_over") last = BatchIter::Last::kRollOver;
  else
    fail(MX_ERR_INVALID_ARGUMENT, "NDArrayIter: last_batch_handle must be 'pad', 'discard' or 'roll_over', got '",
         last_batch_handle, "'");
  MX_CHECK(!data.empty(), MX_ERR_INVALID_ARGUMENT, "NDArrayIter: at least one data array is needed");
  MX_CHECK(batch_size > 0, MX_ERR_INVALID_ARGUMENT, "NDArrayIter: batch_size must be positive, got ", batch_size);
  auto it = std::make_unique<MemoryIter>();
  int64_t n = -1;
  auto add = [&](const std::vector<NDArray> &arrs, const std::string &base, bool is_data) {
    for (size_t i = 0; i < arrs.size(); ++i) {
      const NDArray &a = arrs[i];
      MX_CHECK(a.defined() && a.device().is_cpu(), MX_ERR_INVALID_ARGUMENT, "NDArrayIter: ", base, " array ", i,
               " must be a CPU array");
      MX_CHECK(a.shape().ndim() >= 1, MX_ERR_SHAPE, "NDArrayIter: ", base, " array ", i,
               " must have a first (batch) axis");
      int64_t rows = a.shape()[0];
      if (n < 0) n = rows;
      MX_CHECK(rows == n, MX_ERR_SHAPE, "NDArrayIter: ", base, " array ", i, " has ", rows,
               " samples but the first data array has ", n);
      std::string name = arrs.size() == 1 ? base : "_" + std::to_string(i) + "_" + base;
      std::vector<int64_t> per(a.shape().dims().begin() + 1, a.shape().dims().end());
      it->add_field(name, per, a.dtype(), is_data);
      // Snapshot the values (the caller may change its arrays later).
      NDArray copy(a.shape(), a.dtype());
      std::memcpy(copy.raw(), a.raw(), a.nbytes());
      it->source(is_data ? it->num_data() - 1 : it->num_fields() - 1).arr = copy;
    }
  };
  add(data, "data", true);
  add(label, "softmax_label", false);
  it->set_n(n);
  std::random_device rd;
  it->init(batch_size, last, shuffle, (uint64_t(rd()) << 32) ^ rd(), true);
  return it;
}

std::unique_ptr<DataIter> make_data_iter(const std::string &name, const Json &params) {
  MX_CHECK(params.is_object() || params.is_null(), MX_ERR_INVALID_ARGUMENT, name,
           ": parameters must be a JSON object, got ", params.dump());
  if (name == "CSVIter") return make_csv(params);
  if (name == "MNISTIter") return make_mnist(params);
  if (name == "ImageRecordIter") return make_image_record_iter(params);
  if (name == "LibSVMIter") return make_libsvm_iter(params);  // io/libsvm_iter.cc (csr batches)
  fail(MX_ERR_INVALID_ARGUMENT, "mx_dataiter_new: unknown iterator '", name,
       "' (known: CSVIter, MNISTIter, ImageRecordIter, LibSVMIter; NDArrayIter through mx_dataiter_new_arrays)");
}

}  // namespace io
}  // namespace mx
