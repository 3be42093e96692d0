#include "base/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/error.h"

namespace mx {

namespace {
const Json kNull;

class Parser {
 public:
  explicit Parser(const std::string &t) : t_(t) {}
  Json run() {
    Json v = value(0);
    ws();
    if (i_ != t_.size()) bad("trailing characters");
    return v;
  }

 private:
  const std::string &t_;
  size_t i_ = 0;
  [[noreturn]] void bad(const char *what) {
    fail(MX_ERR_FORMAT, "JSON parse error: ", what, " at offset ", i_);
  }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\t' || t_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < t_.size() && t_[i_] == c) { ++i_; return true; }
    return false;
  }
  Json value(int depth) {
    if (depth > 512) bad("nesting too deep");
    ws();
    if (i_ >= t_.size()) bad("unexpected end");
    char c = t_[i_];
    if (c == '{') {
      ++i_;
      Json o = Json::object();
      if (eat('}')) return o;
      do {
        ws();
        if (i_ >= t_.size() || t_[i_] != '"') bad("expected a key");
        std::string k = str();
        if (!eat(':')) bad("expected ':'");
        o.set(k, value(depth + 1));
      } while (eat(','));
      if (!eat('}')) bad("expected '}'");
      return o;
    }
    if (c == '[') {
      ++i_;
      Json a = Json::array();
      if (eat(']')) return a;
      do { a.push(value(depth + 1)); } while (eat(','));
      if (!eat(']')) bad("expected ']'");
      return a;
    }
    if (c == '"') return Json(str());
    if (t_.compare(i_, 4, "true") == 0) { i_ += 4; return Json(true); }
    if (t_.compare(i_, 5, "false") == 0) { i_ += 5; return Json(false); }
    if (t_.compare(i_, 4, "null") == 0) { i_ += 4; return Json(); }
    // Python's json module writes these for non-finite floats.
    if (t_.compare(i_, 3, "NaN") == 0) { i_ += 3; return Json(std::nan("")); }
    if (t_.compare(i_, 8, "Infinity") == 0) { i_ += 8; return Json(HUGE_VAL); }
    if (t_.compare(i_, 9, "-Infinity") == 0) { i_ += 9; return Json(-HUGE_VAL); }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char *start = t_.c_str() + i_;
      char *end = nullptr;
      double d = std::strtod(start, &end);
      if (end == start) bad("bad number");
      i_ += static_cast<size_t>(end - start);
      return Json(d);
    }
    bad("unexpected character");
  }
  static void put_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  uint32_t hex4() {
    if (i_ + 4 > t_.size()) bad("short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = t_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else bad("bad \\u escape");
    }
    return v;
  }
  std::string str() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= t_.size()) bad("unterminated string");
      char c = t_[i_++];
      if (c == '"') break;
      if (c != '\\') { out += c; continue; }
      if (i_ >= t_.size()) bad("unterminated escape");
      char e = t_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 6 <= t_.size() && t_[i_] == '\\' && t_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: bad("bad escape");
      }
    }
    return out;
  }
};
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
      if (n_ == std::floor(n_) && std::fabs(n_) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", n_);
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

Json Json::parse(const std::string &text) { return Parser(text).run(); }

}  // namespace mx
