// Update rules: one per optimizer name, the element-wise math of MXNet 1.9.1's update operators
// (or of its Python optimizer code where MXNet has no operator).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "ops/formulas/optimizer.h"
#include "optimizer/optimizer.h"

namespace mx {

class Rule {
 public:
  virtual ~Rule() = default;
  std::string name;
  // Optimizer-specific hyperparameters and their defaults (NaN = unset / None).
  std::map<std::string, double> defaults;
  double default_lr = 0.01;
  // True when MXNet's constructor has an explicit learning_rate default (Adam: 0.001, ...): such
  // optimizers always overwrite a scheduler's base_lr, as MXNet's do.
  bool lr_in_signature = false;
  // SGD: MXNet's aggregated path counts every index of a chunk before reading the rate.
  int aggregate = 0;
  // > 0: MXNET_OPTIMIZER_AGGREGATION_SIZE is clamped to [1, aggregate_max] (MXNet's LAMB: 45).
  int aggregate_max = 0;
  // LAMB: a chunk of several weights runs MXNet's multi-tensor operator (_multi_lamb_update /
  // _multi_mp_lamb_update) on the weights' device, each index's rate read right after its count.
  bool multi_tensor_op = false;
  // Optimizers whose MXNet code is Python math clip with clip_gradient=0 (kernels ignore 0).
  bool python_clip = false;
  // Hyperparameters that change the state layout (cannot change once states exist).
  std::vector<std::string> layout_keys;
  // MXNet's sparse path for a row_sparse gradient: the rule runs over the gradient's rows only
  // (weights and states elsewhere unchanged). kRowsIfLazy: only with lazy_update (sgd, adam);
  // kRowsAlways: whatever the flags (adagrad's sparse kernel); kRowsIfSparseWeight: only for
  // a row_sparse weight (ftrl: MXNet's kernel needs weight and states row_sparse, as a kvstore
  // holding a row_sparse Parameter has them; a dense weight takes the dense rule).
  enum SparseRows { kNoRows, kRowsIfLazy, kRowsAlways, kRowsIfSparseWeight };
  SparseRows sparse_rows = kNoRows;
  // MXNet's sparse kernel refuses weight decay (adagrad); clip_gradient=0 means no clipping there.
  bool sparse_rows_no_wd = false;
  // Weight decay refused whatever the gradient (GroupAdaGrad asserts wd == 0 in MXNet).
  bool no_wd = false;
  // States hold one value per weight row (shape (rows, 1), for 2-d weights: GroupAdaGrad's
  // history): run() is then called once per row with n = the row's length and each s[k] pointing
  // at that row's state value.
  bool row_states = false;

  virtual std::vector<std::string> states(const HParams &hp) const = 0;
  // Element-wise rules: this step's formula and coefficients (ops/formulas/optimizer.h), which
  // the GPU path runs on the device; advances optimizer-wide state (Nadam's schedule) as run()
  // would, so call one of the two per step. False (nothing changed) for rules with their own
  // host loop (LAMB, GroupAdaGrad).
  virtual bool formula(const HParams &hp, GlobalState &g, const StepArgs &a, UpdateRule *r,
                       UpdCoef<double> *k) const = 0;
  virtual void run(const HParams &hp, GlobalState &g, const StepArgs &a, float *w, const float *gr,
                   float *const *s, int64_t n) const = 0;
  virtual void run(const HParams &hp, GlobalState &g, const StepArgs &a, double *w,
                   const double *gr, double *const *s, int64_t n) const = 0;
};

const Rule *find_rule(const std::string &name);
std::vector<std::string> rule_names();

}  // namespace mx
