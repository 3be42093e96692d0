// RecordIO (.rec): MXNet/dmlc's record container, byte-compatible.
//
// Each chunk on disk: uint32 magic 0xCED7230A, uint32 lrec (upper 3 bits cflag, lower 29 bits
// length), `length` bytes, zero padding to a multiple of 4. A record whose bytes hold the magic
// word at a 4-byte aligned offset is written as several chunks (cflag 1 first, 2 middle, 3 last)
// with those magic words removed; the reader puts them back. cflag 0 is a whole record.
//
// The reader treats the file as hostile: every length is checked against the bytes that remain,
// so a truncated or corrupt file fails with MX_ERR_FORMAT naming the byte offset.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace mx {
namespace io {

constexpr uint32_t kRecordIOMagic = 0xCED7230Au;

class RecordWriter {
 public:
  explicit RecordWriter(const std::string &path);  // truncates; MX_ERR_IO on failure
  ~RecordWriter();
  RecordWriter(const RecordWriter &) = delete;
  RecordWriter &operator=(const RecordWriter &) = delete;
  void write(const void *data, size_t n);
  uint64_t tell() const { return pos_; }
  void close();  // flush + close; throws MX_ERR_IO if the data could not be written

 private:
  void put(const void *p, size_t n);
  std::string path_;
  FILE *f_ = nullptr;
  uint64_t pos_ = 0;
};

class RecordReader {
 public:
  explicit RecordReader(const std::string &path);  // MX_ERR_IO if missing/unreadable
  ~RecordReader();
  RecordReader(const RecordReader &) = delete;
  RecordReader &operator=(const RecordReader &) = delete;
  // Next record into `out`; false at a clean end of file. Throws MX_ERR_FORMAT on corruption.
  bool next(std::string *out);
  void seek(uint64_t pos);  // must be a record start written by the writer
  uint64_t tell() const { return pos_; }
  uint64_t size() const { return size_; }
  const std::string &path() const { return path_; }

 private:
  void get(void *p, size_t n);
  std::string path_;
  FILE *f_ = nullptr;
  uint64_t pos_ = 0, size_ = 0;
};

// .idx text files: "key\toffset" lines. Throws MX_ERR_FORMAT naming the line.
std::vector<std::pair<std::string, uint64_t>> read_record_index(const std::string &path);

}  // namespace io
}  // namespace mx
