#include "io/image_decode.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cmath>
#include <csetjmp>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

#ifdef MX_HAVE_PNG
#include <png.h>
#endif
#ifdef MX_HAVE_JPEG
#include <cstdio>
#include <jpeglib.h>
#endif

namespace mx {
namespace io {

bool image_png_supported() {
#ifdef MX_HAVE_PNG
  return true;
#else
  return false;
#endif
}
bool image_jpeg_supported() {
#ifdef MX_HAVE_JPEG
  return true;
#else
  return false;
#endif
}

namespace {
// Pillow's decompression-bomb threshold (2 x its MAX_IMAGE_PIXELS): a 13377x13377 image.
constexpr int64_t kDefaultMaxPixels = 178956970;
std::atomic<int64_t> g_max_pixels{-1};  // -1: not read from the environment yet

// A header's width x height is checked before any pixel buffer exists: against the pixel limit,
// and against what the compressed bytes could possibly hold (`px_per_byte`: the format's best
// case), so a tiny file cannot claim a huge image.
void check_claim(const char *fmt, int64_t w, int64_t h, size_t n, int64_t px_per_byte) {
  const int64_t px = w * h;  // both below 2^32: no overflow
  const int64_t limit = image_max_pixels();
  if (px > limit)
    fail(MX_ERR_FORMAT, "image_decode: ", fmt, " of ", w, "x", h, " = ", px, " pixels exceeds the limit of ", limit,
         " pixels (a decompression bomb?); raise it with MX_MAX_IMAGE_PIXELS or mx_image_set_max_pixels");
  const int64_t possible = static_cast<int64_t>(n) * px_per_byte + 65536;
  if (px > possible)
    fail(MX_ERR_FORMAT, "image_decode: ", fmt, " header claims ", w, "x", h, " = ", px, " pixels but ", n,
         " bytes of ", fmt, " data cannot hold more than ", possible, " (truncated or forged header)");
}

void to_channels(Image *img, int channels) {
  if (channels == 0 || channels == img->c) return;
  size_t n = size_t(img->h) * img->w;
  std::vector<uint8_t> out(n * channels);
  if (channels == 1 && img->c == 3) {
    for (size_t i = 0; i < n; ++i) {
      const uint8_t *p = &img->px[i * 3];
      // ITU-R BT.601 luma, rounded
      out[i] = uint8_t((p[0] * 299 + p[1] * 587 + p[2] * 114 + 500) / 1000);
    }
  } else if (channels == 3 && img->c == 1) {
    for (size_t i = 0; i < n; ++i) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = img->px[i];
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, "image_decode: cannot convert ", img->c, " channels to ", channels);
  }
  img->px.swap(out);
  img->c = channels;
}

#ifdef MX_HAVE_PNG
Image decode_png(const void *data, size_t n, int channels) {
  png_image im;
  std::memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&im, data, n))
    fail(MX_ERR_FORMAT, "image_decode: corrupt PNG (", im.message, ")");
  bool grey = (im.format & PNG_FORMAT_FLAG_COLOR) == 0;
  int c = channels == 0 ? (grey ? 1 : 3) : channels;
  // deflate expands at most ~1032:1 and a pixel takes at least one bit of the filtered rows.
  try {
    check_claim("PNG", im.width, im.height, n, 1032 * 8);
  } catch (...) {
    png_image_free(&im);
    throw;
  }
  // Colour to grey goes through RGB and BT.601 luma (as for JPEG, and as MXNet/OpenCV do):
  // libpng's own conversion is gamma-aware and gives different levels.
  const int read_c = c == 1 && grey ? 1 : 3;
  im.format = read_c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image out;
  out.h = int(im.height);
  out.w = int(im.width);
  out.c = read_c;
  out.px.resize(size_t(out.h) * out.w * read_c);
  if (!png_image_finish_read(&im, nullptr, out.px.data(), 0, nullptr))
    fail(MX_ERR_FORMAT, "image_decode: corrupt PNG (", im.message, ")");
  to_channels(&out, c);
  return out;
}
#endif

#ifdef MX_HAVE_JPEG
struct JpegErr {
  jpeg_error_mgr mgr;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX];
};
void jpeg_err_exit(j_common_ptr cinfo) {
  JpegErr *e = reinterpret_cast<JpegErr *>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jb, 1);
}
void jpeg_silent(j_common_ptr, int) {}

// Plain-C style: no objects with destructors live across setjmp/longjmp.
// max_px: the pixel limit, and at most 512 pixels per byte (every 8x8 block's DC coefficient
// takes at least one bit, even in progressive files whose AC scans skip blocks).
int decode_jpeg_raw(const unsigned char *data, size_t n, int want, unsigned char **out_px, int *h, int *w,
                    int *c, char *msg, int64_t max_px) {
  jpeg_decompress_struct cinfo;
  JpegErr err;
  unsigned char *volatile px = nullptr;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_err_exit;
  err.mgr.emit_message = jpeg_silent;
  err.msg[0] = 0;
  if (setjmp(err.jb)) {
    std::strncpy(msg, err.msg, JMSG_LENGTH_MAX);
    jpeg_destroy_decompress(&cinfo);
    std::free(px);
    return -1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, const_cast<unsigned char *>(data), static_cast<unsigned long>(n));
  jpeg_read_header(&cinfo, TRUE);
  int cc = want == 0 ? (cinfo.num_components == 1 ? 1 : 3) : want;
  cinfo.out_color_space = cc == 1 ? JCS_GRAYSCALE : JCS_RGB;
  if (int64_t(cinfo.image_width) * cinfo.image_height > max_px) {
    std::snprintf(msg, JMSG_LENGTH_MAX, "header claims %ux%u pixels, more than the %lld allowed (the pixel limit, "
                  "MX_MAX_IMAGE_PIXELS, or what %zu bytes of JPEG can hold: truncated or forged header)",
                  unsigned(cinfo.image_width), unsigned(cinfo.image_height), static_cast<long long>(max_px), n);
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  jpeg_start_decompress(&cinfo);
  int ow = int(cinfo.output_width), oh = int(cinfo.output_height), oc = cinfo.output_components;
  px = static_cast<unsigned char *>(std::malloc(size_t(ow) * oh * oc + 1));
  if (!px) {
    std::strcpy(msg, "out of memory");
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = px + size_t(cinfo.output_scanline) * ow * oc;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *out_px = px;
  *h = oh;
  *w = ow;
  *c = oc;
  return 0;
}

Image decode_jpeg(const void *data, size_t n, int channels) {
  unsigned char *px = nullptr;
  int h = 0, w = 0, c = 0;
  char msg[JMSG_LENGTH_MAX + 1] = {0};
  const int64_t max_px = std::min<int64_t>(image_max_pixels(), static_cast<int64_t>(n) * 512 + 65536);
  if (decode_jpeg_raw(static_cast<const unsigned char *>(data), n, channels, &px, &h, &w, &c, msg, max_px) != 0)
    fail(MX_ERR_FORMAT, "image_decode: corrupt JPEG (", msg, ")");
  Image out;
  out.h = h;
  out.w = w;
  out.c = c;
  out.px.assign(px, px + size_t(h) * w * c);
  std::free(px);
  return out;
}

int encode_jpeg_raw(const uint8_t *px, int h, int w, int c, int quality, unsigned char **buf,
                    unsigned long *len, char *msg) {
  jpeg_compress_struct cinfo;
  JpegErr err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_err_exit;
  err.mgr.emit_message = jpeg_silent;
  if (setjmp(err.jb)) {
    std::strncpy(msg, err.msg, JMSG_LENGTH_MAX);
    jpeg_destroy_compress(&cinfo);
    return -1;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, buf, len);
  cinfo.image_width = JDIMENSION(w);
  cinfo.image_height = JDIMENSION(h);
  cinfo.input_components = c;
  cinfo.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t *>(px) + size_t(cinfo.next_scanline) * w * c;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return 0;
}
#endif
}  // namespace

int64_t image_max_pixels() {
  int64_t v = g_max_pixels.load();
  if (v >= 0) return v;
  v = kDefaultMaxPixels;
  const char *env = std::getenv("MX_MAX_IMAGE_PIXELS");
  if (env && *env) {
    char *end = nullptr;
    long long x = std::strtoll(env, &end, 10);
    if (end && *end == 0 && x > 0) v = x;
  }
  int64_t unset = -1;
  g_max_pixels.compare_exchange_strong(unset, v);
  return g_max_pixels.load();
}

void image_set_max_pixels(int64_t n) {
  MX_CHECK(n > 0, MX_ERR_INVALID_ARGUMENT, "image_set_max_pixels: the limit must be positive, got ", n);
  g_max_pixels.store(n);
}

Image image_decode(const void *data, size_t n, int channels) {
  MX_CHECK(channels == 0 || channels == 1 || channels == 3, MX_ERR_INVALID_ARGUMENT,
           "image_decode: channels must be 0, 1 or 3, got ", channels);
  const unsigned char *d = static_cast<const unsigned char *>(data);
  MX_CHECK(data != nullptr && n >= 4, MX_ERR_FORMAT, "image_decode: ", n, " bytes are not an image");
  static const unsigned char png_sig[4] = {0x89, 'P', 'N', 'G'};
  if (std::memcmp(d, png_sig, 4) == 0) {
#ifdef MX_HAVE_PNG
    return decode_png(data, n, channels);
#else
    fail(MX_ERR_UNSUPPORTED, "image_decode: this build has no PNG support (built without libpng)");
#endif
  }
  if (d[0] == 0xFF && d[1] == 0xD8) {
#ifdef MX_HAVE_JPEG
    Image im = decode_jpeg(data, n, channels);
    to_channels(&im, channels);
    return im;
#else
    fail(MX_ERR_UNSUPPORTED, "image_decode: this build has no JPEG support (built without libjpeg)");
#endif
  }
  fail(MX_ERR_UNSUPPORTED, "image_decode: unknown image format (first bytes ", int(d[0]), " ", int(d[1]), " ",
       int(d[2]), " ", int(d[3]), "); PNG and JPEG are supported");
}

std::string image_encode(const uint8_t *px, int h, int w, int c, const std::string &fmt, int quality) {
  MX_CHECK(px != nullptr && h > 0 && w > 0, MX_ERR_INVALID_ARGUMENT, "image_encode: empty image ", h, "x", w);
  MX_CHECK(c == 1 || c == 3, MX_ERR_INVALID_ARGUMENT, "image_encode: channels must be 1 or 3, got ", c);
  std::string f = fmt;
  std::transform(f.begin(), f.end(), f.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  if (f == ".png" || f == "png") {
#ifdef MX_HAVE_PNG
    png_image im;
    std::memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = png_uint_32(w);
    im.height = png_uint_32(h);
    im.format = c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&im, nullptr, &size, 0, px, 0, nullptr))
      fail(MX_ERR_INTERNAL, "image_encode: PNG sizing failed (", im.message, ")");
    std::string out(size, '\0');
    if (!png_image_write_to_memory(&im, &out[0], &size, 0, px, 0, nullptr))
      fail(MX_ERR_INTERNAL, "image_encode: PNG encoding failed (", im.message, ")");
    out.resize(size);
    return out;
#else
    fail(MX_ERR_UNSUPPORTED, "image_encode: this build has no PNG support (built without libpng)");
#endif
  }
  if (f == ".jpg" || f == ".jpeg" || f == "jpg" || f == "jpeg") {
#ifdef MX_HAVE_JPEG
    MX_CHECK(quality >= 1 && quality <= 100, MX_ERR_INVALID_ARGUMENT, "image_encode: quality must be in [1, 100], got ",
             quality);
    unsigned char *buf = nullptr;
    unsigned long len = 0;
    char msg[JMSG_LENGTH_MAX + 1] = {0};
    if (encode_jpeg_raw(px, h, w, c, quality, &buf, &len, msg) != 0) {
      std::free(buf);
      fail(MX_ERR_INTERNAL, "image_encode: JPEG encoding failed (", msg, ")");
    }
    std::string out(reinterpret_cast<char *>(buf), len);
    std::free(buf);
    return out;
#else
    fail(MX_ERR_UNSUPPORTED, "image_encode: this build has no JPEG support (built without libjpeg)");
#endif
  }
  fail(MX_ERR_INVALID_ARGUMENT, "image_encode: unknown format '", fmt, "' (use '.png' or '.jpg')");
}

Image image_resize(const Image &src, int h, int w) {
  MX_CHECK(h > 0 && w > 0, MX_ERR_INVALID_ARGUMENT, "image_resize: target size ", h, "x", w, " must be positive");
  MX_CHECK(int64_t(h) * w <= image_max_pixels(), MX_ERR_INVALID_ARGUMENT, "image_resize: target size ", h, "x", w,
           " exceeds the image pixel limit of ", image_max_pixels(), " (MX_MAX_IMAGE_PIXELS)");
  Image out;
  out.h = h;
  out.w = w;
  out.c = src.c;
  out.px.resize(size_t(h) * w * src.c);
  if (src.h == h && src.w == w) {
    out.px = src.px;
    return out;
  }
  const double sy = double(src.h) / h, sx = double(src.w) / w;
  std::vector<int> x0(w), x1(w);
  std::vector<float> fx(w);
  for (int x = 0; x < w; ++x) {
    double f = (x + 0.5) * sx - 0.5;
    if (f < 0) f = 0;
    int i = std::min(int(f), src.w - 1);
    x0[x] = i;
    x1[x] = std::min(i + 1, src.w - 1);
    fx[x] = float(f - i);
  }
  const int c = src.c;
  for (int y = 0; y < h; ++y) {
    double f = (y + 0.5) * sy - 0.5;
    if (f < 0) f = 0;
    int y0 = std::min(int(f), src.h - 1), y1 = std::min(y0 + 1, src.h - 1);
    float fy = float(f - y0);
    const uint8_t *r0 = &src.px[size_t(y0) * src.w * c], *r1 = &src.px[size_t(y1) * src.w * c];
    uint8_t *o = &out.px[size_t(y) * w * c];
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) {
        float a = r0[x0[x] * c + k] * (1 - fx[x]) + r0[x1[x] * c + k] * fx[x];
        float b = r1[x0[x] * c + k] * (1 - fx[x]) + r1[x1[x] * c + k] * fx[x];
        float v = a * (1 - fy) + b * fy;
        o[x * c + k] = uint8_t(std::min(255.f, std::max(0.f, std::round(v))));
      }
  }
  return out;
}

}  // namespace io
}  // namespace mx
