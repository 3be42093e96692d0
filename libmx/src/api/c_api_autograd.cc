// Autograd switches, variables and backward.
#include "api/api_util.h"
#include "autograd/autograd.h"
#include "ops/imperative.h"

using namespace mx;

extern "C" {

int mx_autograd_set_recording(int is_recording, int *out_prev) {
  MX_API_BEGIN();
  bool prev = set_recording(is_recording != 0);
  if (out_prev) *out_prev = prev;
  MX_API_END();
}

int mx_autograd_set_training(int is_training, int *out_prev) {
  MX_API_BEGIN();
  bool prev = set_training(is_training != 0);
  if (out_prev) *out_prev = prev;
  MX_API_END();
}

int mx_autograd_is_recording(int *out_flag) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_flag);
  *out_flag = is_recording();
  MX_API_END();
}

int mx_autograd_is_training(int *out_flag) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_flag);
  *out_flag = is_training();
  MX_API_END();
}

int mx_autograd_mark_variables(int num, const mx_ndarray_t *vars, const int *grad_reqs, const mx_ndarray_t *grads) {
  MX_API_BEGIN();
  MX_CHECK(num >= 0 && (num == 0 || (vars && grad_reqs)), MX_ERR_INVALID_ARGUMENT,
           "vars or grad_reqs is NULL");
  std::vector<NDArray> v, g;
  std::vector<int> r;
  for (int i = 0; i < num; ++i) {
    v.push_back(any_arr_of(vars[i], "vars[i]"));
    r.push_back(grad_reqs[i]);
    g.push_back(grads && grads[i] ? grads[i]->arr : NDArray());
  }
  mark_variables(v, r, g);
  for (int i = 0; i < num; ++i) vars[i]->arr.ag() = v[static_cast<size_t>(i)].ag();
  MX_API_END();
}

int mx_autograd_is_tracked(mx_ndarray_t arr, int *out_flag) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_flag);
  *out_flag = is_tracked(any_arr_of(arr, "arr"));
  MX_API_END();
}

int mx_ndarray_grad_fresh(mx_ndarray_t arr, int *out_flag) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_flag);
  const NDArray &a = any_arr_of(arr, "arr");
  *out_flag = a.ag() && a.ag()->is_variable && a.ag()->fresh_grad ? 1 : 0;
  MX_API_END();
}

int mx_ndarray_set_grad_fresh(mx_ndarray_t arr, int flag) {
  MX_API_BEGIN();
  const NDArray &a = any_arr_of(arr, "arr");
  if (a.ag() && a.ag()->is_variable) a.ag()->fresh_grad = flag != 0;
  MX_API_END();
}

int mx_ndarray_grad(mx_ndarray_t arr, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  const NDArray &a = any_arr_of(arr, "arr");
  if (a.ag() && a.ag()->is_variable && a.ag()->grad.defined()) {
    NDArray g = a.ag()->grad;  // keeps its autograd link when built with create_graph
    *out = new_handle(g);
  } else {
    *out = nullptr;
  }
  MX_API_END();
}

int mx_autograd_backward(int num_heads, const mx_ndarray_t *heads, const mx_ndarray_t *head_grads,
                         int retain_graph, int is_train) {
  MX_API_BEGIN();
  MX_CHECK(num_heads > 0 && heads, MX_ERR_INVALID_ARGUMENT, "no heads given");
  std::vector<NDArray> h, hg;
  for (int i = 0; i < num_heads; ++i) {
    h.push_back(any_arr_of(heads[i], "heads[i]"));
    hg.push_back(head_grads && head_grads[i] ? head_grads[i]->arr : NDArray());
  }
  backward(h, hg, nullptr, retain_graph != 0, false, is_train != 0);
  MX_API_END();
}

int mx_autograd_grad(int num_heads, const mx_ndarray_t *heads, const mx_ndarray_t *head_grads, int num_vars,
                     const mx_ndarray_t *vars, int retain_graph, int create_graph, int is_train,
                     mx_ndarray_t *out_grads) {
  MX_API_BEGIN();
  MX_CHECK(num_heads > 0 && heads, MX_ERR_INVALID_ARGUMENT, "no heads given");
  MX_CHECK(num_vars > 0 && vars && out_grads, MX_ERR_INVALID_ARGUMENT, "no variables given");
  std::vector<NDArray> h, hg, v;
  for (int i = 0; i < num_heads; ++i) {
    h.push_back(any_arr_of(heads[i], "heads[i]"));
    hg.push_back(head_grads && head_grads[i] ? head_grads[i]->arr : NDArray());
  }
  for (int i = 0; i < num_vars; ++i) v.push_back(any_arr_of(vars[i], "vars[i]"));
  std::vector<NDArray> g = backward(h, hg, &v, retain_graph != 0 || create_graph != 0, create_graph != 0,
                                    is_train != 0);
  for (int i = 0; i < num_vars; ++i) out_grads[i] = new_handle(g[static_cast<size_t>(i)]);
  MX_API_END();
}

}  // extern "C"
