/* libFuzzer harness: a RecordIO (.rec) file read record by record through mx_recordio_read
 * (with a seek back to the start), then the same file through ImageRecordIter, which decodes
 * each record's image header and JPEG/PNG payload. */
#include "fuzz_util.h"

static void read_records(const char *path) {
  mx_recordio_t rec = NULL;
  int rc = mx_recordio_reader_new(path, &rec);
  fuzz_check_status(rc, "mx_recordio_reader_new");
  if (rc != MX_OK) return;
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 10000; ++i) {
      const void *data = NULL;
      size_t n = 0;
      rc = mx_recordio_read(rec, &data, &n);
      fuzz_check_status(rc, "mx_recordio_read");
      if (rc != MX_OK || !data) break;
      if (n) (void)((volatile const uint8_t *)data)[n - 1];
    }
    fuzz_check_status(mx_recordio_seek(rec, 0), "mx_recordio_seek");
  }
  mx_recordio_free(rec);
}

static void image_iter(const char *path) {
  char params[1024];
  snprintf(params, sizeof params,
           "{\"path_imgrec\": \"%s\", \"data_shape\": [3, 8, 8], \"batch_size\": 2, "
           "\"preprocess_threads\": 1, \"resize\": 8}", path);
  mx_dataiter_t it = NULL;
  int rc = mx_dataiter_new("ImageRecordIter", params, &it);
  fuzz_check_status(rc, "mx_dataiter_new(ImageRecordIter)");
  if (rc != MX_OK) return;
  for (int b = 0; b < 64; ++b) {
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write_temp(0, ".rec", data, size);
  read_records(path);
  image_iter(path);
  return 0;
}
