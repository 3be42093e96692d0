#include "base/json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace mx {

namespace {
const Json kNull;

using Ordered = nlohmann::ordered_json;
constexpr int kMaxDepth = 512;

// Non-finite numbers, which strict JSON (and so nlohmann) refuses but other writers produce:
// Python's json and Julia's writer emit NaN/Infinity/-Infinity, R's writes 1e999. Outside strings
// such tokens become marker strings before parsing, and numbers again in convert().
const char kMark = '\x01';
bool rewrite_nonfinite(const std::string &in, std::string *out) {
  bool changed = false, in_str = false;
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    const char c = in[i];
    if (in_str) {
      if (c == '\\' && i + 1 < in.size()) { out->append(in, i, 2); i += 2; continue; }
      if (c == '"') in_str = false;
      out->push_back(c);
      ++i;
      continue;
    }
    if (c == '"') { in_str = true; out->push_back(c); ++i; continue; }
    const char *word = nullptr;
    size_t len = 0;
    for (const char *w : {"-Infinity", "Infinity", "NaN"})
      if (in.compare(i, std::strlen(w), w) == 0) { word = w; len = std::strlen(w); break; }
    if (!word && (c == '-' || (c >= '0' && c <= '9'))) {
      len = 1;
      while (i + len < in.size() && in[i + len] != 0 && std::strchr("0123456789.eE+-", in[i + len])) ++len;
      const std::string num = in.substr(i, len);
      if (std::isinf(std::strtod(num.c_str(), nullptr))) word = num[0] == '-' ? "-Infinity" : "Infinity";
    }
    if (!word) { out->append(in, i, len ? len : 1); i += len ? len : 1; continue; }
    *out += "\"\\u0001";
    *out += word;
    *out += '"';
    i += len;
    changed = true;
  }
  return changed;
}

// nlohmann's value (object order kept) into ours; depth is bounded by the parse callback.
Json convert(const Ordered &v) {
  switch (v.type()) {
    case Ordered::value_t::null: return Json();
    case Ordered::value_t::boolean: return Json(v.get<bool>());
    case Ordered::value_t::number_integer: return Json(static_cast<double>(v.get<int64_t>()));
    case Ordered::value_t::number_unsigned: return Json(static_cast<double>(v.get<uint64_t>()));
    case Ordered::value_t::number_float: return Json(v.get<double>());
    case Ordered::value_t::string: {
      const std::string &str = v.get_ref<const std::string &>();
      if (!str.empty() && str[0] == kMark) {
        if (str == "\x01NaN") return Json(std::nan(""));
        if (str == "\x01Infinity") return Json(HUGE_VAL);
        if (str == "\x01-Infinity") return Json(-HUGE_VAL);
      }
      return Json(str);
    }
    case Ordered::value_t::array: {
      Json a = Json::array();
      for (const auto &x : v) a.push(convert(x));
      return a;
    }
    case Ordered::value_t::object: {
      Json o = Json::object();
      for (const auto &kv : v.items()) o.set(kv.key(), convert(kv.value()));
      return o;
    }
    default: fail(MX_ERR_FORMAT, "JSON parse error: unsupported value (binary data)");
  }
}
}  // namespace

bool Json::as_bool() const {
  if (kind_ == Bool) return b_;
  if (kind_ == Number) return n_ != 0;
  fail(MX_ERR_FORMAT, "JSON value is not a boolean");
}
double Json::as_number() const {
  if (kind_ == Number) return n_;
  if (kind_ == Bool) return b_ ? 1 : 0;
  if (kind_ == String) {  // MXNet writes numbers as strings in many places
    char *end = nullptr;
    double d = std::strtod(s_.c_str(), &end);
    if (end != s_.c_str() && *end == 0) return d;
  }
  fail(MX_ERR_FORMAT, "JSON value is not a number");
}
int64_t Json::as_int() const { return static_cast<int64_t>(std::llround(as_number())); }
const std::string &Json::as_string() const {
  if (kind_ != String) fail(MX_ERR_FORMAT, "JSON value is not a string");
  return s_;
}
const std::vector<Json> &Json::items() const {
  if (kind_ != Array) fail(MX_ERR_FORMAT, "JSON value is not an array");
  return a_;
}
std::vector<Json> &Json::items() {
  if (kind_ != Array) fail(MX_ERR_FORMAT, "JSON value is not an array");
  return a_;
}
const std::vector<std::pair<std::string, Json>> &Json::members() const {
  if (kind_ != Object) fail(MX_ERR_FORMAT, "JSON value is not an object");
  return o_;
}
bool Json::has(const std::string &key) const {
  if (kind_ != Object) return false;
  for (auto &kv : o_) if (kv.first == key) return true;
  return false;
}
const Json &Json::operator[](const std::string &key) const {
  if (kind_ == Object)
    for (auto &kv : o_) if (kv.first == key) return kv.second;
  return kNull;
}
Json &Json::set(const std::string &key, Json value) {
  if (kind_ == Null) kind_ = Object;
  if (kind_ != Object) fail(MX_ERR_INTERNAL, "JSON set on a non-object");
  for (auto &kv : o_) if (kv.first == key) { kv.second = std::move(value); return kv.second; }
  o_.emplace_back(key, std::move(value));
  return o_.back().second;
}
void Json::push(Json value) {
  if (kind_ == Null) kind_ = Array;
  if (kind_ != Array) fail(MX_ERR_INTERNAL, "JSON push on a non-array");
  a_.push_back(std::move(value));
}
size_t Json::size() const { return kind_ == Array ? a_.size() : kind_ == Object ? o_.size() : 0; }

std::string json_quote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void Json::dump_to(std::string &out, int indent, int level) const {
  auto nl = [&](int l) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * l), ' ');
  };
  switch (kind_) {
    case Null: out += "null"; break;
    case Bool: out += b_ ? "true" : "false"; break;
    case Number: {
      if (std::isnan(n_)) { out += "NaN"; break; }
      if (std::isinf(n_)) { out += n_ > 0 ? "Infinity" : "-Infinity"; break; }
      char buf[32];
      // "-0.0", not "-0": a JSON integer -0 reads back as +0, losing the sign.
      if (n_ == 0 && std::signbit(n_)) std::snprintf(buf, sizeof buf, "-0.0");
      else if (n_ == std::floor(n_) && std::fabs(n_) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", n_);
      else std::snprintf(buf, sizeof buf, "%.17g", n_);
      out += buf;
      break;
    }
    case String: out += json_quote(s_); break;
    case Array:
      out += '[';
      for (size_t k = 0; k < a_.size(); ++k) {
        if (k) out += indent < 0 ? ", " : ",";
        nl(level + 1);
        a_[k].dump_to(out, indent, level + 1);
      }
      if (!a_.empty()) nl(level);
      out += ']';
      break;
    case Object:
      out += '{';
      for (size_t k = 0; k < o_.size(); ++k) {
        if (k) out += indent < 0 ? ", " : ",";
        nl(level + 1);
        out += json_quote(o_[k].first);
        out += ": ";
        o_[k].second.dump_to(out, indent, level + 1);
      }
      if (!o_.empty()) nl(level);
      out += '}';
      break;
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

// Parsed by nlohmann/json; errors keep its position ("line 1, column 12") and reason, without its
// internal exception id, and nesting deeper than kMaxDepth is refused before it can exhaust the stack.
Json Json::parse(const std::string &text) {
  std::string rewritten;
  const std::string &src = rewrite_nonfinite(text, &rewritten) ? rewritten : text;
  Ordered v;
  try {
    v = Ordered::parse(src, [](int depth, Ordered::parse_event_t, Ordered &) {
      if (depth > kMaxDepth) fail(MX_ERR_FORMAT, "JSON parse error: nesting deeper than ", kMaxDepth, " levels");
      return true;
    });
  } catch (const nlohmann::json::exception &e) {  // parse_error, or out_of_range for numbers
    std::string what = e.what();
    const size_t id_end = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && id_end != std::string::npos) what = what.substr(id_end + 2);
    fail(MX_ERR_FORMAT, "JSON ", what);
  }
  return convert(v);
}

}  // namespace mx
