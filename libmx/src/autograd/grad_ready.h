// Gradient-ready notifications: backward (autograd's, and the graph executor's) tells listeners
// the moment a gradient array holds its final value for this pass, so a distributed kvstore can
// start reducing it while the rest of backward still runs (kvstore/overlap.h). Listeners are
// called on the thread running backward and must be quick (they only queue work).
#pragma once
#include <functional>

#include "ndarray/ndarray.h"

namespace mx {

struct GradListener {
  // `grad` (a variable's or an executor argument's gradient array) is final for this backward.
  std::function<void(const NDArray &grad)> on_ready;
  // A backward pass starts: it may overwrite gradient arrays, so reductions still reading or
  // writing them must finish first.
  std::function<void()> on_backward_begin;
  // The backward pass has ended (normally or by an error); for timelines.
  std::function<void()> on_backward_end;
};

// Returns an id for remove_grad_listener.
int add_grad_listener(GradListener l);
void remove_grad_listener(int id);

// Cheap when nobody listens (one atomic load).
void notify_grad_ready(const NDArray &grad);
void notify_backward_begin();
void notify_backward_end();
// Announces the end of a backward pass when it goes out of scope (error paths included).
struct BackwardEndNotice {
  bool armed;
  ~BackwardEndNotice() {
    if (armed) notify_backward_end();
  }
};

}  // namespace mx
