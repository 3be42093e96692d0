#include "ops/params.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "base/json.h"
#include "ops/registry.h"

namespace mx {

namespace {
std::string trim(const std::string &s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}
bool is_none(const std::string &s) {
  std::string t = trim(s);
  return t == "None" || t == "none" || t == "null" || t.empty();
}
// Split "(1, 2, 3)" / "[1,2]" / "1" / "()" into trimmed items.
std::vector<std::string> split_tuple(const std::string &text) {
  std::string s = trim(text);
  if (!s.empty() && (s.front() == '(' || s.front() == '[')) {
    char close = s.front() == '(' ? ')' : ']';
    if (s.back() != close) throw std::invalid_argument("unbalanced brackets");
    s = s.substr(1, s.size() - 2);
  }
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  for (auto &x : out)
    if (x.empty()) throw std::invalid_argument("empty tuple item");
  return out;
}
}  // namespace

void parse_value(const std::string &text, int64_t *out) {
  std::string s = trim(text);
  if (!s.empty() && s.back() == 'L') s.pop_back();  // Python 2 longs in old files
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != 0 || errno == ERANGE) {
    // Accept integral floats such as "2.0".
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != 0 || d != std::floor(d) || std::fabs(d) > 9.2e18)
      throw std::invalid_argument("expected an integer");
    v = static_cast<long long>(d);
  }
  *out = v;
}
void parse_value(const std::string &s, int *out) {
  int64_t v;
  parse_value(s, &v);
  if (v < INT32_MIN || v > INT32_MAX) throw std::invalid_argument("integer out of range");
  *out = static_cast<int>(v);
}
void parse_value(const std::string &text, double *out) {
  std::string s = trim(text);
  if (s == "inf" || s == "Infinity") { *out = HUGE_VAL; return; }
  if (s == "-inf" || s == "-Infinity") { *out = -HUGE_VAL; return; }
  char *end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != 0) throw std::invalid_argument("expected a number");
  *out = d;
}
void parse_value(const std::string &s, float *out) {
  double d;
  parse_value(s, &d);
  *out = static_cast<float>(d);
}
void parse_value(const std::string &text, bool *out) {
  std::string s = trim(text);
  if (s == "True" || s == "true" || s == "1") *out = true;
  else if (s == "False" || s == "false" || s == "0") *out = false;
  else throw std::invalid_argument("expected a boolean (True/False/1/0)");
}
void parse_value(const std::string &text, std::string *out) {
  std::string s = trim(text);
  if (s.size() >= 2 && ((s.front() == '\'' && s.back() == '\'') || (s.front() == '"' && s.back() == '"')))
    s = s.substr(1, s.size() - 2);
  *out = s;
}
void parse_value(const std::string &s, std::vector<int64_t> *out) {
  std::vector<int64_t> v;
  for (auto &item : split_tuple(s)) {
    int64_t x;
    parse_value(item, &x);
    v.push_back(x);
  }
  *out = std::move(v);
}
void parse_value(const std::string &s, std::vector<double> *out) {
  std::vector<double> v;
  for (auto &item : split_tuple(s)) {
    double x;
    parse_value(item, &x);
    v.push_back(x);
  }
  *out = std::move(v);
}
void parse_value(const std::string &s, std::optional<int64_t> *out) {
  if (is_none(s)) { *out = std::nullopt; return; }
  int64_t v;
  parse_value(s, &v);
  *out = v;
}
void parse_value(const std::string &s, std::optional<double> *out) {
  if (is_none(s)) { *out = std::nullopt; return; }
  double v;
  parse_value(s, &v);
  *out = v;
}
void parse_value(const std::string &s, std::optional<bool> *out) {
  if (is_none(s)) { *out = std::nullopt; return; }
  bool v;
  parse_value(s, &v);
  *out = v;
}
void parse_value(const std::string &s, std::vector<std::optional<int64_t>> *out) {
  std::vector<std::optional<int64_t>> v;
  for (auto &item : split_tuple(s)) {
    std::optional<int64_t> x;
    parse_value(item, &x);
    v.push_back(x);
  }
  *out = std::move(v);
}

std::string print_value(int64_t v) { return std::to_string(v); }
std::string print_value(int v) { return std::to_string(v); }
std::string print_value(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  std::string s = buf;
  // Keep floats recognisable as floats ("1" -> "1.0"), as MXNet prints them.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
std::string print_value(float v) { return print_value(static_cast<double>(v)); }
std::string print_value(bool v) { return v ? "True" : "False"; }
std::string print_value(const std::string &v) { return v; }
std::string print_value(const std::vector<int64_t> &v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  if (v.size() == 1) s += ",";
  return s + ")";
}
std::string print_value(const std::vector<double> &v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += print_value(v[i]);
  }
  if (v.size() == 1) s += ",";
  return s + ")";
}
std::string print_value(const std::optional<int64_t> &v) { return v ? print_value(*v) : "None"; }
std::string print_value(const std::optional<double> &v) { return v ? print_value(*v) : "None"; }
std::string print_value(const std::optional<bool> &v) { return v ? print_value(*v) : "None"; }
std::string print_value(const std::vector<std::optional<int64_t>> &v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += print_value(v[i]);
  }
  if (v.size() == 1) s += ",";
  return s + ")";
}

template <> const char *type_name<int64_t>() { return "int"; }
template <> const char *type_name<int>() { return "int"; }
template <> const char *type_name<double>() { return "float"; }
template <> const char *type_name<float>() { return "float"; }
template <> const char *type_name<bool>() { return "boolean"; }
template <> const char *type_name<std::string>() { return "string"; }
template <> const char *type_name<std::vector<int64_t>>() { return "tuple of int"; }
template <> const char *type_name<std::vector<double>>() { return "tuple of float"; }
template <> const char *type_name<std::optional<int64_t>>() { return "int or None"; }
template <> const char *type_name<std::optional<double>>() { return "float or None"; }
template <> const char *type_name<std::optional<bool>>() { return "boolean or None"; }
template <> const char *type_name<std::vector<std::optional<int64_t>>>() { return "tuple of int or None"; }

int ParamSchema::find(const std::string &name) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string Params::json() const {
  Json o = Json::object();
  if (op)
    for (auto &f : op->params.fields) o.set(f.name, f.get(data.get()));
  if (op && op->params.open)  // the free-form keys are part of the op's identity
    for (auto &kv : given)
      if (op->params.find(kv.first) < 0) o.set(kv.first, kv.second);
  return o.dump();
}

namespace {
// "cpu(0)", "gpu(1)", "cpu_pinned(0)".
void parse_ctx(const std::string &text, int *type, int *id) {
  std::string s = trim(text);
  size_t lp = s.find('(');
  std::string dev = s.substr(0, lp);
  int64_t n = 0;
  if (lp != std::string::npos) {
    if (s.back() != ')') throw std::invalid_argument("expected a context such as cpu(0)");
    parse_value(s.substr(lp + 1, s.size() - lp - 2), &n);
  }
  if (dev == "cpu") *type = MX_CPU;
  else if (dev == "gpu") *type = MX_GPU;
  else if (dev == "cpu_pinned") *type = MX_CPU_PINNED;
  else throw std::invalid_argument("expected a context such as cpu(0) or gpu(0)");
  *id = static_cast<int>(n);
}
}  // namespace

std::shared_ptr<const Params> parse_params(const OpDef *op, const Kwargs &kwargs) {
  auto p = std::make_shared<Params>();
  p->op = op;
  const ParamSchema &schema = op->params;
  p->data = schema.make ? schema.make() : std::shared_ptr<void>();
  std::vector<bool> seen(schema.fields.size(), false);
  for (auto &f : schema.fields)
    if (f.reset) f.reset(p->data.get());
  for (auto &kv : kwargs) {
    if (kv.first == "ctx") {
      try {
        parse_ctx(kv.second, &p->dev_type, &p->dev_id);
      } catch (const std::invalid_argument &e) {
        fail(MX_ERR_INVALID_ARGUMENT, op->name, ": parameter 'ctx' has invalid value '", kv.second,
             "': ", e.what());
      }
      continue;
    }
    int idx = schema.find(kv.first);
    if (idx < 0 && schema.open) {
      p->given.push_back(kv);
      continue;
    }
    if (idx < 0) {
      // Graph-level attributes of MXNet symbol files are not op parameters.
      if (kv.first.size() > 4 && kv.first.compare(0, 2, "__") == 0) continue;
      std::string known;
      for (auto &f : schema.fields) known += (known.empty() ? "" : ", ") + f.name;
      fail(MX_ERR_INVALID_ARGUMENT, op->name, ": unknown parameter '", kv.first, "' (",
           known.empty() ? "the op takes no parameters" : "known: " + known, ")");
    }
    const FieldInfo &f = schema.fields[static_cast<size_t>(idx)];
    try {
      f.set(p->data.get(), kv.second);
    } catch (const std::invalid_argument &e) {
      fail(MX_ERR_INVALID_ARGUMENT, op->name, ": parameter '", f.name, "' has invalid value '",
           kv.second, "': ", e.what(), " (expected ", f.type, ")");
    }
    if (!f.choices.empty()) {
      std::string v = f.get(p->data.get());
      bool ok = false;
      std::string list;
      for (auto &c : f.choices) {
        ok = ok || c == v;
        list += (list.empty() ? "" : ", ") + c;
      }
      if (!ok)
        fail(MX_ERR_INVALID_ARGUMENT, op->name, ": parameter '", f.name, "' has invalid value '",
             kv.second, "' (expected one of ", list, ")");
    }
    seen[static_cast<size_t>(idx)] = true;
    p->given.push_back(kv);
  }
  for (size_t i = 0; i < schema.fields.size(); ++i)
    if (schema.fields[i].required && !seen[i])
      fail(MX_ERR_INVALID_ARGUMENT, op->name, ": required parameter '", schema.fields[i].name,
           "' is missing");
  if (schema.check) schema.check(p->data.get(), op->name);
  return p;
}

}  // namespace mx
