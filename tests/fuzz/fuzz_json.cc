// libFuzzer harness: the core's JSON parser (libmx/src/base/json.cc, compiled into this harness:
// it is internal, not part of the C ABI). Parsing must end in a value or mx::Error; a parsed
// value must dump to text that parses back to the same dump (compact and indented).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "base/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  mx::Json v;
  try {
    v = mx::Json::parse(text);
  } catch (const mx::Error &e) {
    if (e.status() != MX_ERR_FORMAT) {
      std::fprintf(stderr, "Json::parse threw status %d: %s\n", e.status(), e.what());
      std::abort();
    }
    return 0;
  }
  std::string once = v.dump();
  for (int indent : {-1, 2}) {
    std::string text2 = v.dump(indent);
    try {
      std::string twice = mx::Json::parse(text2).dump();
      if (twice != once) {
        std::fprintf(stderr, "JSON round trip changed the value:\n%s\n%s\n", once.c_str(), twice.c_str());
        std::abort();
      }
    } catch (const mx::Error &e) {
      std::fprintf(stderr, "the parser rejects the writer's output (%s):\n%s\n", e.what(), text2.c_str());
      std::abort();
    }
  }
  return 0;
}
