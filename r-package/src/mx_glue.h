/* Declarations shared by the .Call glue files (generated list kept by hand in sync). */
#ifndef MXR_GLUE_H_
#define MXR_GLUE_H_
#include <R.h>
#include <Rinternals.h>

void mxr_glue_init(void);
SEXP mxr_fail_msg(int status, const char *msg);
SEXP mxr_abi_version(void);
SEXP mxr_header_abi_version(void);
SEXP mxr_version(void);
SEXP mxr_features(void);
SEXP mxr_device_count(SEXP dev_type);
SEXP mxr_set_num_threads(SEXP n);
SEXP mxr_random_seed(SEXP seed, SEXP dev_type);
SEXP mxr_nd_is_valid(SEXP x);
SEXP mxr_nd_new(SEXP shape, SEXP dtype, SEXP dev_type, SEXP dev_id);
SEXP mxr_nd_shape(SEXP x);
SEXP mxr_nd_info(SEXP x);
SEXP mxr_nd_size(SEXP x);
SEXP mxr_nd_reshape(SEXP x, SEXP shape);
SEXP mxr_nd_slice(SEXP x, SEXP begin, SEXP end);
SEXP mxr_nd_at(SEXP x, SEXP index);
SEXP mxr_nd_copy(SEXP src, SEXP dst);
SEXP mxr_nd_to_device(SEXP x, SEXP dev_type, SEXP dev_id);
SEXP mxr_nd_detach(SEXP x);
SEXP mxr_nd_shares_memory(SEXP a, SEXP b);
SEXP mxr_nd_free(SEXP x);
SEXP mxr_waitall(void);
SEXP mxr_nd_from_r(SEXP x, SEXP dimsx, SEXP dtype, SEXP dev_type, SEXP dev_id);
SEXP mxr_nd_to_r(SEXP x);
SEXP mxr_op_names(void);
SEXP mxr_op_find(SEXP name);
SEXP mxr_op_schema(SEXP opx);
SEXP mxr_params_new(SEXP opx, SEXP keys, SEXP values);
SEXP mxr_params_json(SEXP px);
SEXP mxr_op_invoke(SEXP opx, SEXP px, SEXP inputs, SEXP out);
SEXP mxr_op_invoke1(SEXP opx, SEXP px, SEXP inputs);
SEXP mxr_ag_set_recording(SEXP flag);
SEXP mxr_ag_set_training(SEXP flag);
SEXP mxr_ag_is_recording(void);
SEXP mxr_ag_is_training(void);
SEXP mxr_ag_mark_variables(SEXP vars, SEXP reqs, SEXP grads);
SEXP mxr_nd_grad(SEXP x);
SEXP mxr_ag_backward(SEXP heads, SEXP head_grads, SEXP retain, SEXP train);
SEXP mxr_ag_grad(SEXP heads, SEXP head_grads, SEXP vars, SEXP retain, SEXP create, SEXP train);
SEXP mxr_nd_save(SEXP path, SEXP arrays, SEXP names, SEXP format);
SEXP mxr_nd_load(SEXP path);
SEXP mxr_json_parse(SEXP text);

#endif
