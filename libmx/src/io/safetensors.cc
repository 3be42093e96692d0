// safetensors: uint64 little-endian header length N | N bytes of JSON (UTF-8, may end in
// spaces) | data. The header maps tensor names to {"dtype", "shape", "data_offsets": [begin,
// end)} with offsets relative to the first byte after the header, plus an optional
// "__metadata__" object of string values.
//
// Hostile input: N is bounded (100 MiB and the file size), the top level of the header is split
// into members by a linear scan and each member is parsed on its own with the core JSON parser
// (so a huge header cannot make the object parser quadratic or nest deeply), every shape and
// offset is checked (integers, no overflow, within the data, consistent with dtype and shape,
// no two tensors overlapping) before any array is allocated.
//
// Sparse arrays (MX's convention; safetensors has none): an array NAME of storage type csr is
// stored as the tensors "NAME.data" [nnz], "NAME.indices" [nnz] int64 and "NAME.indptr"
// [rows+1] int64; a row_sparse one as "NAME.data" [nnz_rows, ...] and "NAME.indices"
// [nnz_rows] int64; the __metadata__ entry "mx.sparse:NAME" = {"stype": "csr", "shape": [...]}
// (a JSON string) says so. Other readers see the component tensors; MX reassembles and
// validates them. Without the metadata entry, tensors with such names load as dense arrays.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_set>

#include "base/error.h"
#include "base/json.h"
#include "io/ndarray_file.h"
#include "ndarray/sparse.h"

namespace mx {
namespace io {

namespace {

struct StDType {
  const char *name;
  DType dtype;
};
const StDType kDTypes[] = {
    {"F32", DType::f32}, {"F64", DType::f64}, {"F16", DType::f16}, {"BF16", DType::bf16},
    {"I8", DType::i8},   {"U8", DType::u8},   {"I32", DType::i32}, {"I64", DType::i64},
    {"BOOL", DType::boolean},
};
// Valid safetensors dtypes that MX has no dtype for.
const char *const kOtherDTypes[] = {"I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2",
                                    "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"};

const char *st_name(DType t) {
  for (const auto &d : kDTypes)
    if (d.dtype == t) return d.name;
  fail(MX_ERR_TYPE, "save: dtype ", dtype_name(t), " has no safetensors name");
}

constexpr double kMaxExactInt = 9007199254740992.0;  // 2^53

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> dims;
  uint64_t begin, end;
  uint64_t header_at;  // byte offset of the member in the file, for messages
};

class HeaderScan {
 public:
  HeaderScan(const std::string &src, const std::string &h) : src_(src), h_(h) {}
  // Calls fn(key_json, value_json, offset_in_header) for every top-level member.
  template <typename Fn>
  void members(Fn fn) {
    ws();
    if (i_ >= h_.size() || h_[i_] != '{') bad("the header is not a JSON object");
    ++i_;
    ws();
    if (i_ < h_.size() && h_[i_] == '}') {
      ++i_;
    } else {
      while (true) {
        ws();
        size_t key_at = i_;
        if (i_ >= h_.size() || h_[i_] != '"') bad("expected a tensor name");
        skip_string();
        std::string key = h_.substr(key_at, i_ - key_at);
        ws();
        if (i_ >= h_.size() || h_[i_] != ':') bad("expected ':'");
        ++i_;
        ws();
        size_t val_at = i_;
        skip_value();
        fn(key, h_.substr(val_at, i_ - val_at), key_at);
        ws();
        if (i_ < h_.size() && h_[i_] == ',') { ++i_; continue; }
        if (i_ < h_.size() && h_[i_] == '}') { ++i_; break; }
        bad("expected ',' or '}'");
      }
    }
    ws();
    if (i_ != h_.size()) bad("trailing characters after the header object");
  }

 private:
  const std::string &src_;
  const std::string &h_;
  size_t i_ = 0;
  [[noreturn]] void bad(const char *what) {
    fail(MX_ERR_FORMAT, src_, ": corrupt safetensors header at byte ", 8 + i_, ": ", what);
  }
  void ws() {
    while (i_ < h_.size() && (h_[i_] == ' ' || h_[i_] == '\n' || h_[i_] == '\t' || h_[i_] == '\r')) ++i_;
  }
  void skip_string() {  // at the opening quote
    ++i_;
    while (i_ < h_.size()) {
      char c = h_[i_++];
      if (c == '"') return;
      if (c == '\\') {
        if (i_ >= h_.size()) break;
        ++i_;
      }
    }
    bad("unterminated string");
  }
  // Skips one member value, ending at the ',' or '}' that follows it. Values are bounded in
  // nesting and in element count, so parsing one costs memory proportional to a tensor entry.
  void skip_value() {
    size_t start = i_;
    int depth = 0, commas = 0;
    while (i_ < h_.size()) {
      char c = h_[i_];
      if (c == '"') {
        skip_string();
        continue;
      }
      if (c == '{' || c == '[') {
        if (++depth > 4) bad("nesting too deep for a safetensors header");
      } else if (c == '}' || c == ']') {
        if (depth == 0) break;
        --depth;
      } else if (c == ',') {
        if (depth == 0) break;
        if (++commas > 4096) bad("a header entry has more than 4096 elements");
      }
      ++i_;
    }
    if (i_ >= h_.size()) bad("unexpected end of the header");
    if (i_ == start) bad("expected a value");
  }
};

uint64_t as_index(const Json &v, const std::string &src, uint64_t at, const std::string &name,
                  const char *what) {
  if (!v.is_number()) fail(MX_ERR_FORMAT, src, ": corrupt safetensors header at byte ", at, ": tensor '", name, "' ", what, " is not a number");
  double d = v.as_number();
  if (!std::isfinite(d) || d < 0 || d > kMaxExactInt || d != std::floor(d))
    fail(MX_ERR_FORMAT, src, ": corrupt safetensors header at byte ", at, ": tensor '", name, "' ", what,
         " is not a non-negative integer below 2^53");
  return static_cast<uint64_t>(d);
}

Entry parse_entry(const std::string &src, const std::string &name, const Json &v, uint64_t at) {
  auto bad = [&](const auto &...pieces) {
    fail(MX_ERR_FORMAT, src, ": corrupt safetensors header at byte ", at, ": tensor '", name, "' ", pieces...);
  };
  if (!v.is_object()) bad("is not an object");
  const Json &dt = v["dtype"];
  const Json &shape = v["shape"];
  const Json &offs = v["data_offsets"];
  if (!dt.is_string()) bad("has no string \"dtype\"");
  if (!shape.is_array()) bad("has no array \"shape\"");
  if (!offs.is_array() || offs.size() != 2) bad("has no [begin, end] \"data_offsets\"");
  Entry e;
  e.name = name;
  e.header_at = at;
  bool found = false;
  for (const auto &d : kDTypes)
    if (dt.as_string() == d.name) {
      e.dtype = d.dtype;
      found = true;
    }
  if (!found) {
    for (const char *o : kOtherDTypes)
      if (dt.as_string() == o)
        fail(MX_ERR_TYPE, src, ": tensor '", name, "' has safetensors dtype ", o,
             ", which MX does not support");
    bad("has unknown dtype ", json_quote(dt.as_string()));
  }
  if (shape.size() > size_t(kMaxNdim)) bad("has ", shape.size(), " dimensions (at most ", kMaxNdim, ")");
  for (const Json &d : shape.items())
    e.dims.push_back(static_cast<int64_t>(as_index(d, src, at, name, "shape entry")));
  e.begin = as_index(offs.items()[0], src, at, name, "data_offsets begin");
  e.end = as_index(offs.items()[1], src, at, name, "data_offsets end");
  return e;
}

bool is_canonical_index(const std::string &s, size_t n, size_t *out) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v >= n) return false;
  *out = static_cast<size_t>(v);
  return true;
}

const char kSparseKey[] = "mx.sparse:";

struct SparseSpec {
  SType stype;
  std::vector<int64_t> shape;
};

std::vector<std::string> component_names(SType st) {
  if (st == SType::csr) return {"data", "indices", "indptr"};
  return {"data", "indices"};
}

// The metadata value of "mx.sparse:NAME": {"stype": "csr"|"row_sparse", "shape": [dims]}.
SparseSpec parse_sparse_spec(const std::string &sn, const std::string &name, const std::string &text,
                             uint64_t at) {
  auto bad = [&](const std::string &why) {
    fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", at, ": __metadata__ ",
         json_quote(kSparseKey + name), " ", why);
  };
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Error &) {
    bad("is not a JSON object {\"stype\": ..., \"shape\": [...]}");
  }
  if (!j.is_object() || !j["stype"].is_string() || !j["shape"].is_array())
    bad("needs a string \"stype\" and an array \"shape\"");
  SparseSpec sp;
  const std::string &st = j["stype"].as_string();
  if (st == "csr") sp.stype = SType::csr;
  else if (st == "row_sparse") sp.stype = SType::row_sparse;
  else bad("has stype " + json_quote(st) + " (csr or row_sparse)");
  if (j["shape"].size() < 1 || j["shape"].size() > static_cast<size_t>(kMaxNdim)) bad("has a shape of bad rank");
  for (const Json &d : j["shape"].items()) {
    if (!d.is_number() || d.as_number() < 0 || d.as_number() > kMaxExactInt ||
        std::floor(d.as_number()) != d.as_number())
      bad("has a shape entry that is not a non-negative integer");
    sp.shape.push_back(static_cast<int64_t>(d.as_number()));
  }
  return sp;
}

}  // namespace

bool is_safetensors(ByteSource &src) {
  uint64_t size = src.size();
  if (size < 10) return false;
  uint8_t b[9];
  src.read(0, b, 9);
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = n << 8 | b[k];
  return n >= 2 && n <= size - 8 && n <= kMaxSafetensorsHeader && b[8] == '{';
}

ArrayList load_safetensors(ByteSource &src) {
  const std::string &sn = src.name();
  uint64_t size = src.size();
  if (size < 8)
    fail(MX_ERR_FORMAT, sn, ": truncated safetensors file at byte 0: the header length needs 8 bytes but ", size,
         " remain");
  uint8_t b[8];
  src.read(0, b, 8);
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = n << 8 | b[k];
  if (n > size - 8)
    fail(MX_ERR_FORMAT, sn, ": truncated safetensors file at byte 8: the header length ", n, " exceeds the ",
         size - 8, " bytes that follow");
  if (n > kMaxSafetensorsHeader)
    fail(MX_ERR_FORMAT, sn, ": corrupt safetensors file at byte 0: header length ", n, " exceeds the limit of ",
         kMaxSafetensorsHeader, " bytes");
  if (n < 2) fail(MX_ERR_FORMAT, sn, ": corrupt safetensors file at byte 0: header length ", n, " is too short");
  std::string header(static_cast<size_t>(n), '\0');
  src.read(8, &header[0], header.size());
  const uint64_t data_at = 8 + n, data_len = size - data_at;

  std::vector<Entry> entries;
  std::unordered_set<std::string> seen;
  bool is_list = false;
  std::map<std::string, SparseSpec> sparse;
  HeaderScan(sn, header).members([&](const std::string &key_json, const std::string &val_json, size_t off) {
    uint64_t at = 8 + off;
    std::string key;
    Json val;
    try {
      key = Json::parse(key_json).as_string();
      val = Json::parse(val_json);
    } catch (const Error &e) {
      fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", at, ": ", e.what());
    }
    if (!seen.insert(key).second)
      fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", at, ": duplicate name ", json_quote(key));
    if (key == "__metadata__") {
      if (!val.is_object())
        fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", at, ": __metadata__ is not an object");
      for (const auto &kv : val.members()) {
        if (!kv.second.is_string())
          fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", at, ": __metadata__ value ",
               json_quote(kv.first), " is not a string");
        if (kv.first == "mx.list" && kv.second.as_string() == "true") is_list = true;
        if (kv.first.compare(0, sizeof(kSparseKey) - 1, kSparseKey) == 0) {
          std::string name = kv.first.substr(sizeof(kSparseKey) - 1);
          sparse[name] = parse_sparse_spec(sn, name, kv.second.as_string(), at);
        }
      }
      return;
    }
    entries.push_back(parse_entry(sn, key, val, at));
  });
  MX_CHECK(entries.size() <= size_t(INT_MAX), MX_ERR_FORMAT, sn, ": too many tensors");

  // Sizes and bounds, then overlaps (sorted by begin), all before allocating.
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry &e = entries[i];
    order[i] = i;
    uint64_t numel = 1;
    bool zero = false;
    for (int64_t d : e.dims) {
      if (d == 0) {
        zero = true;
        continue;
      }
      if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel) || numel > uint64_t(INT64_MAX))
          fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", e.header_at, ": tensor '", e.name,
               "' has more elements than fit in 64 bits");
    }
    if (zero) numel = 0;
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(e.dtype)), &nbytes))
      fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", e.header_at, ": tensor '", e.name,
           "' is larger than 2^64 bytes");
    if (e.begin > e.end || e.end > data_len)
      fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", e.header_at, ": tensor '", e.name,
           "' data_offsets [", e.begin, ", ", e.end, ") fall outside the ", data_len, " data bytes (file truncated?)");
    if (e.end - e.begin != nbytes)
      fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header at byte ", e.header_at, ": tensor '", e.name,
           "' data_offsets span ", e.end - e.begin, " bytes but ", dtype_name(e.dtype), " shape ",
           Shape(e.dims).str(), " needs ", nbytes);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return entries[a].begin != entries[b].begin ? entries[a].begin < entries[b].begin
                                                : entries[a].end < entries[b].end;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const Entry &p = entries[order[k - 1]], &e = entries[order[k]];
    if (e.begin < p.end)
      fail(MX_ERR_FORMAT, sn, ": corrupt safetensors header: tensors '", p.name, "' [", p.begin, ", ", p.end,
           ") and '", e.name, "' [", e.begin, ", ", e.end, ") overlap");
  }

  // Every tensor, then sparse arrays folded from their components (at the first one's place).
  std::vector<NDArray> tensors;
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry &e = entries[i];
    NDArray a(Shape(e.dims), e.dtype);
    if (e.end > e.begin) src.read(data_at + e.begin, a.raw(), static_cast<size_t>(e.end - e.begin));
    tensors.push_back(std::move(a));
    index_of[e.name] = i;
  }
  std::vector<bool> consumed(entries.size(), false);
  std::map<size_t, std::pair<std::string, NDArray>> folded;  // first component's index -> array
  for (const auto &kv : sparse) {
    const std::string &name = kv.first;
    std::vector<NDArray> parts;
    size_t first = entries.size();
    for (const auto &c : component_names(kv.second.stype)) {
      auto it = index_of.find(name + "." + c);
      MX_CHECK(it != index_of.end(), MX_ERR_FORMAT, sn, ": corrupt safetensors file: sparse array ",
               json_quote(name), " (", stype_name(kv.second.stype), ") has no tensor ", json_quote(name + "." + c));
      MX_CHECK(!consumed[it->second], MX_ERR_FORMAT, sn, ": corrupt safetensors file: tensor ",
               json_quote(name + "." + c), " belongs to two sparse arrays");
      consumed[it->second] = true;
      first = std::min(first, it->second);
      parts.push_back(tensors[it->second]);
    }
    Shape shape(kv.second.shape);
    NDArray a = kv.second.stype == SType::csr ? make_csr(shape, parts[0], parts[2], parts[1])
                                              : make_row_sparse(shape, parts[0], parts[1]);
    std::string what = sn + ": sparse array '" + name + "'";
    try {
      validate_sparse(a, what.c_str());
    } catch (const Error &err) {
      fail(MX_ERR_FORMAT, err.what());
    }
    folded[first] = {name, a};
  }
  std::vector<std::string> names;
  std::vector<NDArray> arrays;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto f = folded.find(i);
    if (f != folded.end()) {
      names.push_back(f->second.first);
      arrays.push_back(f->second.second);
    } else if (!consumed[i]) {
      names.push_back(entries[i].name);
      arrays.push_back(tensors[i]);
    }
  }

  // An MX unnamed list: names are exactly "0".."n-1".
  std::vector<size_t> pos(arrays.size());
  if (is_list) {
    std::vector<bool> hit(arrays.size(), false);
    for (size_t i = 0; i < arrays.size() && is_list; ++i) {
      size_t v;
      if (!is_canonical_index(names[i], arrays.size(), &v) || hit[v]) is_list = false;
      else { hit[v] = true; pos[v] = i; }
    }
  }
  if (!is_list)
    for (size_t i = 0; i < arrays.size(); ++i) pos[i] = i;

  ArrayList out;
  out.named = !is_list;
  for (size_t k = 0; k < arrays.size(); ++k) {
    out.arrays.push_back(arrays[pos[k]]);
    if (out.named) out.names.push_back(names[pos[k]]);
  }
  return out;
}

void save_safetensors(ByteSink &sink, const std::vector<NDArray> &arrays,
                      const std::vector<std::string> &names, bool named) {
  MX_CHECK(!named || names.size() == arrays.size(), MX_ERR_INVALID_ARGUMENT,
           "save: ", names.size(), " names for ", arrays.size(), " arrays");
  bool list = !named;
  // The tensors written: dense arrays as they are, sparse ones as their components.
  std::vector<std::string> tnames;
  std::vector<NDArray> tensors;
  std::string meta = list ? "\"mx.list\":\"true\"" : "";
  for (size_t i = 0; i < arrays.size(); ++i) {
    const NDArray &a = arrays[i];
    std::string name = list ? std::to_string(i) : names[i];
    MX_CHECK(a.defined(), MX_ERR_INVALID_ARGUMENT, "save: array ", i, " is undefined");
    if (!a.is_sparse()) {
      tnames.push_back(name);
      tensors.push_back(a);
      continue;
    }
    const SparseParts &p = *a.sparse();
    const NDArray *parts[] = {&p.data, &p.indices, &p.indptr};
    std::vector<std::string> comps = component_names(p.stype);
    for (size_t k = 0; k < comps.size(); ++k) {
      tnames.push_back(name + "." + comps[k]);
      tensors.push_back(*parts[k]);
    }
    std::string spec = std::string("{\"stype\":\"") + stype_name(p.stype) + "\",\"shape\":[";
    for (int k = 0; k < a.ndim(); ++k) spec += (k ? "," : "") + std::to_string(a.shape()[k]);
    spec += "]}";
    if (!meta.empty()) meta += ',';
    meta += json_quote(kSparseKey + name) + ":" + json_quote(spec);
  }
  std::unordered_set<std::string> seen;
  std::string h = "{";
  if (!meta.empty()) h += "\"__metadata__\":{" + meta + "}";
  uint64_t off = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const NDArray &a = tensors[i];
    const std::string &name = tnames[i];
    MX_CHECK(name != "__metadata__", MX_ERR_INVALID_ARGUMENT,
             "save: '__metadata__' is reserved in safetensors and cannot name an array");
    MX_CHECK(seen.insert(name).second, MX_ERR_INVALID_ARGUMENT, "save: duplicate name '", name,
             "' (safetensors names must be unique; a sparse array NAME is stored as NAME.data, "
             "NAME.indices[, NAME.indptr])");
    if (h.size() > 1) h += ',';
    h += json_quote(name);
    h += ":{\"dtype\":\"";
    h += st_name(a.dtype());
    h += "\",\"shape\":[";
    for (int k = 0; k < a.ndim(); ++k) {
      if (k) h += ',';
      h += std::to_string(a.shape()[k]);
    }
    h += "],\"data_offsets\":[";
    h += std::to_string(off) + "," + std::to_string(off + a.nbytes()) + "]}";
    off += a.nbytes();
  }
  h += '}';
  while (h.size() % 8) h += ' ';  // data starts 8-byte aligned
  uint64_t n = h.size();
  uint8_t b[8];
  for (int k = 0; k < 8; ++k) b[k] = uint8_t(n >> (8 * k));
  sink.write(b, 8);
  sink.write(h.data(), h.size());
  for (const NDArray &a : tensors) {
    if (a.nbytes() == 0) continue;
    if (a.device().is_cpu()) {
      sink.write(a.raw(), a.nbytes());
    } else {
      NDArray c = a.to(Device());
      sink.write(c.raw(), c.nbytes());
    }
  }
}

}  // namespace io
}  // namespace mx
