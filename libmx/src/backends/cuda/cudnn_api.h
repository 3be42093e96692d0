// The part of cuDNN 9's C API that libmx uses (legacy descriptor API: tensor, filter,
// convolution and pooling descriptors, convolution forward/backward, pooling, batch
// normalization, RNN), declared here so that libmx neither includes nor links cuDNN: the library
// (~700 MB of wheels) is opened with dlopen on the first GPU convolution, pooling or BatchNorm,
// and CPU-only users never need it. Every prototype and enum value below was checked against
// cuDNN 9.28's include/cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h and cudnn_adv.h; `tools/check_api_decls.py cudnn`
// re-checks them against the headers of an installed or downloaded nvidia-cudnn-cu13 wheel.
// No CUDA header is needed: handles, descriptors and streams are opaque pointers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mx {
namespace cudnn {

using Status = int;               // cudnnStatus_t
using Handle = void *;            // cudnnHandle_t
using TensorDesc = void *;        // cudnnTensorDescriptor_t
using FilterDesc = void *;        // cudnnFilterDescriptor_t
using ConvDesc = void *;          // cudnnConvolutionDescriptor_t
using PoolDesc = void *;          // cudnnPoolingDescriptor_t
using Stream = void *;            // cudaStream_t
using DropoutDesc = void *;       // cudnnDropoutDescriptor_t
using RNNDesc = void *;           // cudnnRNNDescriptor_t
using RNNDataDesc = void *;       // cudnnRNNDataDescriptor_t

// cudnnStatus_t
constexpr Status kSuccess = 0;
constexpr Status kNotSupported = 3000;                    // CUDNN_STATUS_NOT_SUPPORTED
constexpr Status kHostAllocFailed = 4003, kDeviceAllocFailed = 4004;  // CUDNN_STATUS_INTERNAL_ERROR_*_ALLOCATION_FAILED
// cudnnDataType_t
constexpr int kFloat = 0, kDouble = 1, kHalf = 2, kBfloat16 = 9;
// cudnnTensorFormat_t
constexpr int kNCHW = 0;
// cudnnMathType_t
constexpr int kDefaultMath = 0, kTensorOpMath = 1, kTensorOpMathAllowConversion = 2, kFmaMath = 3;
// cudnnNanPropagation_t
constexpr int kNotPropagateNan = 0;
// cudnnConvolutionMode_t
constexpr int kCrossCorrelation = 1;
// cudnnPoolingMode_t
constexpr int kPoolMax = 0, kPoolAvgIncludePad = 1, kPoolAvgExcludePad = 2, kPoolMaxDeterministic = 3;
// cudnnBatchNormMode_t
constexpr int kBatchNormSpatial = 1;

// RNN (cudnn_adv.h): cudnnRNNAlgo_t, cudnnRNNMode_t, cudnnRNNBiasMode_t, cudnnDirectionMode_t,
// cudnnRNNInputMode_t, cudnnRNNDataLayout_t, cudnnForwardMode_t, cudnnWgradMode_t, auxFlags
constexpr int kRNNAlgoStandard = 0;
constexpr int kRNNRelu = 0, kRNNTanh = 1, kLSTM = 2, kGRU = 3;
constexpr int kRNNDoubleBias = 2;
constexpr int kUnidirectional = 0, kBidirectional = 1;
constexpr int kLinearInput = 0;
constexpr int kRNNDataSeqMajorPacked = 1;
constexpr int kFwdModeInference = 0, kFwdModeTraining = 1;
constexpr int kWgradModeAdd = 0;
constexpr int kRNNPaddedIODisabled = 0;

// cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t share this layout (the algo enum is an int).
struct AlgoPerf {
  int algo;
  Status status;
  float time;
  size_t memory;
  int determinism;  // cudnnDeterminism_t
  int mathType;     // cudnnMathType_t
  int reserved[3];
};

// The entry points, resolved by name from libcudnn.so.9 (which forwards to libcudnn_ops /
// libcudnn_cnn beside it).
struct Api {
  size_t (*GetVersion)(void);
  const char *(*GetErrorString)(Status);
  Status (*Create)(Handle *);
  Status (*SetStream)(Handle, Stream);
  Status (*CreateTensorDescriptor)(TensorDesc *);
  Status (*SetTensorNdDescriptor)(TensorDesc, int dataType, int nbDims, const int dimA[], const int strideA[]);
  Status (*DestroyTensorDescriptor)(TensorDesc);
  Status (*CreateFilterDescriptor)(FilterDesc *);
  Status (*SetFilterNdDescriptor)(FilterDesc, int dataType, int format, int nbDims, const int filterDimA[]);
  Status (*DestroyFilterDescriptor)(FilterDesc);
  Status (*CreateConvolutionDescriptor)(ConvDesc *);
  Status (*SetConvolutionNdDescriptor)(ConvDesc, int arrayLength, const int padA[], const int filterStrideA[],
                                       const int dilationA[], int mode, int computeType);
  Status (*SetConvolutionGroupCount)(ConvDesc, int groupCount);
  Status (*SetConvolutionMathType)(ConvDesc, int mathType);
  Status (*DestroyConvolutionDescriptor)(ConvDesc);
  Status (*GetConvolutionForwardAlgorithm_v7)(Handle, const TensorDesc xDesc, const FilterDesc wDesc,
                                              const ConvDesc convDesc, const TensorDesc yDesc,
                                              const int requestedAlgoCount, int *returnedAlgoCount, AlgoPerf *);
  Status (*GetConvolutionBackwardDataAlgorithm_v7)(Handle, const FilterDesc wDesc, const TensorDesc dyDesc,
                                                   const ConvDesc convDesc, const TensorDesc dxDesc,
                                                   const int requestedAlgoCount, int *returnedAlgoCount, AlgoPerf *);
  Status (*GetConvolutionBackwardFilterAlgorithm_v7)(Handle, const TensorDesc srcDesc, const TensorDesc diffDesc,
                                                     const ConvDesc convDesc, const FilterDesc gradDesc,
                                                     const int requestedAlgoCount, int *returnedAlgoCount,
                                                     AlgoPerf *);
  Status (*FindConvolutionForwardAlgorithm)(Handle, const TensorDesc xDesc, const FilterDesc wDesc,
                                            const ConvDesc convDesc, const TensorDesc yDesc,
                                            const int requestedAlgoCount, int *returnedAlgoCount, AlgoPerf *);
  Status (*FindConvolutionBackwardDataAlgorithm)(Handle, const FilterDesc wDesc, const TensorDesc dyDesc,
                                                 const ConvDesc convDesc, const TensorDesc dxDesc,
                                                 const int requestedAlgoCount, int *returnedAlgoCount, AlgoPerf *);
  Status (*FindConvolutionBackwardFilterAlgorithm)(Handle, const TensorDesc xDesc, const TensorDesc dyDesc,
                                                   const ConvDesc convDesc, const FilterDesc dwDesc,
                                                   const int requestedAlgoCount, int *returnedAlgoCount, AlgoPerf *);
  Status (*GetConvolutionForwardWorkspaceSize)(Handle, const TensorDesc xDesc, const FilterDesc wDesc,
                                               const ConvDesc convDesc, const TensorDesc yDesc, int algo,
                                               size_t *sizeInBytes);
  Status (*GetConvolutionBackwardDataWorkspaceSize)(Handle, const FilterDesc wDesc, const TensorDesc dyDesc,
                                                    const ConvDesc convDesc, const TensorDesc dxDesc, int algo,
                                                    size_t *sizeInBytes);
  Status (*GetConvolutionBackwardFilterWorkspaceSize)(Handle, const TensorDesc xDesc, const TensorDesc dyDesc,
                                                      const ConvDesc convDesc, const FilterDesc gradDesc, int algo,
                                                      size_t *sizeInBytes);
  Status (*ConvolutionForward)(Handle, const void *alpha, const TensorDesc xDesc, const void *x,
                               const FilterDesc wDesc, const void *w, const ConvDesc convDesc, int algo,
                               void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
                               const TensorDesc yDesc, void *y);
  Status (*ConvolutionBackwardData)(Handle, const void *alpha, const FilterDesc wDesc, const void *w,
                                    const TensorDesc dyDesc, const void *dy, const ConvDesc convDesc, int algo,
                                    void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
                                    const TensorDesc dxDesc, void *dx);
  Status (*ConvolutionBackwardFilter)(Handle, const void *alpha, const TensorDesc xDesc, const void *x,
                                      const TensorDesc dyDesc, const void *dy, const ConvDesc convDesc, int algo,
                                      void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
                                      const FilterDesc dwDesc, void *dw);
  Status (*ConvolutionBackwardBias)(Handle, const void *alpha, const TensorDesc dyDesc, const void *dy,
                                    const void *beta, const TensorDesc dbDesc, void *db);
  Status (*AddTensor)(Handle, const void *alpha, const TensorDesc aDesc, const void *A, const void *beta,
                      const TensorDesc cDesc, void *C);
  Status (*CreatePoolingDescriptor)(PoolDesc *);
  Status (*SetPoolingNdDescriptor)(PoolDesc, const int mode, const int maxpoolingNanOpt, int nbDims,
                                   const int windowDimA[], const int paddingA[], const int strideA[]);
  Status (*DestroyPoolingDescriptor)(PoolDesc);
  Status (*PoolingForward)(Handle, const PoolDesc, const void *alpha, const TensorDesc xDesc, const void *x,
                           const void *beta, const TensorDesc yDesc, void *y);
  Status (*PoolingBackward)(Handle, const PoolDesc, const void *alpha, const TensorDesc yDesc, const void *y,
                            const TensorDesc dyDesc, const void *dy, const TensorDesc xDesc, const void *x,
                            const void *beta, const TensorDesc dxDesc, void *dx);
  Status (*BatchNormalizationForwardTraining)(Handle, int mode, const void *alpha, const void *beta,
                                              const TensorDesc xDesc, const void *x, const TensorDesc yDesc, void *y,
                                              const TensorDesc bnScaleBiasMeanVarDesc, const void *bnScale,
                                              const void *bnBias, double exponentialAverageFactor,
                                              void *resultRunningMean, void *resultRunningVariance, double epsilon,
                                              void *resultSaveMean, void *resultSaveInvVariance);
  Status (*BatchNormalizationForwardInference)(Handle, int mode, const void *alpha, const void *beta,
                                               const TensorDesc xDesc, const void *x, const TensorDesc yDesc, void *y,
                                               const TensorDesc bnScaleBiasMeanVarDesc, const void *bnScale,
                                               const void *bnBias, const void *estimatedMean,
                                               const void *estimatedVariance, double epsilon);
  Status (*BatchNormalizationBackward)(Handle, int mode, const void *alphaDataDiff, const void *betaDataDiff,
                                       const void *alphaParamDiff, const void *betaParamDiff, const TensorDesc xDesc,
                                       const void *x, const TensorDesc dyDesc, const void *dy,
                                       const TensorDesc dxDesc, void *dx, const TensorDesc dBnScaleBiasDesc,
                                       const void *bnScale, void *dBnScaleResult, void *dBnBiasResult,
                                       double epsilon, const void *savedMean, const void *savedInvVariance);
  // RNN (cudnn_adv.h, libcudnn_adv.so.9 behind the shim; used by cudnn_rnn.cc)
  Status (*GetTensorNdDescriptor)(const TensorDesc tensorDesc, int nbDimsRequested, int *dataType, int *nbDims,
                                  int dimA[], int strideA[]);
  Status (*CreateDropoutDescriptor)(DropoutDesc *);
  Status (*DestroyDropoutDescriptor)(DropoutDesc);
  Status (*SetDropoutDescriptor)(DropoutDesc, Handle, float dropout, void *states, size_t stateSizeInBytes,
                                 unsigned long long seed);
  Status (*CreateRNNDescriptor)(RNNDesc *);
  Status (*DestroyRNNDescriptor)(RNNDesc);
  Status (*SetRNNDescriptor_v8)(RNNDesc, int algo, int cellMode, int biasMode, int dirMode, int inputMode,
                                int dataType, int mathPrec, int mathType, int32_t inputSize, int32_t hiddenSize,
                                int32_t projSize, int32_t numLayers, DropoutDesc dropoutDesc, uint32_t auxFlags);
  Status (*CreateRNNDataDescriptor)(RNNDataDesc *);
  Status (*DestroyRNNDataDescriptor)(RNNDataDesc);
  Status (*SetRNNDataDescriptor)(RNNDataDesc, int dataType, int layout, int maxSeqLength, int batchSize,
                                 int vectorSize, const int seqLengthArray[], void *paddingFill);
  Status (*GetRNNWeightSpaceSize)(Handle, RNNDesc, size_t *weightSpaceSize);
  Status (*GetRNNWeightParams)(Handle, RNNDesc, int32_t pseudoLayer, size_t weightSpaceSize, const void *weightSpace,
                               int32_t linLayerID, TensorDesc mDesc, void **mAddr, TensorDesc bDesc, void **bAddr);
  Status (*GetRNNTempSpaceSizes)(Handle, RNNDesc, int fwdMode, RNNDataDesc xDesc, size_t *workSpaceSize,
                                 size_t *reserveSpaceSize);
  Status (*RNNForward)(Handle, RNNDesc, int fwdMode, const int32_t devSeqLengths[], RNNDataDesc xDesc, const void *x,
                       RNNDataDesc yDesc, void *y, TensorDesc hDesc, const void *hx, void *hy, TensorDesc cDesc,
                       const void *cx, void *cy, size_t weightSpaceSize, const void *weightSpace,
                       size_t workSpaceSize, void *workSpace, size_t reserveSpaceSize, void *reserveSpace);
  Status (*RNNBackwardData_v8)(Handle, RNNDesc, const int32_t devSeqLengths[], RNNDataDesc yDesc, const void *y,
                               const void *dy, RNNDataDesc xDesc, void *dx, TensorDesc hDesc, const void *hx,
                               const void *dhy, void *dhx, TensorDesc cDesc, const void *cx, const void *dcy,
                               void *dcx, size_t weightSpaceSize, const void *weightSpace, size_t workSpaceSize,
                               void *workSpace, size_t reserveSpaceSize, void *reserveSpace);
  Status (*RNNBackwardWeights_v8)(Handle, RNNDesc, int addGrad, const int32_t devSeqLengths[], RNNDataDesc xDesc,
                                  const void *x, TensorDesc hDesc, const void *hx, RNNDataDesc yDesc, const void *y,
                                  size_t weightSpaceSize, void *dweightSpace, size_t workSpaceSize, void *workSpace,
                                  size_t reserveSpaceSize, void *reserveSpace);
};

// The library, loaded once. error is empty when every entry point was found; else it names the
// library, what was tried and how to point MX at it (MX_CUDNN_LIBRARY).
struct Library {
  Api api{};
  std::string path;   // the file that was opened
  std::string error;
};
const Library &library();

// Where libcudnn.so.9 is looked for, in order: $MX_CUDNN_LIBRARY, the loader's search path
// (LD_LIBRARY_PATH, ldconfig), then site-packages/nvidia/cudnn/lib beside an installed mx
// (pip install nvidia-cudnn-cu13 puts it there).
std::vector<std::string> library_candidates();

}  // namespace cudnn
}  // namespace mx
