// Shapes: a small vector of int64 dims. ndim -1 marks an unknown shape during inference.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace mx {

class Shape {
 public:
  Shape() : known_(false) {}  // unknown
  Shape(std::initializer_list<int64_t> d) : known_(true), dims_(d) {}
  explicit Shape(std::vector<int64_t> d) : known_(true), dims_(std::move(d)) {}
  Shape(const int64_t *d, int n) : known_(true), dims_(d, d + n) {}
  static Shape unknown() { return Shape(); }

  bool known() const { return known_; }
  int ndim() const { return known_ ? static_cast<int>(dims_.size()) : -1; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t &operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  int64_t size() const {  // number of elements
    int64_t n = 1;
    for (int64_t d : dims_) n *= d;
    return n;
  }
  const std::vector<int64_t> &dims() const { return dims_; }
  std::vector<int64_t> &dims() { return dims_; }
  const int64_t *data() const { return dims_.data(); }
  // Product of dims [begin, end).
  int64_t prod(int begin, int end) const {
    int64_t n = 1;
    for (int i = begin; i < end; ++i) n *= dims_[static_cast<size_t>(i)];
    return n;
  }
  bool operator==(const Shape &o) const { return known_ == o.known_ && dims_ == o.dims_; }
  bool operator!=(const Shape &o) const { return !(*this == o); }
  std::string str() const;  // "(2, 3)" or "?"

 private:
  bool known_;
  std::vector<int64_t> dims_;
};

// Overflow-checked element count: false (and *out untouched) when a dim is negative or the
// product does not fit in int64. Shape::size() wraps silently; allocation paths use this.
bool checked_size(const Shape &s, int64_t *out);

// Normalise a possibly negative axis for ndim dims; throws MX_ERR_INVALID_ARGUMENT naming `what`.
int normalize_axis(int64_t axis, int ndim, const char *what);

}  // namespace mx
