"""mx.nd.sparse: sparse storage (CSR, row_sparse) is not part of MX yet (a separate issue);
the module imports so that programs load, and each name raises MXNotSupportedError."""
import sys

from .. import _unsupported

sys.modules[__name__] = _unsupported.UnsupportedModule(
    __name__, "sparse NDArrays (csr, row_sparse) are not supported by MX yet; use dense NDArrays")
