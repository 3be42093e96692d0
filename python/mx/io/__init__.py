"""mx.io: the DataIter protocol and iterators."""
from .io import DataDesc, DataBatch, DataIter, NDArrayIter, ResizeIter, PrefetchingIter  # noqa: F401
from .core_iters import CoreDataIter, CSVIter, MNISTIter, ImageRecordIter, LibSVMIter  # noqa: F401,E402
