/* libFuzzer harness: CSVIter over a fuzzed file, as 3 values per row with the same file as
 * labels (round_batch on), and as 1 value per row without labels (round_batch off); every batch
 * is read out. */
#include "fuzz_util.h"

static void run_iter(const char *params) {
  mx_dataiter_t it = NULL;
  int rc = mx_dataiter_new("CSVIter", params, &it);
  fuzz_check_status(rc, "mx_dataiter_new(CSVIter)");
  if (rc != MX_OK) return;
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int b = 0; b < 256; ++b) {
      int has = 0;
      rc = mx_dataiter_next(it, &has);
      fuzz_check_status(rc, "mx_dataiter_next");
      if (rc != MX_OK || !has) break;
      int num = 0;
      mx_ndarray_t *arrays = NULL;
      if (mx_dataiter_data(it, &num, &arrays) == MX_OK) fuzz_touch_and_free(num, arrays);
      if (mx_dataiter_label(it, &num, &arrays) == MX_OK) fuzz_touch_and_free(num, arrays);
      int64_t pad = 0;
      fuzz_check_status(mx_dataiter_pad(it, &pad), "mx_dataiter_pad");
    }
    fuzz_check_status(mx_dataiter_reset(it), "mx_dataiter_reset");
  }
  mx_dataiter_free(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write_temp(0, ".csv", data, size);
  char params[1400];
  snprintf(params, sizeof params,
           "{\"data_csv\": \"%s\", \"data_shape\": [3], \"label_csv\": \"%s\", \"label_shape\": [3], "
           "\"batch_size\": 2, \"round_batch\": true}", path, path);
  run_iter(params);
  snprintf(params, sizeof params,
           "{\"data_csv\": \"%s\", \"data_shape\": [1], \"batch_size\": 3, \"round_batch\": false}", path);
  run_iter(params);
  return 0;
}
