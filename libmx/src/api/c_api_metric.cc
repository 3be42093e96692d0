// C API: evaluation metrics (metric/metric.h).
#include <string>
#include <vector>

#include "api/api_util.h"
#include "base/json.h"
#include "metric/metric.h"

struct mx_metric_s {
  std::unique_ptr<mx::Metric> m;
  std::string json;
};

using namespace mx;

namespace {
Metric &metric_of(mx_metric_t h) {
  if (!h || !h->m) fail(MX_ERR_INVALID_ARGUMENT, "NULL metric handle");
  return *h->m;
}

int get_value(mx_metric_t metric, bool global, const char **out_name, double *out_value,
              int64_t *out_num_inst) {
  Metric &m = metric_of(metric);
  if (out_name) *out_name = m.name.c_str();
  if (out_value) *out_value = m.value(global);
  if (out_num_inst) *out_num_inst = m.num_inst(global);
  return MX_OK;
}
}  // namespace

extern "C" {

int mx_metric_copy(mx_metric_t metric, mx_metric_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  auto h = std::make_unique<mx_metric_s>();
  h->m = metric_of(metric).clone();
  *out = h.release();
  MX_API_END();
}

int mx_metric_new(const char *name, const char *args_json, mx_metric_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(name);
  MX_REQUIRE_PTR(out);
  Json args;
  if (args_json && *args_json) args = Json::parse(args_json);
  auto h = std::make_unique<mx_metric_s>();
  h->m = make_metric(name, args);
  *out = h.release();
  MX_API_END();
}

int mx_metric_free(mx_metric_t metric) {
  delete metric;
  return MX_OK;
}

int mx_metric_update(mx_metric_t metric, int num, const mx_ndarray_t *labels, const mx_ndarray_t *preds) {
  MX_API_BEGIN();
  Metric &m = metric_of(metric);
  MX_CHECK(num >= 0, MX_ERR_INVALID_ARGUMENT, "num must be >= 0, got ", num);
  MX_CHECK(num == 0 || preds != nullptr, MX_ERR_INVALID_ARGUMENT, "preds is NULL");
  std::vector<NDArray> l, p;
  for (int i = 0; i < num; ++i) {
    p.push_back(arr_of(preds[i], "preds[i]"));
    if (labels) l.push_back(arr_of(labels[i], "labels[i]"));
  }
  m.update(l, p);
  MX_API_END();
}

int mx_metric_reset(mx_metric_t metric) {
  MX_API_BEGIN();
  metric_of(metric).reset();
  MX_API_END();
}

int mx_metric_reset_local(mx_metric_t metric) {
  MX_API_BEGIN();
  metric_of(metric).reset_local();
  MX_API_END();
}

int mx_metric_get(mx_metric_t metric, const char **out_name, double *out_value, int64_t *out_num_inst) {
  MX_API_BEGIN();
  get_value(metric, false, out_name, out_value, out_num_inst);
  MX_API_END();
}

int mx_metric_get_global(mx_metric_t metric, const char **out_name, double *out_value,
                         int64_t *out_num_inst) {
  MX_API_BEGIN();
  get_value(metric, true, out_name, out_value, out_num_inst);
  MX_API_END();
}

int mx_metric_json(mx_metric_t metric, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  Metric &m = metric_of(metric);
  Json j = Json::object();
  j.set("metric", m.kind);
  j.set("name", m.name);
  j.set("args", m.args);
  j.set("sum_metric", m.sum_metric(false));
  j.set("num_inst", m.num_inst(false));
  j.set("global_sum_metric", m.sum_metric(true));
  j.set("global_num_inst", m.num_inst(true));
  metric->json = j.dump();
  *out_json = metric->json.c_str();
  MX_API_END();
}

}  // extern "C"
