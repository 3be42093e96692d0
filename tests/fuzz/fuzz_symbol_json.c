/* libFuzzer harness: -symbol.json text through mx_symbol_from_json, then what a loaded model
 * meets next: listing, attributes, shape and type inference (full and partial), and the JSON
 * MX writes back must load again. */
#include "fuzz_util.h"

static void infer(mx_symbol_t sym) {
  static const char *shapes[] = {"{}", "{\"data\": [2, 3, 8, 8]}", "{\"data\": [4, 10]}",
                                 "{\"data\": [1]}"};
  const char *out = NULL;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
    fuzz_check_status(mx_symbol_infer_shape(sym, shapes[i], 1, &out), "mx_symbol_infer_shape(partial)");
    fuzz_check_status(mx_symbol_infer_shape(sym, shapes[i], 0, &out), "mx_symbol_infer_shape");
  }
  fuzz_check_status(mx_symbol_infer_type(sym, "{\"data\": \"float32\"}", 1, &out), "mx_symbol_infer_type");
  fuzz_check_status(mx_symbol_infer_type(sym, "{}", 0, &out), "mx_symbol_infer_type");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = (char *)malloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0;
  mx_symbol_t sym = NULL;
  int rc = mx_symbol_from_json(text, &sym);
  free(text);
  fuzz_check_status(rc, "mx_symbol_from_json");
  if (rc != MX_OK) return 0;

  int n = 0;
  const char **names = NULL;
  const char *s = NULL;
  for (int kind = MX_LIST_ARGUMENTS; kind <= MX_LIST_INPUTS; ++kind)
    fuzz_check_status(mx_symbol_list(sym, kind, &n, &names), "mx_symbol_list");
  fuzz_check_status(mx_symbol_list_attr(sym, 1, &s), "mx_symbol_list_attr");
  infer(sym);

  const char *json = NULL;
  fuzz_check_status(mx_symbol_to_json(sym, &json), "mx_symbol_to_json");
  if (json) {
    mx_symbol_t again = NULL;
    char *copy = strdup(json);
    if (mx_symbol_from_json(copy, &again) != MX_OK) {
      fprintf(stderr, "MX's own JSON does not load again: %s\n%s\n", mx_last_error(), copy);
      abort();
    }
    free(copy);
    mx_symbol_free(again);
  }
  mx_symbol_t internals = NULL;
  if (mx_symbol_get_internals(sym, &internals) == MX_OK) {
    fuzz_check_status(mx_symbol_list(internals, MX_LIST_OUTPUTS, &n, &names), "mx_symbol_list");
    mx_symbol_free(internals);
  }
  fuzz_check_status(mx_symbol_free(sym), "mx_symbol_free");
  return 0;
}
