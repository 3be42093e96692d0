// Data iterators in the core (MXNet's CSVIter, MNISTIter, ImageRecordIter, and an NDArrayIter
// over given arrays for R/Julia). Each `next()` produces fresh NDArrays, so arrays handed out
// earlier are never overwritten.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/json.h"
#include "ndarray/ndarray.h"

namespace mx {
namespace io {

class DataIter {
 public:
  virtual ~DataIter() = default;
  virtual void reset() = 0;
  virtual bool next() = 0;
  std::vector<NDArray> data, label;
  int64_t pad = 0;
  std::vector<uint64_t> index;
  std::string provide_json;  // {"data":[{"name","shape","dtype"}],"label":[...]}
};

// A batched view of n instances. Subclasses describe the fields (per-instance shape and dtype)
// and fill batch rows from instance indices; this class does order, shuffling and the
// end-of-epoch rules.
class BatchIter : public DataIter {
 public:
  enum class Last {
    kPadWrap,     // NDArrayIter 'pad': wrap to the epoch's start, report pad
    kRoundCarry,  // MXNet BatchLoader round_batch=True: wrap; the next epoch starts after the wrapped rows
    kPadStale,    // round_batch=False: short last batch, pad rows keep the previous batch's values
    kDiscard,     // drop the incomplete last batch
    kRollOver     // NDArrayIter 'roll_over': leftover instances lead the next epoch
  };
  struct Field {
    std::string name;
    std::vector<int64_t> shape;  // per instance
    DType dtype = DType::f32;
    size_t row_bytes = 0;
    std::vector<char> buf;  // batch_size rows, kept between batches
  };
  void reset() override;
  bool next() override;

 protected:
  // Call after the fields and n_ are set.
  void setup(int64_t batch_size, Last last, bool shuffle, uint64_t seed, bool shuffle_each_epoch);
  // Fill rows [0, sel.size()) of every field from instances sel[i].
  virtual void fill(const std::vector<int64_t> &sel) = 0;
  std::vector<Field> fields_;  // data fields first, then label fields
  size_t num_data_fields_ = 0;
  int64_t n_ = 0, bs_ = 0;
  uint64_t epoch_ = 0;
  uint64_t seed_ = 0;

 private:
  Last last_ = Last::kPadWrap;
  bool shuffle_ = false, shuffle_each_epoch_ = true, started_ = false;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_, lead_;
  int64_t pos_ = 0, carry_ = 0;
};

// name: "CSVIter", "MNISTIter", "ImageRecordIter"; params: a JSON object of MXNet's arguments
// (numbers, booleans, strings, shapes as arrays or "(3,28,28)" strings).
std::unique_ptr<DataIter> make_data_iter(const std::string &name, const Json &params);
std::unique_ptr<DataIter> make_ndarray_iter(const std::vector<NDArray> &data, const std::vector<NDArray> &label,
                                            int64_t batch_size, bool shuffle, const std::string &last_batch_handle);
std::unique_ptr<DataIter> make_image_record_iter(const Json &params);
std::unique_ptr<DataIter> make_libsvm_iter(const Json &params);  // csr data batches

// Parameter helpers shared by the iterators (data_iter.cc).
struct IterParams {
  std::string iter;
  const Json &p;
  std::vector<std::string> known;
  IterParams(std::string it, const Json &params) : iter(std::move(it)), p(params) {}
  bool has(const std::string &k);
  std::string str(const std::string &k, const std::string &def, bool required = false);
  int64_t integer(const std::string &k, int64_t def, bool required = false);
  double number(const std::string &k, double def);
  bool boolean(const std::string &k, bool def);
  std::vector<int64_t> shape(const std::string &k, std::vector<int64_t> def, bool required = false);
  void check_unknown();  // MX_ERR_INVALID_ARGUMENT naming the first unknown key
};

}  // namespace io
}  // namespace mx
