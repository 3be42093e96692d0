#include "ndarray/shape.h"

#include "base/error.h"

namespace mx {

std::string Shape::str() const {
  if (!known_) return "?";
  std::string s = "(";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  if (dims_.size() == 1) s += ",";
  return s + ")";
}

bool checked_size(const Shape &s, int64_t *out) {
  int64_t n = 1;
  for (int64_t d : s.dims()) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return false;
  }
  *out = n;
  return true;
}

int normalize_axis(int64_t axis, int ndim, const char *what) {
  int64_t a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim)
    fail(MX_ERR_INVALID_ARGUMENT, what, ": axis ", axis, " is out of range for ", ndim, " dimensions");
  return static_cast<int>(a);
}

}  // namespace mx
