// A Chrome trace (chrome://tracing, https://ui.perfetto.dev) of one worker's gradient reduction,
// to see whether communication overlaps backward: backward passes and step-time kvstore calls
// on the "compute" row, each fusion bucket on the "kvstore comm" row as a span from send to done
// with the moment it became ready (all its gradients written) in its args and as an instant.
// Turned on by MX_KVSTORE_TIMELINE=path or set_config("timeline", path); a dist kvstore with
// several workers writes path with ".rank<N>" before the extension. The file is complete JSON
// ({"traceEvents": [...]}) after every write: at most once a second at a step, and when the
// timeline is closed or the kvstore is destroyed.
#pragma once
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "base/json.h"

namespace mx {

class Timeline {
 public:
  enum Row { kCompute = 0, kComm = 1 };
  // Opens (truncates) the file at once, so a bad path fails here with MX_ERR_IO naming it.
  Timeline(const std::string &path, int rank);
  ~Timeline();  // writes the file; never throws
  Timeline(const Timeline &) = delete;
  Timeline &operator=(const Timeline &) = delete;

  const std::string &path() const { return path_; }
  // Microseconds on the machine's monotonic clock (the same for every process of a host).
  static double now_us();
  // A span [t0, t1] (Chrome "X" event) and an instant (Chrome "i" event) on a row.
  void span(const std::string &name, const char *cat, Row row, double t0_us, double t1_us, Json args = Json());
  void instant(const std::string &name, const char *cat, Row row, double t_us, Json args = Json());
  // Writes the file if a second has passed since the last write (called at step ends).
  void maybe_flush();
  void flush();

 private:
  void add(Json ev);
  void write_locked();

  std::string path_;
  int rank_;
  std::mutex mu_;
  std::vector<std::string> events_;  // serialised, in arrival order
  bool truncated_ = false;
  double last_write_us_ = 0;
  int listener_ = 0;
  int backward_depth_ = 0;  // nested backward passes (a hybridized block inside autograd's)
  double backward_start_us_ = 0;
};

// "dir/t.json" -> "dir/t.rank1.json" (several workers share the option, not the file).
std::string timeline_path_for_rank(const std::string &path, int rank);

}  // namespace mx
