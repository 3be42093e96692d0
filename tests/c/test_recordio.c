/* RecordIO and data iterators through the C ABI alone: byte layout of a chunked record, read
 * back, seek/tell, truncated files, a CSV iterator. Run from the repository root (ctest does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mx/c_api.h"

static const unsigned char kMagic[4] = {0x0a, 0x23, 0xd7, 0xce};

int main(void) {
  const char *path = "test_recordio_c.rec";
  mx_recordio_t w = NULL, r = NULL;
  unsigned char rec2[12];
  memcpy(rec2, "abcd", 4);
  memcpy(rec2 + 4, kMagic, 4);
  memcpy(rec2 + 8, "wxyz", 4);
  uint64_t pos = 0, second = 0;

  CHECK_OK(mx_recordio_writer_new(path, &w));
  CHECK_OK(mx_recordio_write(w, "hello", 5));
  CHECK_OK(mx_recordio_tell(w, &second));
  CHECK(second == 16); /* 8 header + 5 data + 3 padding */
  CHECK_OK(mx_recordio_write(w, rec2, sizeof rec2));
  CHECK_OK(mx_recordio_write(w, "", 0));
  CHECK_OK(mx_recordio_tell(w, &pos));
  CHECK(pos == 16 + 12 + 12 + 8); /* two chunks of 4 bytes, then an empty record */
  CHECK_OK(mx_recordio_close(w));
  CHECK_FAIL(mx_recordio_write(w, "x", 1), MX_ERR_INVALID_ARGUMENT, "closed");
  CHECK_OK(mx_recordio_free(w));
  CHECK_OK(mx_recordio_free(NULL));

  CHECK_OK(mx_recordio_reader_new(path, &r));
  const void *data = NULL;
  size_t n = 0;
  CHECK_OK(mx_recordio_read(r, &data, &n));
  CHECK(n == 5 && memcmp(data, "hello", 5) == 0);
  CHECK_OK(mx_recordio_read(r, &data, &n));
  CHECK(n == 12 && memcmp(data, rec2, 12) == 0);
  CHECK_OK(mx_recordio_read(r, &data, &n));
  CHECK(n == 0 && data != NULL);
  CHECK_OK(mx_recordio_read(r, &data, &n));
  CHECK(data == NULL && n == 0);
  CHECK_OK(mx_recordio_seek(r, second));
  CHECK_OK(mx_recordio_read(r, &data, &n));
  CHECK(n == 12);
  CHECK_FAIL(mx_recordio_seek(r, 5), MX_ERR_INVALID_ARGUMENT, "aligned");
  CHECK_OK(mx_recordio_free(r));

  /* truncated: keep 20 bytes (the second record's header claims 4 more) */
  FILE *f = fopen(path, "r+b");
  CHECK(f != NULL);
  if (f) {
    unsigned char buf[64];
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(path, "wb");
    fwrite(buf, 1, got < 22 ? got : 22, f);
    fclose(f);
  }
  CHECK_OK(mx_recordio_reader_new(path, &r));
  CHECK_OK(mx_recordio_read(r, &data, &n));
  CHECK_FAIL(mx_recordio_read(r, &data, &n), MX_ERR_FORMAT, "offset 16");
  CHECK_OK(mx_recordio_free(r));
  CHECK_FAIL(mx_recordio_reader_new("does/not/exist.rec", &r), MX_ERR_IO, "exist.rec");
  remove(path);

  /* CSV iterator */
  const char *csv = "test_recordio_c.csv";
  f = fopen(csv, "wb");
  fputs("1,2\n3,4\n5,6\n", f);
  fclose(f);
  mx_dataiter_t it = NULL;
  CHECK_OK(mx_dataiter_new("CSVIter", "{\"data_csv\":\"test_recordio_c.csv\",\"data_shape\":[2],\"batch_size\":2}", &it));
  const char *prov = NULL;
  CHECK_OK(mx_dataiter_provide(it, &prov));
  CHECK(prov && strstr(prov, "[2, 2]") != NULL);
  int has = 0, num = 0, batches = 0;
  int64_t pad = -1;
  while (mx_dataiter_next(it, &has) == MX_OK && has) {
    mx_ndarray_t *arrs = NULL;
    CHECK_OK(mx_dataiter_data(it, &num, &arrs));
    CHECK(num == 1);
    float vals[4];
    CHECK_OK(mx_ndarray_copy_to(arrs[0], vals, sizeof vals));
    CHECK(vals[0] == (batches == 0 ? 1.f : 5.f));
    CHECK_OK(mx_ndarray_free(arrs[0]));
    CHECK_OK(mx_dataiter_pad(it, &pad));
    ++batches;
  }
  CHECK(batches == 2 && pad == 1);
  CHECK_FAIL(mx_dataiter_pad(it, &pad), MX_ERR_INVALID_ARGUMENT, "next");
  CHECK_OK(mx_dataiter_free(it));
  CHECK_FAIL(mx_dataiter_new("NoSuchIter", "{}", &it), MX_ERR_INVALID_ARGUMENT, "NoSuchIter");
  CHECK_FAIL(mx_dataiter_new("CSVIter", "{\"data_csv\":\"test_recordio_c.csv\",\"data_shape\":[3],\"batch_size\":2}",
                             &it), MX_ERR_SHAPE, "data_shape");
  remove(csv);
  return CHECK_DONE();
}
