#include "base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "base/error.h"

namespace mx {

std::string read_file(const std::string &path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(MX_ERR_IO, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    fail(MX_ERR_IO, "cannot read '", path, "': ", S_ISDIR(st.st_mode) ? "is a directory" : std::strerror(err));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    fail(MX_ERR_FORMAT, "'", path, "' is ", st.st_size, " bytes, more than the ", max_bytes, " allowed");
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t r = ::read(fd, &data[got], data.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int err = errno;
      ::close(fd);
      fail(MX_ERR_IO, "error reading '", path, "': ", r == 0 ? "unexpected end of file" : std::strerror(err));
    }
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  return data;
}

void write_file_atomic(const std::string &path, const void *data, size_t nbytes) {
  std::random_device rd;
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(MX_ERR_IO, "cannot write '", path, "': ", std::strerror(errno));
  const char *p = static_cast<const char *>(data);
  size_t done = 0;
  while (done < nbytes) {
    ssize_t w = ::write(fd, p + done, nbytes - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(MX_ERR_IO, "error writing '", path, "': ", std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(MX_ERR_IO, "error writing '", path, "': ", std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(MX_ERR_IO, "cannot replace '", path, "': ", std::strerror(err));
  }
}

}  // namespace mx
