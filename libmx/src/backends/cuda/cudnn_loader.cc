// Opens cuDNN 9 (libcudnn.so.9) with dlopen and resolves the entry points of cudnn_api.h. Needs
// neither CUDA nor cuDNN headers, so tests/c/test_cudnn_loader.cc builds it on any machine.
#include <dlfcn.h>

#include <cstdlib>

#include "backends/cuda/cudnn_api.h"

namespace mx {
namespace cudnn {

std::vector<std::string> library_candidates() {
  std::vector<std::string> c;
  if (const char *env = std::getenv("MX_CUDNN_LIBRARY"))
    if (*env) c.push_back(env);
  c.push_back("libcudnn.so.9");
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&library_candidates), &info) && info.dli_fname) {
    std::string self = info.dli_fname;  // .../site-packages/mx/libmx.so
    std::string dir = self.substr(0, self.find_last_of('/') + 1);
    c.push_back(dir + "../nvidia/cudnn/lib/libcudnn.so.9");
  }
  return c;
}

namespace {

template <typename F> bool resolve(void *h, const char *name, F *fn, std::string *missing) {
  *fn = reinterpret_cast<F>(dlsym(h, name));
  if (!*fn) *missing += (missing->empty() ? "" : ", ") + std::string(name);
  return *fn != nullptr;
}

Library load() {
  Library r;
  void *h = nullptr;
  std::string tried;
  for (const std::string &path : library_candidates()) {
    h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) {
      r.path = path;
      break;
    }
    const char *e = dlerror();
    tried += (tried.empty() ? "" : "; ") + std::string(e ? e : path);
  }
  if (!h) {
    r.error = "cuDNN 9 (libcudnn.so.9) could not be loaded (" + tried +
              "); install it with pip install nvidia-cudnn-cu13 (pyproject.toml's cuda-libs extra), put its "
              "lib directory on LD_LIBRARY_PATH, or set MX_CUDNN_LIBRARY to the path of libcudnn.so.9";
    return r;
  }
  Api &a = r.api;
  std::string missing;
#define MX_CUDNN_SYM(NAME) resolve(h, "cudnn" #NAME, &a.NAME, &missing)
  MX_CUDNN_SYM(GetVersion);
  MX_CUDNN_SYM(GetErrorString);
  MX_CUDNN_SYM(Create);
  MX_CUDNN_SYM(SetStream);
  MX_CUDNN_SYM(CreateTensorDescriptor);
  MX_CUDNN_SYM(SetTensorNdDescriptor);
  MX_CUDNN_SYM(DestroyTensorDescriptor);
  MX_CUDNN_SYM(CreateFilterDescriptor);
  MX_CUDNN_SYM(SetFilterNdDescriptor);
  MX_CUDNN_SYM(DestroyFilterDescriptor);
  MX_CUDNN_SYM(CreateConvolutionDescriptor);
  MX_CUDNN_SYM(SetConvolutionNdDescriptor);
  MX_CUDNN_SYM(SetConvolutionGroupCount);
  MX_CUDNN_SYM(SetConvolutionMathType);
  MX_CUDNN_SYM(DestroyConvolutionDescriptor);
  MX_CUDNN_SYM(GetConvolutionForwardAlgorithm_v7);
  MX_CUDNN_SYM(GetConvolutionBackwardDataAlgorithm_v7);
  MX_CUDNN_SYM(GetConvolutionBackwardFilterAlgorithm_v7);
  MX_CUDNN_SYM(FindConvolutionForwardAlgorithm);
  MX_CUDNN_SYM(FindConvolutionBackwardDataAlgorithm);
  MX_CUDNN_SYM(FindConvolutionBackwardFilterAlgorithm);
  MX_CUDNN_SYM(GetConvolutionForwardWorkspaceSize);
  MX_CUDNN_SYM(GetConvolutionBackwardDataWorkspaceSize);
  MX_CUDNN_SYM(GetConvolutionBackwardFilterWorkspaceSize);
  MX_CUDNN_SYM(ConvolutionForward);
  MX_CUDNN_SYM(ConvolutionBackwardData);
  MX_CUDNN_SYM(ConvolutionBackwardFilter);
  MX_CUDNN_SYM(ConvolutionBackwardBias);
  MX_CUDNN_SYM(AddTensor);
  MX_CUDNN_SYM(CreatePoolingDescriptor);
  MX_CUDNN_SYM(SetPoolingNdDescriptor);
  MX_CUDNN_SYM(DestroyPoolingDescriptor);
  MX_CUDNN_SYM(PoolingForward);
  MX_CUDNN_SYM(PoolingBackward);
  MX_CUDNN_SYM(BatchNormalizationForwardTraining);
  MX_CUDNN_SYM(BatchNormalizationForwardInference);
  MX_CUDNN_SYM(BatchNormalizationBackward);
  MX_CUDNN_SYM(GetTensorNdDescriptor);
  MX_CUDNN_SYM(CreateDropoutDescriptor);
  MX_CUDNN_SYM(DestroyDropoutDescriptor);
  MX_CUDNN_SYM(SetDropoutDescriptor);
  MX_CUDNN_SYM(CreateRNNDescriptor);
  MX_CUDNN_SYM(DestroyRNNDescriptor);
  MX_CUDNN_SYM(SetRNNDescriptor_v8);
  MX_CUDNN_SYM(CreateRNNDataDescriptor);
  MX_CUDNN_SYM(DestroyRNNDataDescriptor);
  MX_CUDNN_SYM(SetRNNDataDescriptor);
  MX_CUDNN_SYM(GetRNNWeightSpaceSize);
  MX_CUDNN_SYM(GetRNNWeightParams);
  MX_CUDNN_SYM(GetRNNTempSpaceSizes);
  MX_CUDNN_SYM(RNNForward);
  MX_CUDNN_SYM(RNNBackwardData_v8);
  MX_CUDNN_SYM(RNNBackwardWeights_v8);
#undef MX_CUDNN_SYM
  if (!missing.empty()) {
    r.error = r.path + " lacks " + missing + " (MX needs cuDNN 9 with its legacy API: libcudnn_ops.so.9 and "
              "libcudnn_cnn.so.9 beside it)";
  } else if (a.GetVersion() / 10000 != 9) {
    r.error = r.path + " is cuDNN " + std::to_string(a.GetVersion()) + ", MX needs cuDNN 9 (CUDA 13)";
  }
  return r;
}

}  // namespace

const Library &library() {
  static const Library lib = load();
  return lib;
}

}  // namespace cudnn
}  // namespace mx
