/* libFuzzer harness: MXNet's binary NDArray list (.params / .nd) through mx_ndarray_load_buffer
 * (the format is detected from the first bytes, so this also reaches the safetensors reader). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int num = 0;
  mx_ndarray_t *arrays = NULL;
  const char **names = NULL;
  int rc = mx_ndarray_load_buffer(data, size, &num, &arrays, &names);
  fuzz_check_status(rc, "mx_ndarray_load_buffer");
  if (rc == MX_OK) {
    for (int i = 0; names && i < num; ++i)
      if (!names[i]) abort(); /* NULL-terminated list must hold num names */
    fuzz_touch_and_free(num, arrays);
  }
  return 0;
}
