// ImageRecordIter: images packed in RecordIO (IRHeader + PNG/JPEG bytes) -> float32 NCHW batches.
// Records are read sequentially, decoded and augmented in parallel (preprocess_threads); each
// sample's random draws come from (seed, epoch, instance), so results never depend on threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "base/error.h"
#include "io/data_iter.h"
#include "io/image_decode.h"
#include "io/recordio.h"

namespace mx {
namespace io {

namespace {

class ImageRecordIter : public BatchIter {
 public:
  explicit ImageRecordIter(const Json &params) {
    IterParams P("ImageRecordIter", params);
    path_ = P.str("path_imgrec", "", true);
    std::string idx = P.str("path_imgidx", "");
    shape_ = P.shape("data_shape", {}, true);
    int64_t bs = P.integer("batch_size", 0, true);
    resize_ = P.integer("resize", -1);
    rand_crop_ = P.boolean("rand_crop", false);
    rand_mirror_ = P.boolean("rand_mirror", false);
    mean_[0] = float(P.number("mean_r", 0));
    mean_[1] = float(P.number("mean_g", 0));
    mean_[2] = float(P.number("mean_b", 0));
    std_[0] = float(P.number("std_r", 1));
    std_[1] = float(P.number("std_g", 1));
    std_[2] = float(P.number("std_b", 1));
    scale_ = float(P.number("scale", 1));
    bool shuffle = P.boolean("shuffle", false);
    int64_t seed = P.integer("seed", 0);
    threads_ = int(P.integer("preprocess_threads", 4));
    label_width_ = P.integer("label_width", 1);
    bool round = P.boolean("round_batch", true);
    int64_t num_parts = P.integer("num_parts", 1), part_index = P.integer("part_index", 0);
    std::string data_name = P.str("data_name", "data"), label_name = P.str("label_name", "softmax_label");
    P.integer("prefetch_buffer", 4);
    P.boolean("verbose", false);
    P.check_unknown();
    if (!image_png_supported() && !image_jpeg_supported())
      fail(MX_ERR_UNSUPPORTED, "ImageRecordIter: this build has no image decoder (built without JPEG/PNG support: "
                               "install libjpeg-dev and libpng-dev and rebuild)");
    MX_CHECK(shape_.size() == 3 && (shape_[0] == 1 || shape_[0] == 3), MX_ERR_SHAPE,
             "ImageRecordIter: data_shape must be (channels, height, width) with 1 or 3 channels, got ",
             params["data_shape"].dump());
    MX_CHECK(bs > 0, MX_ERR_INVALID_ARGUMENT, "ImageRecordIter: batch_size must be positive, got ", bs);
    MX_CHECK(label_width_ >= 1 && label_width_ < 65536, MX_ERR_INVALID_ARGUMENT,
             "ImageRecordIter: label_width must be positive, got ", label_width_);
    MX_CHECK(threads_ >= 1, MX_ERR_INVALID_ARGUMENT, "ImageRecordIter: preprocess_threads must be positive, got ",
             threads_);
    MX_CHECK(num_parts >= 1 && part_index >= 0 && part_index < num_parts, MX_ERR_INVALID_ARGUMENT,
             "ImageRecordIter: part_index ", part_index, " must be in [0, num_parts=", num_parts, ")");
    for (int k = 0; k < 3; ++k)
      MX_CHECK(std_[k] != 0, MX_ERR_INVALID_ARGUMENT, "ImageRecordIter: std_r/g/b must be non-zero");
    reader_ = std::make_unique<RecordReader>(path_);
    std::vector<uint64_t> offs;
    if (!idx.empty()) {
      for (auto &kv : read_record_index(idx)) {
        MX_CHECK(kv.second < reader_->size(), MX_ERR_FORMAT, "ImageRecordIter: index '", idx, "' key '", kv.first,
                 "' has offset ", kv.second, " beyond the end of '", path_, "'");
        offs.push_back(kv.second);
      }
    } else {
      std::string rec;
      for (;;) {
        uint64_t at = reader_->tell();
        if (!reader_->next(&rec)) break;
        offs.push_back(at);
      }
    }
    uint64_t n = offs.size();
    uint64_t b = n * uint64_t(part_index) / uint64_t(num_parts), e = n * uint64_t(part_index + 1) / uint64_t(num_parts);
    offsets_.assign(offs.begin() + std::ptrdiff_t(b), offs.begin() + std::ptrdiff_t(e));
    n_ = int64_t(offsets_.size());
    Field d;
    d.name = data_name;
    d.shape = shape_;
    d.dtype = DType::f32;
    Field l;
    l.name = label_name;
    if (label_width_ > 1) l.shape = {label_width_};
    l.dtype = DType::f32;
    fields_.push_back(std::move(d));
    fields_.push_back(std::move(l));
    num_data_fields_ = 1;
    setup(bs, round ? Last::kRoundCarry : Last::kPadStale, shuffle, uint64_t(seed), true);
  }

 protected:
  void fill(const std::vector<int64_t> &sel) override {
    std::vector<std::string> recs(sel.size());
    for (size_t i = 0; i < sel.size(); ++i) {
      uint64_t off = offsets_[size_t(sel[i])];
      reader_->seek(off);
      MX_CHECK(reader_->next(&recs[i]), MX_ERR_FORMAT, "ImageRecordIter: no record at offset ", off, " of '", path_,
               "'");
    }
    const int64_t count = int64_t(sel.size());
    std::vector<std::string> errs(sel.size());
    std::vector<int> codes(sel.size(), 0);
    int nt = int(std::min<int64_t>(threads_, count));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t i = 0; i < count; ++i) {
      try {
        process(i, sel[size_t(i)], recs[size_t(i)]);
      } catch (const Error &e) {
        errs[size_t(i)] = e.what();
        codes[size_t(i)] = e.status();
      } catch (const std::exception &e) {
        errs[size_t(i)] = e.what();
        codes[size_t(i)] = MX_ERR_INTERNAL;
      }
    }
    for (size_t i = 0; i < sel.size(); ++i)
      if (codes[i]) throw Error(mx_status(codes[i]), errs[i]);
  }

 private:
  void process(int64_t row, int64_t inst, const std::string &rec) {
    const uint64_t off = offsets_[size_t(inst)];
    MX_CHECK(rec.size() >= 24, MX_ERR_FORMAT, "ImageRecordIter: record at offset ", off, " of '", path_, "' has ",
             rec.size(), " bytes, too short for the 24-byte IRHeader");
    uint32_t flag;
    float lab;
    std::memcpy(&flag, rec.data(), 4);
    std::memcpy(&lab, rec.data() + 4, 4);
    size_t pos = 24;
    float *lo = reinterpret_cast<float *>(fields_[1].buf.data()) + row * label_width_;
    if (flag == 0) {
      MX_CHECK(label_width_ == 1, MX_ERR_SHAPE, "ImageRecordIter: label_width=", label_width_,
               " but the record at offset ", off, " has a single label");
      lo[0] = lab;
    } else {
      MX_CHECK(uint64_t(flag) * 4 <= rec.size() - 24, MX_ERR_FORMAT, "ImageRecordIter: record at offset ", off,
               " declares ", flag, " labels but holds ", rec.size() - 24, " bytes after the header");
      MX_CHECK(int64_t(flag) >= label_width_, MX_ERR_SHAPE, "ImageRecordIter: label_width=", label_width_,
               " but the record at offset ", off, " has ", flag, " labels");
      std::memcpy(lo, rec.data() + 24, size_t(label_width_) * 4);
      pos += size_t(flag) * 4;
    }
    const int C = int(shape_[0]), H = int(shape_[1]), W = int(shape_[2]);
    Image img;
    try {
      img = image_decode(rec.data() + pos, rec.size() - pos, C);
    } catch (const Error &e) {
      throw Error(e.status(), "ImageRecordIter: record at offset " + std::to_string(off) + " of '" + path_ +
                                  "': " + e.what());
    }
    std::mt19937_64 rng;
    std::seed_seq sq{uint32_t(seed_), uint32_t(seed_ >> 32), uint32_t(epoch_), uint32_t(inst), uint32_t(inst >> 32)};
    rng.seed(sq);
    if (resize_ > 0) {
      int sh = img.h, sw = img.w;
      int nh, nw;
      if (sh < sw) {
        nh = int(resize_);
        nw = int(std::lround(double(sw) * resize_ / sh));
      } else {
        nw = int(resize_);
        nh = int(std::lround(double(sh) * resize_ / sw));
      }
      img = image_resize(img, std::max(nh, 1), std::max(nw, 1));
    }
    MX_CHECK(img.h >= H && img.w >= W, MX_ERR_SHAPE, "ImageRecordIter: the image at offset ", off, " of '", path_,
             "' is ", img.h, "x", img.w, ", smaller than data_shape's ", H, "x", W, " (use resize)");
    int y0, x0;
    if (rand_crop_) {
      y0 = int(std::uniform_int_distribution<int>(0, img.h - H)(rng));
      x0 = int(std::uniform_int_distribution<int>(0, img.w - W)(rng));
    } else {
      y0 = (img.h - H) / 2;
      x0 = (img.w - W) / 2;
    }
    bool mirror = rand_mirror_ && std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    float *o = reinterpret_cast<float *>(fields_[0].buf.data()) + size_t(row) * C * H * W;
    for (int c = 0; c < C; ++c) {
      const float m = mean_[c], inv = scale_ / std_[c];
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
          int sx = mirror ? x0 + W - 1 - x : x0 + x;
          float v = img.px[(size_t(y0 + y) * img.w + sx) * img.c + c];
          o[(size_t(c) * H + y) * W + x] = (v - m) * inv;
        }
    }
  }

  std::string path_;
  std::vector<int64_t> shape_;
  int64_t resize_ = -1, label_width_ = 1;
  bool rand_crop_ = false, rand_mirror_ = false;
  float mean_[3], std_[3], scale_ = 1;
  int threads_ = 4;
  std::unique_ptr<RecordReader> reader_;
  std::vector<uint64_t> offsets_;
};

}  // namespace

std::unique_ptr<DataIter> make_image_record_iter(const Json &params) {
  return std::make_unique<ImageRecordIter>(params);
}

}  // namespace io
}  // namespace mx
