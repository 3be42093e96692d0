// Whole-file reads and atomic writes (temporary file in the same folder, fsync, rename), so an
// interrupted save never destroys the previous file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mx {

// Paths reach the core as C strings from the front ends, but also inside JSON parameters
// (data iterators), where "\u0000" decodes to a NUL: the OS would silently use the part before
// it ('victim.nd\0.x' opens 'victim.nd'). Every path the core opens goes through this check.
// Throws MX_ERR_INVALID_ARGUMENT naming `what` (e.g. "save") and the printable path.
void check_path(const std::string &path, const char *what);

// Throws MX_ERR_IO naming the path and the system error. `max_bytes` bounds what is read.
std::string read_file(const std::string &path, size_t max_bytes = size_t(1) << 34);

// Calls f(line, line_number) for every non-empty line of `text` (numbers start at 1 and count
// blank lines too, so messages point at the right line); '\n' ends a line and a '\r' before it
// is dropped. The text readers (CSV, LibSVM, RecordIO index) all walk their files this way.
template <typename F> void for_each_line(const std::string &text, F f) {
  size_t p = 0;
  int64_t number = 0;
  while (p < text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(p, e - p);
    p = e + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) f(line, number);
  }
}

// Writes a file atomically: everything goes to "<target>.tmp.<pid>.<16 hex digits>" in the
// target's folder, then commit() fsyncs and renames it over the target. Destroyed without
// commit() (any error), it removes its temporary file and the old target stays untouched.
//  - The target is the final file a symlink points to: saving through a symlink replaces the
//    file it points to and keeps the link.
//  - An existing target keeps its permission bits; a target without any write permission bit
//    (chmod a-w) is refused with MX_ERR_IO and left unchanged, even for root.
//  - Temporary files of the same target left by a killed save (their process is gone, or they
//    are older than a day) are removed before writing, so repeated kills cannot fill the disk.
class AtomicWriter {
 public:
  AtomicWriter(const std::string &path, const char *what = "save");
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter &) = delete;
  AtomicWriter &operator=(const AtomicWriter &) = delete;
  void write(const void *data, size_t n);
  void commit();
  const std::string &target() const { return target_; }

 private:
  std::string path_, target_, tmp_, what_;
  int fd_ = -1;
  bool committed_ = false;
  std::vector<uint8_t> buf_;
  void flush();
  void write_fd(const uint8_t *p, size_t n);
  [[noreturn]] void io_fail(const char *what, int err);
};

void write_file_atomic(const std::string &path, const void *data, size_t nbytes);
inline void write_file_atomic(const std::string &path, const std::string &data) {
  write_file_atomic(path, data.data(), data.size());
}

}  // namespace mx
