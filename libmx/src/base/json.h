// JSON value and writer for the core's small documents (op schemas, optimizer hyperparameters,
// symbol files); parsing is nlohmann/json's (json.cc), bounded in depth, throwing MX_ERR_FORMAT.
// The writer stays ours, so symbol files keep the layout they had.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mx {

class Json {
 public:
  enum Kind { Null, Bool, Number, String, Array, Object };
  Json() : kind_(Null) {}
  Json(std::nullptr_t) : kind_(Null) {}  // NOLINT
  Json(bool b) : kind_(Bool), b_(b) {}  // NOLINT
  Json(double d) : kind_(Number), n_(d) {}  // NOLINT
  Json(int v) : kind_(Number), n_(v) {}  // NOLINT
  Json(int64_t v) : kind_(Number), n_(static_cast<double>(v)) {}  // NOLINT
  Json(const char *s) : kind_(String), s_(s) {}  // NOLINT
  Json(std::string s) : kind_(String), s_(std::move(s)) {}  // NOLINT
  static Json array() { Json j; j.kind_ = Array; return j; }
  static Json object() { Json j; j.kind_ = Object; return j; }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Null; }
  bool is_bool() const { return kind_ == Bool; }
  bool is_number() const { return kind_ == Number; }
  bool is_string() const { return kind_ == String; }
  bool is_array() const { return kind_ == Array; }
  bool is_object() const { return kind_ == Object; }

  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;
  const std::string &as_string() const;
  const std::vector<Json> &items() const;  // array
  std::vector<Json> &items();
  // Object access keeps insertion order.
  const std::vector<std::pair<std::string, Json>> &members() const;
  bool has(const std::string &key) const;
  const Json &operator[](const std::string &key) const;  // Null when missing
  Json &set(const std::string &key, Json value);          // insert or replace
  void push(Json value);
  size_t size() const;

  std::string dump(int indent = -1) const;
  static Json parse(const std::string &text);  // throws mx::Error(MX_ERR_FORMAT)

 private:
  Kind kind_;
  bool b_ = false;
  double n_ = 0;
  std::string s_;
  std::vector<Json> a_;
  std::vector<std::pair<std::string, Json>> o_;
  void dump_to(std::string &out, int indent, int level) const;
};

std::string json_quote(const std::string &s);

}  // namespace mx
