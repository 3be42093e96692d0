#include "io/recordio.h"

#include <cerrno>
#include <cstring>
#include <sstream>

#include "base/error.h"
#include "base/file_util.h"

namespace mx {
namespace io {

namespace {
constexpr uint32_t kLenMask = (1u << 29) - 1;
void le32(uint32_t v, unsigned char *b) {
  b[0] = v & 0xff; b[1] = (v >> 8) & 0xff; b[2] = (v >> 16) & 0xff; b[3] = (v >> 24) & 0xff;
}
uint32_t rd32(const unsigned char *b) {
  return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
}
std::string hex32(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << v;
  return os.str();
}
}  // namespace

// ---------------------------------------------------------------- writer
RecordWriter::RecordWriter(const std::string &path) : path_(path) {
  check_path(path, "RecordIO writer");
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) fail(MX_ERR_IO, "RecordIO: cannot open '", path, "' for writing: ", std::strerror(errno));
}

RecordWriter::~RecordWriter() {
  if (f_) std::fclose(f_);
}

void RecordWriter::put(const void *p, size_t n) {
  MX_CHECK(f_ != nullptr, MX_ERR_INVALID_ARGUMENT, "RecordIO: writer for '", path_, "' is closed");
  if (n && std::fwrite(p, 1, n, f_) != n)
    fail(MX_ERR_IO, "RecordIO: write to '", path_, "' failed at offset ", pos_, ": ", std::strerror(errno));
  pos_ += n;
}

void RecordWriter::write(const void *data, size_t n) {
  MX_CHECK(data != nullptr || n == 0, MX_ERR_INVALID_ARGUMENT, "RecordIO: NULL data with ", n, " bytes");
  const unsigned char *d = static_cast<const unsigned char *>(data);
  static const unsigned char zeros[4] = {0, 0, 0, 0};
  unsigned char magic[4];
  le32(kRecordIOMagic, magic);
  auto chunk = [&](const unsigned char *p, size_t len, uint32_t cflag) {
    MX_CHECK(len <= kLenMask, MX_ERR_INVALID_ARGUMENT, "RecordIO: a record chunk of ", len,
             " bytes exceeds the format's limit of ", kLenMask, " bytes");
    unsigned char h[8];
    le32(kRecordIOMagic, h);
    le32((cflag << 29) | uint32_t(len), h + 4);
    put(h, 8);
    put(p, len);
    size_t padding = (4 - (len & 3)) & 3;
    put(zeros, padding);
  };
  size_t start = 0;
  bool first = true;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    if (std::memcmp(d + i, magic, 4) == 0) {
      chunk(d + start, i - start, first ? 1u : 2u);
      start = i + 4;
      first = false;
    }
  }
  chunk(d + start, n - start, first ? 0u : 3u);
}

void RecordWriter::close() {
  if (!f_) return;
  int rc = std::fflush(f_);
  int rc2 = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0 || rc2 != 0) fail(MX_ERR_IO, "RecordIO: closing '", path_, "' failed: ", std::strerror(errno));
}

// ---------------------------------------------------------------- reader
RecordReader::RecordReader(const std::string &path) : path_(path) {
  check_path(path, "RecordIO reader");
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) fail(MX_ERR_IO, "RecordIO: cannot open '", path, "' for reading: ", std::strerror(errno));
  if (std::fseek(f_, 0, SEEK_END) != 0) {
    std::fclose(f_);
    f_ = nullptr;
    fail(MX_ERR_IO, "RecordIO: cannot seek in '", path, "'");
  }
  long s = std::ftell(f_);
  std::fseek(f_, 0, SEEK_SET);
  size_ = s < 0 ? 0 : uint64_t(s);
}

RecordReader::~RecordReader() {
  if (f_) std::fclose(f_);
}

void RecordReader::get(void *p, size_t n) {
  if (n && std::fread(p, 1, n, f_) != n)
    fail(MX_ERR_IO, "RecordIO: read of ", n, " bytes at offset ", pos_, " of '", path_, "' failed");
  pos_ += n;
}

void RecordReader::seek(uint64_t pos) {
  MX_CHECK(pos <= size_, MX_ERR_INVALID_ARGUMENT, "RecordIO: seek to offset ", pos, " beyond the end of '",
           path_, "' (", size_, " bytes)");
  MX_CHECK(pos % 4 == 0, MX_ERR_INVALID_ARGUMENT, "RecordIO: seek to offset ", pos, " in '", path_,
           "' is not 4-byte aligned, so it cannot be a record start");
  if (std::fseek(f_, long(pos), SEEK_SET) != 0) fail(MX_ERR_IO, "RecordIO: cannot seek in '", path_, "'");
  pos_ = pos;
}

bool RecordReader::next(std::string *out) {
  out->clear();
  if (pos_ >= size_) return false;
  const uint64_t record_start = pos_;
  bool in_multi = false;
  for (;;) {
    const uint64_t at = pos_;
    if (size_ - pos_ < 8) {
      fail(MX_ERR_FORMAT, "RecordIO: '", path_, "' is truncated: ", size_ - pos_,
           " bytes at offset ", at, " cannot hold a record header (8 bytes)",
           in_multi ? " (inside a multi-chunk record starting at offset " : "",
           in_multi ? std::to_string(record_start) + ")" : std::string());
    }
    unsigned char h[8];
    get(h, 8);
    uint32_t magic = rd32(h);
    if (magic != kRecordIOMagic)
      fail(MX_ERR_FORMAT, "RecordIO: bad magic ", hex32(magic), " at offset ", at, " of '", path_,
           "' (expected 0xCED7230A): the file is corrupt or not a RecordIO file");
    uint32_t lrec = rd32(h + 4);
    uint32_t cflag = lrec >> 29, len = lrec & kLenMask;
    uint64_t padded = (uint64_t(len) + 3) & ~uint64_t(3);
    if (padded > size_ - pos_)
      fail(MX_ERR_FORMAT, "RecordIO: '", path_, "' is truncated: the record at offset ", at, " declares ",
           len, " bytes but only ", size_ - pos_, " remain");
    if (cflag > 3)
      fail(MX_ERR_FORMAT, "RecordIO: invalid chunk flag ", cflag, " at offset ", at, " of '", path_, "'");
    if (!in_multi && (cflag == 2 || cflag == 3))
      fail(MX_ERR_FORMAT, "RecordIO: chunk flag ", cflag, " (continuation) at offset ", at, " of '", path_,
           "' without a first chunk");
    if (in_multi && (cflag == 0 || cflag == 1))
      fail(MX_ERR_FORMAT, "RecordIO: chunk flag ", cflag, " at offset ", at, " of '", path_,
           "' inside a multi-chunk record that started at offset ", record_start);
    if (in_multi) {
      unsigned char m[4];
      le32(kRecordIOMagic, m);
      out->append(reinterpret_cast<const char *>(m), 4);
    }
    size_t old = out->size();
    out->resize(old + len);
    get(&(*out)[old], len);
    unsigned char pad[4];
    get(pad, size_t(padded - len));
    if (cflag == 0 || cflag == 3) return true;
    in_multi = true;
  }
}

// ---------------------------------------------------------------- index files
std::vector<std::pair<std::string, uint64_t>> read_record_index(const std::string &path) {
  std::string text = read_file(path, size_t(1) << 32);
  std::vector<std::pair<std::string, uint64_t>> out;
  for_each_line(text, [&](const std::string &l, int64_t line) {
    size_t t = l.find('\t');
    MX_CHECK(t != std::string::npos, MX_ERR_FORMAT, "RecordIO index '", path, "' line ", line,
             ": expected 'key<TAB>offset', got '", l.substr(0, 80), "'");
    std::string off = l.substr(t + 1);
    while (!off.empty() && (off.back() == ' ' || off.back() == '\t')) off.pop_back();
    MX_CHECK(!off.empty() && off.size() <= 20 && off.find_first_not_of("0123456789") == std::string::npos,
             MX_ERR_FORMAT, "RecordIO index '", path, "' line ", line, ": offset '", off.substr(0, 40),
             "' is not a non-negative integer");
    out.emplace_back(l.substr(0, t), std::stoull(off));
  });
  return out;
}

}  // namespace io
}  // namespace mx
