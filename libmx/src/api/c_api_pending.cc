// TEMPORARY: ABI functions not implemented yet. Each returns MX_ERR_UNSUPPORTED; delete an
// entry when its real implementation lands.
#include "api/api_util.h"

extern "C" {
int mx_ndarray_to_dlpack(mx_ndarray_t arr, void **out_dlmanaged) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_ndarray_from_dlpack(void *dlmanaged, mx_ndarray_t *out) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_initializer_new(const char *json, mx_initializer_t *out) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_initializer_free(mx_initializer_t init) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_initializer_apply(mx_initializer_t init, const char *name, mx_ndarray_t arr) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_initializer_json(mx_initializer_t init, const char **out_json) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_lr_scheduler_new(const char *json, mx_lr_scheduler_t *out) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_lr_scheduler_free(mx_lr_scheduler_t sched) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_lr_scheduler_get(mx_lr_scheduler_t sched, int64_t num_update, double *out_lr) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_lr_scheduler_json(mx_lr_scheduler_t sched, const char **out_json) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_new(const char *name, const char *hparams_json, mx_optimizer_t *out) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_free(mx_optimizer_t opt) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_set(mx_optimizer_t opt, const char *key, const char *value_json) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_set_index(mx_optimizer_t opt, int index, const char *name, double lr_mult, double wd_mult) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_update(mx_optimizer_t opt, int num, const int *indices, const mx_ndarray_t *weights, const mx_ndarray_t *grads) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_learning_rate(mx_optimizer_t opt, double *out_lr) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_json(mx_optimizer_t opt, const char **out_json) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_export_states(mx_optimizer_t opt, int *out_num, const char ***out_names, mx_ndarray_t **out_arrays, const char **out_json) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_import_states(mx_optimizer_t opt, int num, const char **names, const mx_ndarray_t *arrays, const char *json) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_save_states(mx_optimizer_t opt, const char *path) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_optimizer_load_states(mx_optimizer_t opt, const char *path) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_metric_new(const char *name, const char *args_json, mx_metric_t *out) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_metric_free(mx_metric_t metric) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_metric_update(mx_metric_t metric, int num, const mx_ndarray_t *labels, const mx_ndarray_t *preds) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_metric_reset(mx_metric_t metric) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_metric_get(mx_metric_t metric, const char **out_name, double *out_value, int64_t *out_num_inst) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_ndarray_save(const char *path, int num, const mx_ndarray_t *arrays, const char **names, int format) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_ndarray_load(const char *path, int *out_num, mx_ndarray_t **out_arrays, const char ***out_names) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
int mx_ndarray_load_buffer(const void *data, size_t nbytes, int *out_num, mx_ndarray_t **out_arrays, const char ***out_names) { return mx::set_last_error(MX_ERR_UNSUPPORTED, __func__, "not implemented yet"); }
}
