// NDArray list files: MXNet's binary format (ndarray_file.cc) and safetensors (safetensors.cc).
//
// Readers take a ByteSource (a file read with pread, or a memory buffer) and treat its bytes as
// hostile: every count, dimension, length and offset is checked against the bytes that remain
// before anything is allocated, so a corrupt file fails with MX_ERR_FORMAT naming the byte
// offset, and the largest allocation a reader makes is bounded by the size of the input.
// Writers stream into a ByteSink; the C API layer (api/c_api_io.cc) supplies the atomic
// temporary-file sink.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {
namespace io {

// Random-access input of known size.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Copy n bytes at `offset` into dst; throws MX_ERR_FORMAT/MX_ERR_IO if they cannot be read.
  // Callers check offset + n <= size() first.
  virtual void read(uint64_t offset, void *dst, size_t n) = 0;
  // Where the bytes come from, for messages: "'path/to/file'" or "buffer".
  virtual const std::string &name() const = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(const void *data, size_t n, std::string name = "buffer")
      : p_(static_cast<const uint8_t *>(data)), n_(n), name_(std::move(name)) {}
  uint64_t size() const override { return n_; }
  void read(uint64_t offset, void *dst, size_t n) override;
  const std::string &name() const override { return name_; }

 private:
  const uint8_t *p_;
  size_t n_;
  std::string name_;
};

// A file opened read-only; small reads go through a read-ahead window, large ones straight into
// the destination (so loading needs no second copy of the file in memory).
class FileSource : public ByteSource {
 public:
  // Throws MX_ERR_IO naming the path and strerror when the file cannot be opened.
  explicit FileSource(const std::string &path);
  ~FileSource() override;
  FileSource(const FileSource &) = delete;
  FileSource &operator=(const FileSource &) = delete;
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void *dst, size_t n) override;
  const std::string &name() const override { return name_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string name_;
  std::vector<uint8_t> window_;
  uint64_t window_off_ = 0;
  void pread_all(uint64_t offset, void *dst, size_t n);
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const void *data, size_t n) = 0;
};

class VectorSink : public ByteSink {
 public:
  void write(const void *data, size_t n) override {
    const auto *p = static_cast<const uint8_t *>(data);
    bytes.insert(bytes.end(), p, p + n);
  }
  std::vector<uint8_t> bytes;
};

// What a file holds: arrays (on the CPU) and, for a named file, one name per array.
struct ArrayList {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  bool named = false;
};

// ---- MXNet's binary NDArray list (kMXAPINDArrayListMagic 0x112).
// Reads V3 (np-shape), V2, V1 and pre-V1 records, dense only; arrays saved from a GPU context
// load onto the CPU. Sparse records fail with MX_ERR_UNSUPPORTED naming the array.
// A V2/V1/pre-V1 record with ndim 0 is MXNet's "none" array (no data); MX has no such array and
// loads it as an empty float32 array of shape (0,).
bool is_mxnet_list(ByteSource &src);
ArrayList load_mxnet(ByteSource &src);
// Writes V2 records, as MXNet 1.9.1 does by default; if any array is 0-d (which V2 cannot
// express) every record is written as V3, as MXNet does under np_shape(True). names: empty for
// an unnamed list, else one per array.
void save_mxnet(ByteSink &sink, const std::vector<NDArray> &arrays,
                const std::vector<std::string> &names);

// ---- safetensors.
// True when the first bytes look like a safetensors header (plausible length, then '{').
bool is_safetensors(ByteSource &src);
ArrayList load_safetensors(ByteSource &src);
// named false: an unnamed list, stored as "0", "1", ... with the __metadata__ marker
// {"mx.list": "true"} so that it loads back as a list (an empty named file loads as empty dict).
void save_safetensors(ByteSink &sink, const std::vector<NDArray> &arrays,
                      const std::vector<std::string> &names, bool named);

// Limits shared by the readers.
constexpr int kMaxNdim = 32;
constexpr uint64_t kMaxSafetensorsHeader = 100ull << 20;  // as the reference implementation

}  // namespace io
}  // namespace mx
