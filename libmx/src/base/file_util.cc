#include "base/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include "base/error.h"

namespace mx {

void check_path(const std::string &path, const char *what) {
  size_t nul = path.find('\0');
  if (nul == std::string::npos) return;
  fail(MX_ERR_INVALID_ARGUMENT, what, ": the path '", path.substr(0, nul), "\\x00", path.substr(nul + 1),
       "' contains a NUL character (embedded null byte)");
}

std::string read_file(const std::string &path, size_t max_bytes) {
  check_path(path, "read");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(MX_ERR_IO, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail(MX_ERR_IO, "cannot read '", path, "': ", std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {  // errno is not set here: name the file type instead
    ::close(fd);
    fail(MX_ERR_IO, "cannot read '", path, "': ",
         S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file (a device, FIFO or socket)");
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

namespace {
constexpr size_t kBuf = 1 << 20;
constexpr time_t kStaleAge = 24 * 3600;

std::string dir_of(const std::string &p) {
  size_t slash = p.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}
std::string base_of(const std::string &p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The file a chain of symlinks ends at (the path itself when it is not a link). A dangling
// link resolves to the missing file it names, which the save then creates.
std::string resolve_links(const std::string &path, const char *what) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::vector<char> buf(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 1);
    ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
    if (n < 0) fail(MX_ERR_IO, what, ": cannot read the symlink '", p, "': ", std::strerror(errno));
    std::string link(buf.data(), static_cast<size_t>(n));
    p = (link.empty() || link[0] == '/') ? link : dir_of(p) + "/" + link;
  }
  fail(MX_ERR_IO, what, ": '", path, "': too many levels of symbolic links");
}

// "<base>.tmp.<pid>.<hex>" names of this target whose writer is gone (or that are a day old).
void remove_stale_temps(const std::string &target) {
  const std::string dir = dir_of(target), prefix = base_of(target) + ".tmp.";
  DIR *d = ::opendir(dir.c_str());
  if (!d) return;
  const time_t now = std::time(nullptr);
  while (struct dirent *e = ::readdir(d)) {
    const char *name = e->d_name;
    if (std::strncmp(name, prefix.c_str(), prefix.size()) != 0) continue;
    long pid = 0;
    unsigned long long tag = 0;
    int used = 0;
    if (std::sscanf(name + prefix.size(), "%ld.%16llx%n", &pid, &tag, &used) != 2 ||
        name[prefix.size() + static_cast<size_t>(used)] != 0 || pid <= 0)
      continue;  // not one of ours
    std::string full = dir + "/" + name;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    bool gone = ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    if (gone || now - st.st_mtime > kStaleAge) ::unlink(full.c_str());
  }
  ::closedir(d);
}
}  // namespace

AtomicWriter::AtomicWriter(const std::string &path, const char *what) : path_(path), what_(what) {
  check_path(path, what);
  MX_CHECK(!path.empty(), MX_ERR_INVALID_ARGUMENT, what, ": the path is empty");
  target_ = resolve_links(path, what);
  struct stat st;
  bool exists = ::stat(target_.c_str(), &st) == 0;
  if (exists) {
    MX_CHECK(!S_ISDIR(st.st_mode), MX_ERR_IO, what, ": cannot write '", path, "': it is a directory");
    MX_CHECK(S_ISREG(st.st_mode), MX_ERR_IO, what, ": cannot write '", path,
             "': it is not a regular file (a device, FIFO or socket)");
    // A file without write permission is meant to stay as it is; rename() would replace it
    // anyway (only the folder's permissions matter), and root passes access(W_OK).
    MX_CHECK((st.st_mode & 0222) != 0 && (::geteuid() == 0 || ::access(target_.c_str(), W_OK) == 0), MX_ERR_IO,
             what, ": cannot write '", path, "': the file is read-only (permission denied); it was left unchanged");
  }
  remove_stale_temps(target_);
  static std::atomic<uint64_t> counter{0};
  uint64_t seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device rd;
    seed ^= (uint64_t(rd()) << 32) ^ rd();
  } catch (...) {
  }
  int err = 0;
  for (int attempt = 0; attempt < 16; ++attempt) {
    uint64_t r = std::mt19937_64(seed + counter.fetch_add(1) * 0x9E3779B97F4A7C15ull)();
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, ".tmp.%ld.%016llx", static_cast<long>(::getpid()),
                  static_cast<unsigned long long>(r));
    tmp_ = target_ + suffix;
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    err = errno;
    if (err != EEXIST) break;
  }
  if (fd_ < 0)
    fail(MX_ERR_IO, what, ": cannot write '", path, "': cannot create the temporary file '", tmp_, "': ",
         std::strerror(err));
  if (exists) (void)::fchmod(fd_, st.st_mode & 07777);  // keep the replaced file's permission bits
  buf_.reserve(kBuf);
}

AtomicWriter::~AtomicWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicWriter::io_fail(const char *what, int err) {
  fail(MX_ERR_IO, what_, ": cannot write '", path_, "': ", what, " ('", tmp_, "'): ", std::strerror(err));
}

void AtomicWriter::write_fd(const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n < (size_t(1) << 30) ? n : (size_t(1) << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      io_fail("write failed", errno);
    }
    if (w == 0) io_fail("write failed", ENOSPC);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicWriter::flush() {
  if (!buf_.empty()) write_fd(buf_.data(), buf_.size());
  buf_.clear();
}

void AtomicWriter::write(const void *data, size_t n) {
  MX_CHECK(!committed_ && fd_ >= 0, MX_ERR_INVALID_ARGUMENT, what_, ": write after commit");
  const auto *p = static_cast<const uint8_t *>(data);
  if (buf_.size() + n <= kBuf) {
    buf_.insert(buf_.end(), p, p + n);
    return;
  }
  flush();
  if (n >= kBuf) write_fd(p, n);
  else buf_.insert(buf_.end(), p, p + n);
}

void AtomicWriter::commit() {
  flush();
  if (::fsync(fd_) != 0) io_fail("cannot sync", errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) io_fail("cannot close", errno);
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) io_fail("cannot rename the temporary file over it", errno);
  committed_ = true;
  // Make the rename itself durable (best effort: some filesystems refuse to fsync folders).
  int dfd = ::open(dir_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string &path, const void *data, size_t nbytes) {
  AtomicWriter w(path, "save");
  w.write(data, nbytes);
  w.commit();
}

}  // namespace mx
