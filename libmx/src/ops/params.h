// Typed operator parameters, parsed once. Each op describes a plain struct:
//
//   struct FCParam {
//     int64_t num_hidden; bool no_bias; bool flatten;
//     static void describe(ParamDecl<FCParam> &d) {
//       d.field("num_hidden", &FCParam::num_hidden).required().doc("Number of hidden units.");
//       d.field("no_bias", &FCParam::no_bias).def(false).doc("Disable the bias.");
//     }
//   };
//
// mx_params_new parses string values (MXNet's symbol-JSON spelling) into that struct; kernels
// read it with params.get<FCParam>(), a pointer cast.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace mx {

using Kwargs = std::vector<std::pair<std::string, std::string>>;

// Value parsing/printing per C++ field type. Throws std::invalid_argument on bad text.
void parse_value(const std::string &s, int64_t *out);
void parse_value(const std::string &s, int *out);
void parse_value(const std::string &s, double *out);
void parse_value(const std::string &s, float *out);
void parse_value(const std::string &s, bool *out);
void parse_value(const std::string &s, std::string *out);
void parse_value(const std::string &s, std::vector<int64_t> *out);   // "(2, 2)", "[2,2]", "2", "()"
void parse_value(const std::string &s, std::vector<double> *out);
void parse_value(const std::string &s, std::optional<int64_t> *out);  // "None" allowed
void parse_value(const std::string &s, std::optional<double> *out);
void parse_value(const std::string &s, std::optional<bool> *out);
void parse_value(const std::string &s, std::vector<std::optional<int64_t>> *out);  // (None, 1)
std::string print_value(int64_t v);
std::string print_value(int v);
std::string print_value(double v);
std::string print_value(float v);
std::string print_value(bool v);
std::string print_value(const std::string &v);
std::string print_value(const std::vector<int64_t> &v);
std::string print_value(const std::vector<double> &v);
std::string print_value(const std::optional<int64_t> &v);
std::string print_value(const std::optional<double> &v);
std::string print_value(const std::optional<bool> &v);
std::string print_value(const std::vector<std::optional<int64_t>> &v);
template <typename T> const char *type_name();

struct FieldInfo {
  std::string name;
  std::string type;      // "int", "float", "boolean", "string", "tuple of int", ...
  std::string doc;
  std::string default_text;  // printed default; empty when required
  bool required = false;
  std::vector<std::string> choices;  // for enum-like strings
  std::function<void(void *obj, const std::string &text)> set;  // throws std::invalid_argument
  std::function<std::string(const void *obj)> get;
  std::function<void(void *obj)> reset;  // apply default
};

struct ParamSchema {
  std::vector<FieldInfo> fields;
  std::function<std::shared_ptr<void>()> make;  // struct with defaults applied
  std::function<void(void *obj, const std::string &op)> check;  // optional cross-field validation
  // Open schemas keep unknown keys as strings in Params::given (Custom ops pass them to their
  // front-end implementation) instead of rejecting them.
  bool open = false;
  int find(const std::string &name) const;
};

template <typename S> class ParamDecl;

template <typename S, typename F> class FieldRef {
 public:
  FieldRef(FieldInfo *info, F S::*member) : info_(info), member_(member) {}
  FieldRef &required() {
    info_->required = true;
    info_->default_text.clear();
    return *this;
  }
  FieldRef &def(const F &value) {
    auto m = member_;
    info_->default_text = print_value(value);
    info_->reset = [m, value](void *o) { static_cast<S *>(o)->*m = value; };
    return *this;
  }
  FieldRef &doc(const char *text) {
    info_->doc = text;
    return *this;
  }
  FieldRef &choices(std::vector<std::string> c) {
    info_->choices = std::move(c);
    return *this;
  }

 private:
  FieldInfo *info_;
  F S::*member_;
};

template <typename S> class ParamDecl {
 public:
  explicit ParamDecl(ParamSchema *schema) : schema_(schema) {}
  template <typename F> FieldRef<S, F> field(const char *name, F S::*member) {
    FieldInfo info;
    info.name = name;
    info.type = type_name<F>();
    info.set = [member, name](void *o, const std::string &text) {
      parse_value(text, &(static_cast<S *>(o)->*member));
    };
    info.get = [member](const void *o) { return print_value(static_cast<const S *>(o)->*member); };
    info.reset = [member](void *o) { static_cast<S *>(o)->*member = F(); };
    schema_->fields.push_back(std::move(info));
    return FieldRef<S, F>(&schema_->fields.back(), member);
  }
  // Cross-field validation run after parsing; throw via fail(MX_ERR_INVALID_ARGUMENT, ...).
  // Accept unknown keys, kept as strings in Params::given.
  void open() { schema_->open = true; }
  void check(std::function<void(const S &, const std::string &op)> fn) {
    schema_->check = [fn](void *o, const std::string &op) { fn(*static_cast<S *>(o), op); };
  }

 private:
  ParamSchema *schema_;
};

template <typename S> ParamSchema make_schema() {
  ParamSchema schema;
  schema.fields.reserve(64);  // FieldRef keeps pointers into this vector
  ParamDecl<S> decl(&schema);
  S::describe(decl);
  schema.make = []() { return std::shared_ptr<void>(std::make_shared<S>()); };
  return schema;
}

struct EmptyParam {
  static void describe(ParamDecl<EmptyParam> &) {}
};

struct OpDef;

// Parsed parameters of one op: the typed struct plus the user's original key/values (kept for
// symbol JSON) and the device requested through "ctx" for ops without inputs.
class Params {
 public:
  const OpDef *op = nullptr;
  std::shared_ptr<void> data;
  Kwargs given;          // as the user wrote them (without ctx)
  int dev_type = -1;     // from "ctx" (-1: not given)
  int dev_id = 0;
  std::string json_cache;

  template <typename T> const T &get() const { return *static_cast<const T *>(data.get()); }
  std::string json() const;  // all fields, canonical text, as a JSON object
};

// Parse kwargs for `op`; throws MX_ERR_INVALID_ARGUMENT naming op, key and value.
std::shared_ptr<const Params> parse_params(const OpDef *op, const Kwargs &kwargs);

}  // namespace mx
