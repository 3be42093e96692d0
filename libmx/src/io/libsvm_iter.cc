// LibSVMIter (MXNet's): batches of csr data from a LibSVM text file, one instance per line,
// "label index:value index:value ..." with zero-based indices. The label (the line's first number)
// is a dense float32 batch. round_batch as MXNet: the last batch wraps to the first instances and
// the next epoch starts after them (MXNet refuses round_batch=False; so does MX).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/file_util.h"
#include "io/data_iter.h"
#include "ndarray/sparse.h"

namespace mx {
namespace io {
namespace {

struct LibSVMData {
  std::vector<int64_t> ptr{0}, col;
  std::vector<float> val, label;
};

LibSVMData parse_libsvm(const std::string &path, int64_t cols) {
  std::string text = read_file(path);
  LibSVMData d;
  std::vector<std::pair<int64_t, float>> row;
  for_each_line(text, [&](std::string l, int64_t line) {
    size_t hash = l.find('#');  // comments, as libsvm tools allow
    if (hash != std::string::npos) l.resize(hash);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.pop_back();
    if (l.empty()) return;
    const char *q = l.c_str();
    while (*q == ' ' || *q == '\t') ++q;
    char *end = nullptr;
    float lab = std::strtof(q, &end);
    MX_CHECK(end != q, MX_ERR_FORMAT, "LibSVMIter: '", path, "' line ", line, ": the label '",
             std::string(q).substr(0, 20), "' is not a number");
    q = end;
    row.clear();
    for (;;) {
      while (*q == ' ' || *q == '\t') ++q;
      if (*q == 0) break;
      errno = 0;
      long long idx = std::strtoll(q, &end, 10);
      MX_CHECK(end != q && *end == ':', MX_ERR_FORMAT, "LibSVMIter: '", path, "' line ", line, ": expected index:value, got '",
               std::string(q).substr(0, 20), "'");
      MX_CHECK(errno == 0 && idx >= 0 && idx < cols, MX_ERR_FORMAT, "LibSVMIter: '", path, "' line ", line, ": index ",
               std::string(q, static_cast<size_t>(end - q)), " is out of range for data_shape (", cols,
               ",) (indices are zero-based)");
      q = end + 1;
      float v = std::strtof(q, &end);
      MX_CHECK(end != q, MX_ERR_FORMAT, "LibSVMIter: '", path, "' line ", line, ": the value of index ", idx,
               " is not a number");
      q = end;
      MX_CHECK(*q == 0 || *q == ' ' || *q == '\t', MX_ERR_FORMAT, "LibSVMIter: '", path, "' line ", line,
               ": unexpected '", std::string(q).substr(0, 20), "'");
      row.emplace_back(static_cast<int64_t>(idx), v);
    }
    std::stable_sort(row.begin(), row.end(), [](auto &a, auto &b) { return a.first < b.first; });
    for (size_t k = 0; k < row.size(); ++k) {
      MX_CHECK(k == 0 || row[k].first != row[k - 1].first, MX_ERR_FORMAT, "LibSVMIter: '", path, "' line ", line,
               ": index ", row[k].first, " appears twice");
      d.col.push_back(row[k].first);
      d.val.push_back(row[k].second);
    }
    d.ptr.push_back(static_cast<int64_t>(d.col.size()));
    d.label.push_back(lab);
  });
  return d;
}

class LibSVMIter : public BatchIter {
 public:
  LibSVMIter(LibSVMData d, int64_t cols, const std::string &data_name, const std::string &label_name, int64_t bs)
      : d_(std::move(d)), cols_(cols) {
    Field lab;
    lab.name = label_name;
    fields_.push_back(lab);
    num_data_fields_ = 0;
    n_ = static_cast<int64_t>(d_.label.size());
    setup(bs, Last::kRoundCarry, false, 0, false);
    // The label field alone went through setup; describe the csr data too.
    Json prov = Json::parse(provide_json), dl = Json::array(), desc = Json::object();
    desc.set("name", data_name);
    Json sh = Json::array();
    sh.push(Json(bs));
    sh.push(Json(cols));
    desc.set("shape", sh);
    desc.set("dtype", "float32");
    desc.set("stype", "csr");
    dl.push(desc);
    prov.set("data", dl);
    provide_json = prov.dump();
  }
  bool next() override {
    if (!BatchIter::next()) return false;
    std::vector<int64_t> ptr(1, 0), col;
    std::vector<float> val;
    for (int64_t i : sel_) {
      for (int64_t k = d_.ptr[size_t(i)]; k < d_.ptr[size_t(i) + 1]; ++k) {
        col.push_back(d_.col[size_t(k)]);
        val.push_back(d_.val[size_t(k)]);
      }
      ptr.push_back(static_cast<int64_t>(col.size()));
    }
    int64_t nnz = static_cast<int64_t>(col.size());
    NDArray v(Shape({nnz}), DType::f32), c(Shape({nnz}), DType::i64), pp(Shape({bs_ + 1}), DType::i64);
    std::copy(val.begin(), val.end(), v.data<float>());
    std::copy(col.begin(), col.end(), c.data<int64_t>());
    std::copy(ptr.begin(), ptr.end(), pp.data<int64_t>());
    data.assign(1, make_csr(Shape({bs_, cols_}), v, pp, c));
    return true;
  }

 protected:
  void fill(const std::vector<int64_t> &sel) override {
    sel_ = sel;
    float *lab = reinterpret_cast<float *>(fields_[0].buf.data());
    for (size_t i = 0; i < sel.size(); ++i) lab[i] = d_.label[size_t(sel[i])];
  }

 private:
  LibSVMData d_;
  int64_t cols_;
  std::vector<int64_t> sel_;
};

}  // namespace

std::unique_ptr<DataIter> make_libsvm_iter(const Json &params) {
  IterParams P("LibSVMIter", params);
  std::string path = P.str("data_libsvm", "", true);
  std::vector<int64_t> shape = P.shape("data_shape", {}, true);
  int64_t bs = P.integer("batch_size", 0, true);
  bool round = P.boolean("round_batch", true);
  std::string label_libsvm = P.str("label_libsvm", "NULL");
  std::vector<int64_t> label_shape = P.shape("label_shape", {1});
  std::string data_name = P.str("data_name", "data"), label_name = P.str("label_name", "softmax_label");
  int64_t num_parts = P.integer("num_parts", 1), part_index = P.integer("part_index", 0);
  P.boolean("prefetch_buffer", true);
  P.check_unknown();
  MX_CHECK(shape.size() == 1 && shape[0] > 0, MX_ERR_INVALID_ARGUMENT,
           "LibSVMIter: data_shape must be (num_features,), got ", shape.size(), " dimensions");
  MX_CHECK(bs > 0, MX_ERR_INVALID_ARGUMENT, "LibSVMIter: batch_size must be positive, got ", bs);
  MX_CHECK(round, MX_ERR_UNSUPPORTED, "LibSVMIter: round_batch=False is not supported (as in MXNet)");
  MX_CHECK(label_libsvm.empty() || label_libsvm == "NULL", MX_ERR_UNSUPPORTED,
           "LibSVMIter: label_libsvm (labels from a second libsvm file) is not supported; labels come from "
           "the first number of each data line");
  MX_CHECK(label_shape.size() == 1 && label_shape[0] == 1, MX_ERR_UNSUPPORTED,
           "LibSVMIter: only label_shape (1,) is supported without label_libsvm");
  MX_CHECK(num_parts >= 1 && part_index >= 0 && part_index < num_parts, MX_ERR_INVALID_ARGUMENT,
           "LibSVMIter: part_index ", part_index, " must be in [0, num_parts ", num_parts, ")");
  LibSVMData d = parse_libsvm(path, shape[0]);
  if (num_parts > 1) {  // this part's contiguous share of the instances
    int64_t n = static_cast<int64_t>(d.label.size());
    int64_t b = n * part_index / num_parts, e = n * (part_index + 1) / num_parts;
    LibSVMData part;
    for (int64_t i = b; i < e; ++i) {
      for (int64_t k = d.ptr[size_t(i)]; k < d.ptr[size_t(i) + 1]; ++k) {
        part.col.push_back(d.col[size_t(k)]);
        part.val.push_back(d.val[size_t(k)]);
      }
      part.ptr.push_back(static_cast<int64_t>(part.col.size()));
      part.label.push_back(d.label[size_t(i)]);
    }
    d = std::move(part);
  }
  return std::make_unique<LibSVMIter>(std::move(d), shape[0], data_name, label_name, bs);
}

}  // namespace io
}  // namespace mx
