// cuDNN is opened at run time (backends/cuda/cudnn_loader.cc): where it is missing, the error
// names the library, what was tried and how to point MX at it. Built without CUDA or cuDNN;
// MX_CUDNN_LIBRARY points at a file that does not exist, so the result does not depend on
// whether this machine has cuDNN installed elsewhere... except through the loader's search path,
// which the test then reports instead of failing.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends/cuda/cudnn_api.h"

static int g_fail = 0;
#define EXPECT(cond)                                                          \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      ++g_fail;                                                               \
    }                                                                         \
  } while (0)

int main() {
  const char *bogus = "/nonexistent/mx-test/libcudnn.so.9";
  setenv("MX_CUDNN_LIBRARY", bogus, 1);
  std::vector<std::string> c = mx::cudnn::library_candidates();
  EXPECT(c.size() >= 2);
  EXPECT(!c.empty() && c[0] == bogus);                  // the override is tried first
  EXPECT(c.size() >= 2 && c[1] == "libcudnn.so.9");     // then the loader's search path
  bool beside = false;                                  // then the pip wheel beside libmx
  for (const std::string &p : c) beside = beside || p.find("nvidia/cudnn/lib/libcudnn.so.9") != std::string::npos;
  EXPECT(beside);

  const mx::cudnn::Library &lib = mx::cudnn::library();
  if (lib.error.empty()) {
    std::printf("test_cudnn_loader: cuDNN found at %s (version %zu): missing-library message not checked\n",
                lib.path.c_str(), lib.api.GetVersion());
    EXPECT(lib.api.GetVersion() / 10000 == 9);
  } else {
    const std::string &e = lib.error;
    std::printf("test_cudnn_loader: %s\n", e.c_str());
    EXPECT(e.find("libcudnn.so.9") != std::string::npos);
    EXPECT(e.find(bogus) != std::string::npos);              // what was tried
    EXPECT(e.find("MX_CUDNN_LIBRARY") != std::string::npos);  // how to point at it
    EXPECT(e.find("nvidia-cudnn-cu13") != std::string::npos); // how to install it
    EXPECT(lib.api.Create == nullptr);
  }
  if (g_fail) std::fprintf(stderr, "test_cudnn_loader: %d failure(s)\n", g_fail);
  return g_fail ? 1 : 0;
}
