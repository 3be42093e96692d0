/* libFuzzer harness: JPEG/PNG bytes through mx_image_decode as stored, grey and colour (RGB
 * and BGR); a decoded image must hold height*width*channels bytes and survive a resize. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int modes[][2] = {{0, 0}, {1, 0}, {3, 1}};
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; ++m) {
    mx_ndarray_t img = NULL;
    int rc = mx_image_decode(data, size, modes[m][0], modes[m][1], &img);
    fuzz_check_status(rc, "mx_image_decode");
    if (rc != MX_OK) return 0; /* the other modes fail the same way */
    int ndim = 0;
    const int64_t *shape = NULL;
    fuzz_check_status(mx_ndarray_shape(img, &ndim, &shape), "mx_ndarray_shape");
    if (ndim != 3 || shape[0] <= 0 || shape[1] <= 0 || !(shape[2] == 1 || shape[2] == 3) ||
        (modes[m][0] && shape[2] != modes[m][0])) {
      fprintf(stderr, "mx_image_decode(channels=%d) gave a %d-d array\n", modes[m][0], ndim);
      abort();
    }
    if (m == 0) {
      mx_ndarray_t small = NULL;
      fuzz_check_status(mx_image_resize(img, 5, 7, &small), "mx_image_resize");
      if (small) fuzz_touch_and_free(1, &small);
    }
    fuzz_touch_and_free(1, &img);
  }
  return 0;
}
