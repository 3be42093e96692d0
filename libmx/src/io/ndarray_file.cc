// MXNet's binary NDArray list format, read and written byte-compatibly with MXNet 1.x.
//
// File:   uint64 0x112 | uint64 reserved (0) | uint64 n | n records | uint64 k (0 or n) |
//         k names (uint64 length + bytes).
// Record (all little-endian):
//   V2 0xF993FAC9 / V3 0xF993FACA: uint32 magic | int32 storage type | [sparse: storage shape] |
//      shape | (stop here for a "none" array) | int32 dev_type | int32 dev_id | int32 type flag |
//      [sparse: per aux array int32 type flag + shape] | data | [sparse: aux data].
//      shape = int32 ndim + ndim int64 dims. V2 marks "none" with ndim 0 (or -1, MXNet >= 1.5),
//      V3 (numpy shape semantics) with ndim -1, where ndim 0 is a scalar with one element.
//   V1 0xF993FAC8: uint32 magic | shape as above | context | type flag | data; ndim 0 = none.
//   pre-V1 (no magic): uint32 ndim | ndim uint32 dims | context | type flag | data; ndim 0 = none.
#include "io/ndarray_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "base/error.h"
#include "base/file_util.h"
#include "ndarray/sparse.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "MX's file readers assume a little-endian host"
#endif

namespace mx {
namespace io {

// ------------------------------------------------------------------ sources

void MemorySource::read(uint64_t offset, void *dst, size_t n) {
  if (offset > n_ || n > n_ - offset)
    fail(MX_ERR_FORMAT, name_, ": read of ", n, " bytes at byte ", offset, " past the end (",
         n_, " bytes)");
  if (n) std::memcpy(dst, p_ + offset, n);
}

namespace {
constexpr size_t kWindow = 64 * 1024;
}

FileSource::FileSource(const std::string &path) : name_("'" + path + "'") {
  check_path(path, "load");
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(MX_ERR_IO, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    fail(MX_ERR_IO, "cannot stat '", path, "': ", std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(MX_ERR_IO, "cannot read '", path, "': ", std::strerror(EISDIR));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(MX_ERR_IO, "cannot read '", path, "': not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSource::pread_all(uint64_t offset, void *dst, size_t n) {
  auto *p = static_cast<uint8_t *>(dst);
  while (n > 0) {
    size_t chunk = n < (size_t(1) << 30) ? n : (size_t(1) << 30);
    ssize_t r = ::pread(fd_, p, chunk, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(MX_ERR_IO, "cannot read ", name_, " at byte ", offset, ": ", std::strerror(errno));
    }
    if (r == 0)
      fail(MX_ERR_FORMAT, name_, ": truncated at byte ", offset,
           " (the file became shorter while it was read)");
    p += r;
    offset += static_cast<uint64_t>(r);
    n -= static_cast<size_t>(r);
  }
}

void FileSource::read(uint64_t offset, void *dst, size_t n) {
  if (offset > size_ || n > size_ - offset)
    fail(MX_ERR_FORMAT, name_, ": read of ", n, " bytes at byte ", offset, " past the end (",
         size_, " bytes)");
  if (n == 0) return;
  if (n >= kWindow) {
    pread_all(offset, dst, n);
    return;
  }
  if (window_.empty() || offset < window_off_ || offset + n > window_off_ + window_.size()) {
    uint64_t len = size_ - offset < kWindow ? size_ - offset : kWindow;
    window_.resize(static_cast<size_t>(len));
    window_off_ = offset;
    try {
      pread_all(offset, window_.data(), window_.size());
    } catch (...) {
      window_.clear();
      throw;
    }
  }
  std::memcpy(dst, window_.data() + (offset - window_off_), n);
}

namespace {

// ------------------------------------------------------------------ bounded reader

constexpr uint64_t kListMagic = 0x112;
constexpr uint32_t kV1Magic = 0xF993FAC8u;
constexpr uint32_t kV2Magic = 0xF993FAC9u;
constexpr uint32_t kV3Magic = 0xF993FACAu;

class Cursor {
 public:
  explicit Cursor(ByteSource &s) : src(s), size(s.size()) {}
  ByteSource &src;
  const uint64_t size;
  uint64_t pos = 0;
  std::string where;  // "array 3", for messages

  uint64_t left() const { return size - pos; }
  template <typename... A>
  [[noreturn]] void corrupt(uint64_t at, const A &...pieces) {
    fail(MX_ERR_FORMAT, src.name(), ": corrupt MXNet NDArray file at byte ", at, ": ", where,
         where.empty() ? "" : ": ", pieces...);
  }
  void need(uint64_t n, const char *what) {
    if (n > left())
      fail(MX_ERR_FORMAT, src.name(), ": truncated MXNet NDArray file at byte ", pos, ": ", where,
           where.empty() ? "" : ": ", what, " needs ", n, " bytes but ", left(), " remain");
  }
  void get(void *dst, size_t n, const char *what) {
    need(n, what);
    src.read(pos, dst, n);
    pos += n;
  }
  uint32_t u32(const char *what) {
    uint8_t b[4];
    get(b, 4, what);
    return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  }
  int32_t i32(const char *what) { return static_cast<int32_t>(u32(what)); }
  uint64_t u64(const char *what) {
    uint8_t b[8];
    get(b, 8, what);
    uint64_t v = 0;
    for (int k = 7; k >= 0; --k) v = v << 8 | b[k];
    return v;
  }
  int64_t i64(const char *what) { return static_cast<int64_t>(u64(what)); }
  void skip(uint64_t n, const char *what) {
    need(n, what);
    pos += n;
  }
};

// Item size of every MXNet type flag (also those MX cannot hold), 0 for unknown flags.
size_t flag_size(int32_t flag) {
  switch (flag) {
    case 0: case 4: case 10: return 4;   // float32 int32 uint32
    case 1: case 6: case 11: return 8;   // float64 int64 uint64
    case 2: case 8: case 9: case 12: return 2;  // float16 int16 uint16 bfloat16
    case 3: case 5: case 7: return 1;    // uint8 int8 bool
    default: return 0;
  }
}
const char *flag_name(int32_t flag) {
  switch (flag) {
    case 8: return "int16";
    case 9: return "uint16";
    case 10: return "uint32";
    case 11: return "uint64";
    default: return "?";
  }
}

struct RawShape {
  int ndim = 0;  // -1: none
  std::vector<int64_t> dims;
};

// int32 ndim + int64 dims (V1/V2/V3). allow_minus1: ndim -1 marks a none array.
RawShape read_shape(Cursor &c, const char *what) {
  uint64_t at = c.pos;
  int32_t nd = c.i32(what);
  RawShape s;
  if (nd == -1) {
    s.ndim = -1;
    return s;
  }
  if (nd < 0 || nd > kMaxNdim) c.corrupt(at, what, " has ndim ", nd, " (must be -1..", kMaxNdim, ")");
  s.ndim = nd;
  c.need(uint64_t(nd) * 8, what);
  for (int k = 0; k < nd; ++k) {
    uint64_t dat = c.pos;
    int64_t d = c.i64(what);
    if (d < 0) c.corrupt(dat, what, " dimension ", k, " is ", d, " (must be >= 0)");
    s.dims.push_back(d);
  }
  return s;
}

// Element count with overflow checks; fails as corrupt when the product of the non-zero dims
// exceeds int64 (even for an empty array, so Shape::size can never overflow).
uint64_t checked_numel(Cursor &c, uint64_t at, const std::vector<int64_t> &dims, const char *what) {
  uint64_t n = 1;
  bool zero = false;
  for (int64_t d : dims) {
    if (d == 0) {
      zero = true;
      continue;
    }
    uint64_t r;
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &r) || r > uint64_t(INT64_MAX))
      c.corrupt(at, what, " has more elements than fit in 64 bits");
    n = r;
  }
  return zero ? 0 : n;
}

uint64_t checked_bytes(Cursor &c, uint64_t at, uint64_t numel, size_t item, const char *what) {
  uint64_t r;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(item), &r))
    c.corrupt(at, what, " is larger than 2^64 bytes");
  return r;
}

void read_context(Cursor &c) {
  uint64_t at = c.pos;
  int32_t dev_type = c.i32("context device type");
  int32_t dev_id = c.i32("context device id");
  // cpu, gpu, cpu_pinned, cpu_shared: every array loads onto the CPU.
  if (dev_type != 1 && dev_type != 2 && dev_type != 3 && dev_type != 5)
    c.corrupt(at, "unknown context device type ", dev_type);
  if (dev_id < 0) c.corrupt(at + 4, "negative context device id ", dev_id);
}

struct Deferred {  // a well-formed record MX cannot load; reported once names are known
  int64_t index;
  mx_status status;
  std::string why;
};

// Reads dense data of `shape` with type flag `flag` into a new CPU array.
NDArray read_dense(Cursor &c, uint64_t shape_at, const std::vector<int64_t> &dims, int32_t flag) {
  uint64_t numel = checked_numel(c, shape_at, dims, "shape");
  uint64_t nbytes = checked_bytes(c, shape_at, numel, flag_size(flag), "data");
  c.need(nbytes, "data");
  NDArray a(Shape(dims), static_cast<DType>(flag));
  if (nbytes) c.src.read(c.pos, a.raw(), static_cast<size_t>(nbytes));
  c.pos += nbytes;
  return a;
}

NDArray none_array() { return NDArray(Shape{0}, DType::f32); }

// Type flag of an array: returns true if MX can hold it; unknown flags are corrupt.
bool read_flag(Cursor &c, int32_t *flag, int64_t index, std::vector<Deferred> *deferred) {
  uint64_t at = c.pos;
  *flag = c.i32("type flag");
  if (flag_size(*flag) == 0) c.corrupt(at, "unknown type flag ", *flag);
  if (dtype_valid(*flag)) return true;
  deferred->push_back({index, MX_ERR_TYPE,
                       std::string("has dtype ") + flag_name(*flag) + " (type flag " +
                           std::to_string(*flag) + "), which MX does not support"});
  return false;
}

// The rest of a sparse record (row_sparse 1, csr 2) after its shape: context, type flag, aux
// types and shapes, values, aux data. The values have as many rows as the index array has
// entries: MXNet may write a storage shape whose first dimension is stale (0 after
// sparse_retain), and its own reader sizes the values by the indices too.
NDArray read_sparse(Cursor &c, int32_t stype, const RawShape &sshape, uint64_t sshape_at, const RawShape &shape,
                    uint64_t shape_at, bool none, int64_t index, std::vector<Deferred> *deferred) {
  if (none) return none_array();  // MXNet never writes a sparse none array
  int nad = stype == 2 ? 2 : 1;
  read_context(c);
  int32_t flag;
  bool ok = read_flag(c, &flag, index, deferred);
  std::vector<int32_t> aflags;
  std::vector<RawShape> ashapes;
  std::vector<uint64_t> aats;
  for (int k = 0; k < nad; ++k) {
    uint64_t aat = c.pos;
    int32_t aflag = c.i32("aux type flag");
    if (flag_size(aflag) == 0) c.corrupt(aat, "unknown aux type flag ", aflag);
    if (!dtype_valid(aflag) || dtype_is_float(static_cast<DType>(aflag)) || aflag == 7)
      c.corrupt(aat, "sparse index type flag ", aflag, " is not an integer type");
    RawShape ash = read_shape(c, "aux shape");
    if (ash.ndim != 1) c.corrupt(aat + 4, "aux shape has ndim ", ash.ndim, " (index arrays are 1-d)");
    aflags.push_back(aflag);
    ashapes.push_back(ash);
    aats.push_back(aat);
  }
  if (sshape.ndim < 1) c.corrupt(sshape_at, "sparse storage shape has ndim ", sshape.ndim);
  if (shape.ndim < 1) c.corrupt(shape_at, "sparse array has ndim ", shape.ndim);
  std::vector<int64_t> sdims = sshape.dims;
  sdims[0] = ashapes.back().dims[0];  // csr: (indptr, indices); row_sparse: (indices)
  if (!ok) {  // a dtype MX cannot hold (deferred): skip the values and the indices
    uint64_t total = checked_bytes(c, sshape_at, checked_numel(c, sshape_at, sdims, "storage shape"),
                                   flag_size(flag), "sparse data");
    for (int k = 0; k < nad; ++k) {
      uint64_t ab = checked_bytes(c, aats[static_cast<size_t>(k)], ashapes[static_cast<size_t>(k)].dims[0],
                                  flag_size(aflags[static_cast<size_t>(k)]), "aux data");
      if (__builtin_add_overflow(total, ab, &total)) c.corrupt(sshape_at, "sparse data is larger than 2^64 bytes");
    }
    c.skip(total, "sparse data");
    return NDArray();
  }
  uint64_t data_at = c.pos;
  NDArray data = read_dense(c, sshape_at, sdims, flag);
  std::vector<NDArray> aux;
  for (int k = 0; k < nad; ++k) {
    NDArray a = read_dense(c, aats[static_cast<size_t>(k)], ashapes[static_cast<size_t>(k)].dims,
                           aflags[static_cast<size_t>(k)]);
    aux.push_back(a.dtype() == DType::i64 ? a : a.astype(DType::i64));
  }
  Shape logical(shape.dims);
  NDArray out = stype == 2 ? make_csr(logical, data, aux[0], aux[1]) : make_row_sparse(logical, data, aux[0]);
  try {
    validate_sparse(out, "sparse record");
  } catch (const Error &e) {
    c.corrupt(data_at, "inconsistent ", stype == 2 ? "csr" : "row_sparse", " parts: ", e.what());
  }
  return out;
}

// One V2/V3 record after its magic.
NDArray read_v2v3(Cursor &c, bool v3, int64_t index, std::vector<Deferred> *deferred) {
  uint64_t at = c.pos;
  int32_t stype = c.i32("storage type");
  if (stype < 0 || stype > 2) c.corrupt(at, "unknown storage type ", stype);
  int nad = stype == 2 ? 2 : stype == 1 ? 1 : 0;
  RawShape sshape;
  uint64_t sshape_at = c.pos;
  if (nad) {
    sshape = read_shape(c, "storage shape");
    if (sshape.ndim < 0) c.corrupt(sshape_at, "sparse storage shape is unknown");
  }
  uint64_t shape_at = c.pos;
  RawShape shape = read_shape(c, "shape");
  bool none = shape.ndim == -1 || (!v3 && shape.ndim == 0);
  if (nad) return read_sparse(c, stype, sshape, sshape_at, shape, shape_at, none, index, deferred);
  if (none) return none_array();
  read_context(c);
  int32_t flag;
  if (!read_flag(c, &flag, index, deferred)) {
    uint64_t numel = checked_numel(c, shape_at, shape.dims, "shape");
    c.skip(checked_bytes(c, shape_at, numel, flag_size(flag), "data"), "data");
    return NDArray();
  }
  return read_dense(c, shape_at, shape.dims, flag);
}

// V1 (int64 dims) and pre-V1 (first word is ndim, uint32 dims) records.
NDArray read_legacy(Cursor &c, uint32_t first, uint64_t rec_at, int64_t index,
                    std::vector<Deferred> *deferred) {
  RawShape shape;
  uint64_t shape_at = c.pos;
  if (first == kV1Magic) {
    shape = read_shape(c, "shape");
    if (shape.ndim < 0) c.corrupt(shape_at, "V1 record has ndim -1");
  } else {
    if (first > uint32_t(kMaxNdim))
      c.corrupt(rec_at, "unknown record magic 0x", std::hex, first, std::dec,
                " (not an MXNet NDArray magic, nor a legacy ndim <= ", kMaxNdim, ")");
    shape_at = rec_at;
    shape.ndim = static_cast<int>(first);
    c.need(uint64_t(first) * 4, "legacy shape");
    for (uint32_t k = 0; k < first; ++k) shape.dims.push_back(c.u32("legacy shape"));
  }
  if (shape.ndim == 0) return none_array();
  read_context(c);
  int32_t flag;
  if (!read_flag(c, &flag, index, deferred)) {
    uint64_t numel = checked_numel(c, shape_at, shape.dims, "shape");
    c.skip(checked_bytes(c, shape_at, numel, flag_size(flag), "data"), "data");
    return NDArray();
  }
  return read_dense(c, shape_at, shape.dims, flag);
}

// ------------------------------------------------------------------ writer

class Writer {
 public:
  explicit Writer(ByteSink &s) : sink_(s) {}
  void u32(uint32_t v) {
    uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
    sink_.write(b, 4);
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void u64(uint64_t v) {
    uint8_t b[8];
    for (int k = 0; k < 8; ++k) b[k] = uint8_t(v >> (8 * k));
    sink_.write(b, 8);
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void bytes(const void *p, size_t n) {
    if (n) sink_.write(p, n);
  }

 private:
  ByteSink &sink_;
};

void write_shape(Writer &w, const Shape &s) {
  w.i32(s.ndim());
  for (int64_t d : s.dims()) w.i64(d);
}
void write_part(Writer &w, const NDArray &p) { w.bytes(p.craw(), p.nbytes()); }

// A sparse record as MXNet writes it (always V2: MXNet refuses sparse arrays under numpy shape
// semantics): storage shape = the values' shape, aux arrays indptr then indices for csr.
void write_sparse(Writer &w, const NDArray &a) {
  const SparseParts &p = *a.sparse();
  w.u32(kV2Magic);
  w.i32(static_cast<int32_t>(p.stype));
  write_shape(w, p.data.shape());
  write_shape(w, a.shape());
  w.i32(MX_CPU);  // sparse arrays live on the cpu
  w.i32(0);
  w.i32(static_cast<int32_t>(a.dtype()));
  std::vector<const NDArray *> aux;
  if (p.stype == SType::csr) aux = {&p.indptr, &p.indices};
  else aux = {&p.indices};
  for (const NDArray *x : aux) {
    w.i32(static_cast<int32_t>(x->dtype()));
    write_shape(w, x->shape());
  }
  write_part(w, p.data);
  for (const NDArray *x : aux) write_part(w, *x);
}

}  // namespace

// ------------------------------------------------------------------ public

bool is_mxnet_list(ByteSource &src) {
  if (src.size() < 8) return false;
  uint8_t b[8];
  src.read(0, b, 8);
  uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = v << 8 | b[k];
  return v == kListMagic;
}

ArrayList load_mxnet(ByteSource &src) {
  Cursor c(src);
  uint64_t magic = c.u64("list magic");
  if (magic != kListMagic)
    c.corrupt(0, "not an MXNet NDArray file: magic 0x", std::hex, magic, std::dec, " (expected 0x112)");
  c.u64("reserved word");
  uint64_t count_at = c.pos;
  uint64_t n = c.u64("array count");
  // Every record takes at least 4 bytes, and the name count 8 more.
  if (n > c.left() / 4 || n > uint64_t(INT_MAX))
    c.corrupt(count_at, "array count ", n, " is more than the remaining ", c.left(), " bytes can hold");
  ArrayList out;
  out.arrays.reserve(static_cast<size_t>(n));
  std::vector<Deferred> deferred;
  for (uint64_t i = 0; i < n; ++i) {
    c.where = "array " + std::to_string(i);
    uint64_t rec_at = c.pos;
    uint32_t first = c.u32("record magic");
    int64_t idx = static_cast<int64_t>(i);
    if (first == kV2Magic || first == kV3Magic)
      out.arrays.push_back(read_v2v3(c, first == kV3Magic, idx, &deferred));
    else
      out.arrays.push_back(read_legacy(c, first, rec_at, idx, &deferred));
  }
  c.where.clear();
  uint64_t names_at = c.pos;
  uint64_t k = c.u64("name count");
  if (k != 0 && k != n)
    c.corrupt(names_at, "name count ", k, " differs from the array count ", n);
  out.named = k != 0;
  out.names.reserve(static_cast<size_t>(k));
  for (uint64_t i = 0; i < k; ++i) {
    c.where = "name " + std::to_string(i);
    uint64_t len = c.u64("name length");
    c.need(len, "name");
    std::string s(static_cast<size_t>(len), '\0');
    if (len) c.get(&s[0], static_cast<size_t>(len), "name");
    out.names.push_back(std::move(s));
  }
  if (!deferred.empty()) {
    const Deferred &d = deferred.front();
    std::string who = "array " + std::to_string(d.index);
    if (out.named) who += " ('" + out.names[static_cast<size_t>(d.index)] + "')";
    fail(d.status, src.name(), ": ", who, " ", d.why,
         deferred.size() > 1 ? " (" + std::to_string(deferred.size() - 1) + " more such arrays)" : std::string());
  }
  return out;
}

void save_mxnet(ByteSink &sink, const std::vector<NDArray> &arrays,
                const std::vector<std::string> &names) {
  MX_CHECK(names.empty() || names.size() == arrays.size(), MX_ERR_INVALID_ARGUMENT,
           "save: ", names.size(), " names for ", arrays.size(), " arrays");
  bool v3 = false;
  for (const NDArray &a : arrays) {
    MX_CHECK(a.defined(), MX_ERR_INVALID_ARGUMENT, "save: an array is undefined");
    if (a.ndim() == 0) v3 = true;
  }
  Writer w(sink);
  w.u64(kListMagic);
  w.u64(0);
  w.u64(arrays.size());
  for (const NDArray &a : arrays) {
    if (a.is_sparse()) {
      write_sparse(w, a);
      continue;
    }
    w.u32(v3 ? kV3Magic : kV2Magic);
    w.i32(0);  // default (dense) storage
    w.i32(a.ndim());
    for (int64_t d : a.shape().dims()) w.i64(d);
    Device dev = a.device();
    w.i32(dev.type);
    w.i32(dev.id);
    w.i32(static_cast<int32_t>(a.dtype()));
    if (a.nbytes() == 0) continue;
    if (dev.is_cpu()) {
      w.bytes(a.craw(), a.nbytes());
    } else {
      NDArray h = a.to(Device());
      w.bytes(h.craw(), h.nbytes());
    }
  }
  w.u64(names.size());
  for (const std::string &s : names) {
    w.u64(s.size());
    w.bytes(s.data(), s.size());
  }
}

}  // namespace io
}  // namespace mx
