// TEMPORARY: ABI functions not implemented yet. Each returns MX_ERR_UNSUPPORTED; delete an
// entry when its real implementation lands.
#include "api/api_util.h"

extern "C" {
}
