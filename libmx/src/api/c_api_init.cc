// C API: initializers (init/initializer.h).
#include <string>

#include "api/api_util.h"
#include "base/json.h"
#include "init/initializer.h"

struct mx_initializer_s {
  std::shared_ptr<mx::Initializer> init;
  std::string json;
};

using namespace mx;

namespace {
Initializer &init_of(mx_initializer_t h) {
  if (!h || !h->init) fail(MX_ERR_INVALID_ARGUMENT, "NULL initializer handle");
  return *h->init;
}
}  // namespace

extern "C" {

int mx_initializer_new(const char *json, mx_initializer_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(json);
  MX_REQUIRE_PTR(out);
  auto h = std::make_unique<mx_initializer_s>();
  h->init = make_initializer(std::string(json));
  h->json = h->init->describe().dump();
  *out = h.release();
  MX_API_END();
}

int mx_initializer_free(mx_initializer_t init) {
  delete init;
  return MX_OK;
}

int mx_initializer_apply(mx_initializer_t init, const char *name, mx_ndarray_t arr) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(name);
  init_of(init).apply(name, Json(), arr_of(arr, "arr"));
  MX_API_END();
}

int mx_initializer_apply_desc(mx_initializer_t init, const char *name, const char *attrs_json,
                              mx_ndarray_t arr) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(name);
  Json attrs;
  if (attrs_json && *attrs_json) {
    attrs = Json::parse(attrs_json);
    MX_CHECK(attrs.is_object() || attrs.is_null(), MX_ERR_INVALID_ARGUMENT,
             "attrs_json must be a JSON object, got ", attrs.dump());
  }
  init_of(init).apply(name, attrs, arr_of(arr, "arr"));
  MX_API_END();
}

int mx_initializer_json(mx_initializer_t init, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  init_of(init);
  *out_json = init->json.c_str();
  MX_API_END();
}

}  // extern "C"
