// Reducing row_sparse values in the KVStore (pushed row_sparse gradients): summed as row_sparse
// (the union of their rows), locally and over the workers of a dist store.
#pragma once
#include <string>
#include <vector>

#include "kvstore/collective.h"
#include "ndarray/ndarray.h"

namespace mx {

// The row_sparse sum of `values` (all row_sparse, one shape and dtype): a new array owning its
// parts (never one of the inputs).
NDArray rsp_local_sum(const std::vector<NDArray> &values);

// The row_sparse sum over all workers of each worker's `mine`; every worker gets the same
// result (summed in rank order). Rows travel by allgather when every worker's rows together are
// fewer than the array's rows (P x max_nnz < rows: less traffic than the dense array);
// otherwise the dense sum is allreduced and the union of rows by an allreduce of a row mask.
NDArray rsp_allreduce(Collective &comm, const NDArray &mine, const std::string &what);

}  // namespace mx
