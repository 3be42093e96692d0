#include "kvstore/timeline.h"

#include <cstdio>

#include "autograd/grad_ready.h"
#include "base/error.h"

namespace mx {
namespace {

constexpr size_t kMaxEvents = 2000000;  // ~200 MB of JSON: then later events are dropped

Json meta(const char *what, int pid, int tid, const std::string &name) {
  Json j = Json::object();
  j.set("name", Json(what));
  j.set("ph", Json("M"));
  j.set("pid", Json(pid));
  j.set("tid", Json(tid));
  Json a = Json::object();
  a.set("name", Json(name));
  j.set("args", a);
  return j;
}

}  // namespace

std::string timeline_path_for_rank(const std::string &path, int rank) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  std::string tag = ".rank" + std::to_string(rank);
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return path + tag;
  return path.substr(0, dot) + tag + path.substr(dot);
}

double Timeline::now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Timeline::Timeline(const std::string &path, int rank) : path_(path), rank_(rank) {
  FILE *f = std::fopen(path_.c_str(), "w");
  MX_CHECK(f != nullptr, MX_ERR_IO, "kvstore timeline: cannot write '", path_, "'");
  std::fclose(f);
  events_.push_back(meta("process_name", rank_, 0, "rank " + std::to_string(rank_)).dump());
  events_.push_back(meta("thread_name", rank_, kCompute, "compute (backward, kvstore calls)").dump());
  events_.push_back(meta("thread_name", rank_, kComm, "kvstore comm (buckets)").dump());
  write_locked();
  GradListener l;
  l.on_backward_begin = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    if (backward_depth_++ == 0) backward_start_us_ = now_us();
  };
  l.on_backward_end = [this] {
    double t1 = now_us(), t0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (backward_depth_ == 0 || --backward_depth_ != 0) return;
      t0 = backward_start_us_;
    }
    span("backward", "compute", kCompute, t0, t1);
  };
  listener_ = add_grad_listener(std::move(l));
}

Timeline::~Timeline() {
  remove_grad_listener(listener_);
  std::lock_guard<std::mutex> lock(mu_);
  write_locked();
}

void Timeline::add(Json ev) {
  std::lock_guard<std::mutex> lock(mu_);
  if (events_.size() >= kMaxEvents) {
    truncated_ = true;
    return;
  }
  events_.push_back(ev.dump());
}

void Timeline::span(const std::string &name, const char *cat, Row row, double t0, double t1, Json args) {
  Json j = Json::object();
  j.set("name", Json(name));
  j.set("cat", Json(cat));
  j.set("ph", Json("X"));
  j.set("pid", Json(rank_));
  j.set("tid", Json(static_cast<int>(row)));
  j.set("ts", Json(t0));
  j.set("dur", Json(t1 > t0 ? t1 - t0 : 0.0));
  if (!args.is_null()) j.set("args", std::move(args));
  add(std::move(j));
}

void Timeline::instant(const std::string &name, const char *cat, Row row, double t, Json args) {
  Json j = Json::object();
  j.set("name", Json(name));
  j.set("cat", Json(cat));
  j.set("ph", Json("i"));
  j.set("s", Json("t"));
  j.set("pid", Json(rank_));
  j.set("tid", Json(static_cast<int>(row)));
  j.set("ts", Json(t));
  if (!args.is_null()) j.set("args", std::move(args));
  add(std::move(j));
}

void Timeline::maybe_flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (now_us() - last_write_us_ >= 1e6) write_locked();
}

void Timeline::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  write_locked();
}

void Timeline::write_locked() {
  // Whole file each time (to a temporary, then renamed): always valid JSON, even mid-run.
  std::string tmp = path_ + ".tmp";
  FILE *f = std::fopen(tmp.c_str(), "w");
  if (!f) return;  // the path was writable at creation; a later failure only loses the trace
  std::fputs("{\"displayTimeUnit\": \"ms\", \"truncated\": ", f);
  std::fputs(truncated_ ? "true" : "false", f);
  std::fputs(", \"traceEvents\": [\n", f);
  for (size_t i = 0; i < events_.size(); ++i) {
    std::fputs(events_[i].c_str(), f);
    std::fputs(i + 1 < events_.size() ? ",\n" : "\n", f);
  }
  std::fputs("]}\n", f);
  bool ok = std::fclose(f) == 0;
  if (ok) std::rename(tmp.c_str(), path_.c_str());
  last_write_us_ = now_us();
}

}  // namespace mx
