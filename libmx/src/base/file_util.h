// Whole-file reads and atomic writes (temporary file in the same folder, fsync, rename), so an
// interrupted save never destroys the previous file.
#pragma once
#include <string>

namespace mx {

// Throws MX_ERR_IO naming the path and the system error. `max_bytes` bounds what is read.
std::string read_file(const std::string &path, size_t max_bytes = size_t(1) << 34);
void write_file_atomic(const std::string &path, const void *data, size_t nbytes);
inline void write_file_atomic(const std::string &path, const std::string &data) {
  write_file_atomic(path, data.data(), data.size());
}

}  // namespace mx
