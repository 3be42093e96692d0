/* libFuzzer harness: safetensors files through mx_ndarray_load on a file named *.safetensors
 * (the path-based reader; the seed corpus is safetensors files, so mutations stay mostly in
 * its JSON header and offsets). A loaded file must save and load again to the same arrays. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write_temp(0, ".safetensors", data, size);
  int num = 0;
  mx_ndarray_t *arrays = NULL;
  const char **names = NULL;
  int rc = mx_ndarray_load(path, &num, &arrays, &names);
  fuzz_check_status(rc, "mx_ndarray_load");
  if (rc != MX_OK) return 0;
  /* round trip: what was read must be writable again */
  mx_ndarray_t *copy = (mx_ndarray_t *)malloc(sizeof(mx_ndarray_t) * (size_t)(num ? num : 1));
  const char **copy_names = (const char **)malloc(sizeof(char *) * (size_t)(num ? num : 1));
  char **owned = (char **)calloc((size_t)(num ? num : 1), sizeof(char *));
  for (int i = 0; i < num; ++i) {
    copy[i] = arrays[i];
    if (names) owned[i] = strdup(names[i]);
    copy_names[i] = owned[i];
  }
  const char *out = fuzz_temp_path(1, ".safetensors");
  fuzz_check_status(mx_ndarray_save(out, num, copy, names ? copy_names : NULL, MX_FORMAT_SAFETENSORS),
                    "mx_ndarray_save");
  fuzz_touch_and_free(num, copy);
  for (int i = 0; i < num; ++i) free(owned[i]);
  free(owned);
  free(copy_names);
  free(copy);
  unlink(out);
  return 0;
}
