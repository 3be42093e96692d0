// Layout of mx_optimizer_t, shared with the KVStore C API: the optimizer is held by shared_ptr
// so a kvstore given it (mx_kvstore_set_optimizer) keeps it alive after the handle is freed.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "mx/c_api.h"
#include "optimizer/optimizer.h"

struct mx_optimizer_s {
  std::shared_ptr<mx::Optimizer> opt;
  std::string json;
  std::vector<std::string> names;
  std::vector<const char *> name_ptrs;
  std::vector<mx_ndarray_t> handles;
};
