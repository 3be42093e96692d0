// Image decoding/encoding for RecordIO image data (ImageRecordIter, mx.recordio.unpack_img,
// im2rec): PNG through libpng and JPEG through libjpeg(-turbo), when the build found them
// (MX_HAVE_PNG / MX_HAVE_JPEG); otherwise a clear MX_ERR_UNSUPPORTED. Pixels are HWC uint8 in
// RGB order (or one grey channel).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mx {
namespace io {

struct Image {
  int h = 0, w = 0, c = 0;
  std::vector<uint8_t> px;  // h * w * c, row-major HWC
};

// Largest width x height a decoder accepts (checked from the header, before allocating):
// MX_MAX_IMAGE_PIXELS from the environment, else 178956970 (Pillow's bomb threshold).
int64_t image_max_pixels();
void image_set_max_pixels(int64_t n);  // throws MX_ERR_INVALID_ARGUMENT unless n > 0

bool image_png_supported();
bool image_jpeg_supported();

// channels: 3 (RGB), 1 (grey) or 0 (as stored: 1 or 3; alpha is dropped). MX_ERR_FORMAT for
// corrupt data, MX_ERR_UNSUPPORTED for an unknown format or one this build cannot decode.
Image image_decode(const void *data, size_t n, int channels);
// fmt ".png" or ".jpg"/".jpeg"; quality 1..100 (JPEG); c 1 or 3.
std::string image_encode(const uint8_t *px, int h, int w, int c, const std::string &fmt, int quality);
// Bilinear resize (pixel centres aligned, as OpenCV's INTER_LINEAR).
Image image_resize(const Image &src, int h, int w);

}  // namespace io
}  // namespace mx
