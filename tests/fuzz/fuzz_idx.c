/* libFuzzer harness: MNISTIter over IDX files (optionally gzip-compressed). The input holds both
 * files: a 4-byte little-endian length L, then L bytes of the label file, then the image file. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  uint32_t len = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
  data += 4;
  size -= 4;
  if (len > size) len = (uint32_t)size;
  const char *label = fuzz_write_temp(0, "-labels-idx1-ubyte", data, len);
  const char *image = fuzz_write_temp(1, "-images-idx3-ubyte", data + len, size - len);
  for (int flat = 0; flat < 2; ++flat) {
    char params[1400];
    snprintf(params, sizeof params,
             "{\"image\": \"%s\", \"label\": \"%s\", \"batch_size\": 2, \"shuffle\": %s, \"flat\": %s}",
             image, label, flat ? "true" : "false", flat ? "true" : "false");
    mx_dataiter_t it = NULL;
    int rc = mx_dataiter_new("MNISTIter", params, &it);
    fuzz_check_status(rc, "mx_dataiter_new(MNISTIter)");
    if (rc != MX_OK) continue;
    for (int b = 0; b < 256; ++b) {
      int has = 0;
      rc = mx_dataiter_next(it, &has);
      fuzz_check_status(rc, "mx_dataiter_next");
      if (rc != MX_OK || !has) break;
      int num = 0;
      mx_ndarray_t *arrays = NULL;
      if (mx_dataiter_data(it, &num, &arrays) == MX_OK) fuzz_touch_and_free(num, arrays);
      if (mx_dataiter_label(it, &num, &arrays) == MX_OK) fuzz_touch_and_free(num, arrays);
    }
    mx_dataiter_free(it);
  }
  return 0;
}
