#include "ops/sparse/attach.h"

#include <cstdlib>
#include <mutex>

namespace mx {

std::vector<SparseAttachment> &sparse_attachments() {
  static std::vector<SparseAttachment> v;  // function-local: safe during static registration
  return v;
}

void install_sparse_attachments() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (auto &a : sparse_attachments()) {
      OpDef *def = const_cast<OpDef *>(Registry::get().find(a.op));
      MX_CHECK(def != nullptr, MX_ERR_INTERNAL, "sparse kernel for unknown op ", a.op);
      if (def->infer_stype) continue;  // the op's own registration wins
      def->infer_stype = a.infer;
      def->forward_sparse = a.kernel;
    }
  });
}

std::string param_text(const Params &p, const char *name) {
  if (!p.op) return "";
  int i = p.op->params.find(name);
  if (i < 0) return "";
  return p.op->params.fields[static_cast<size_t>(i)].get(p.data.get());
}

std::vector<std::optional<int64_t>> parse_opt_tuple(const std::string &text, bool *ok) {
  std::vector<std::optional<int64_t>> v;
  *ok = true;
  std::string t;
  for (char ch : text)
    if (ch != '(' && ch != ')' && ch != '[' && ch != ']' && ch != ' ') t += ch;
  if (t.empty() || t == "None") return v;
  size_t b = 0;
  while (b < t.size()) {
    size_t e = t.find(',', b);
    if (e == std::string::npos) e = t.size();
    std::string item = t.substr(b, e - b);
    if (item == "None") {
      v.push_back(std::nullopt);
    } else if (!item.empty()) {
      char *end = nullptr;
      long long x = std::strtoll(item.c_str(), &end, 10);
      if (!end || *end != '\0') {
        *ok = false;
        return {};
      }
      v.push_back(static_cast<int64_t>(x));
    }
    b = e + 1;
  }
  return v;
}

std::vector<int64_t> parse_int_tuple(const std::string &text, bool *ok) {
  std::vector<int64_t> v;
  for (auto &x : parse_opt_tuple(text, ok)) {
    if (!x) *ok = false;
    else v.push_back(*x);
  }
  return v;
}

NDArray with_values(const NDArray &a, const NDArray &values) {
  const SparseParts &p = *a.sparse();
  if (p.stype == SType::csr) return make_csr(a.shape(), values, p.indptr, p.indices);
  return make_row_sparse(a.shape(), values, p.indices);
}

NDArray run_dense(const OpDef *op, const Params &p, const std::vector<NDArray> &inputs) {
  return invoke_raw(op, p, inputs, {}, false)[0];
}

}  // namespace mx
