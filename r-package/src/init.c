/* Registration of the .Call entry points; dynamic symbol lookup is off. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

#include <mx/c_api.h>

#include "mx_glue.h"

static const R_CallMethodDef call_methods[] = {
    {"mxr_abi_version", (DL_FUNC)&mxr_abi_version, 0},
    {"mxr_header_abi_version", (DL_FUNC)&mxr_header_abi_version, 0},
    {"mxr_version", (DL_FUNC)&mxr_version, 0},
    {"mxr_features", (DL_FUNC)&mxr_features, 0},
    {"mxr_device_count", (DL_FUNC)&mxr_device_count, 1},
    {"mxr_set_num_threads", (DL_FUNC)&mxr_set_num_threads, 1},
    {"mxr_random_seed", (DL_FUNC)&mxr_random_seed, 2},
    {"mxr_nd_is_valid", (DL_FUNC)&mxr_nd_is_valid, 1},
    {"mxr_nd_new", (DL_FUNC)&mxr_nd_new, 4},
    {"mxr_nd_shape", (DL_FUNC)&mxr_nd_shape, 1},
    {"mxr_nd_info", (DL_FUNC)&mxr_nd_info, 1},
    {"mxr_nd_size", (DL_FUNC)&mxr_nd_size, 1},
    {"mxr_nd_reshape", (DL_FUNC)&mxr_nd_reshape, 2},
    {"mxr_nd_slice", (DL_FUNC)&mxr_nd_slice, 3},
    {"mxr_nd_at", (DL_FUNC)&mxr_nd_at, 2},
    {"mxr_nd_copy", (DL_FUNC)&mxr_nd_copy, 2},
    {"mxr_nd_to_device", (DL_FUNC)&mxr_nd_to_device, 3},
    {"mxr_nd_detach", (DL_FUNC)&mxr_nd_detach, 1},
    {"mxr_nd_shares_memory", (DL_FUNC)&mxr_nd_shares_memory, 2},
    {"mxr_nd_free", (DL_FUNC)&mxr_nd_free, 1},
    {"mxr_waitall", (DL_FUNC)&mxr_waitall, 0},
    {"mxr_nd_from_r", (DL_FUNC)&mxr_nd_from_r, 5},
    {"mxr_nd_to_r", (DL_FUNC)&mxr_nd_to_r, 1},
    {"mxr_op_names", (DL_FUNC)&mxr_op_names, 0},
    {"mxr_op_find", (DL_FUNC)&mxr_op_find, 1},
    {"mxr_op_schema", (DL_FUNC)&mxr_op_schema, 1},
    {"mxr_params_new", (DL_FUNC)&mxr_params_new, 3},
    {"mxr_params_json", (DL_FUNC)&mxr_params_json, 1},
    {"mxr_op_invoke", (DL_FUNC)&mxr_op_invoke, 4},
    {"mxr_op_invoke1", (DL_FUNC)&mxr_op_invoke1, 3},
    {"mxr_ag_set_recording", (DL_FUNC)&mxr_ag_set_recording, 1},
    {"mxr_ag_set_training", (DL_FUNC)&mxr_ag_set_training, 1},
    {"mxr_ag_is_recording", (DL_FUNC)&mxr_ag_is_recording, 0},
    {"mxr_ag_is_training", (DL_FUNC)&mxr_ag_is_training, 0},
    {"mxr_ag_mark_variables", (DL_FUNC)&mxr_ag_mark_variables, 3},
    {"mxr_nd_grad", (DL_FUNC)&mxr_nd_grad, 1},
    {"mxr_ag_backward", (DL_FUNC)&mxr_ag_backward, 4},
    {"mxr_ag_grad", (DL_FUNC)&mxr_ag_grad, 6},
    {"mxr_nd_save", (DL_FUNC)&mxr_nd_save, 4},
    {"mxr_nd_load", (DL_FUNC)&mxr_nd_load, 1},
    {"mxr_json_parse", (DL_FUNC)&mxr_json_parse, 1},
    {NULL, NULL, 0}};

void R_init_mx(DllInfo *dll) {
  mxr_glue_init();
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
}
