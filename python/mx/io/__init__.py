"""mx.io: the DataIter protocol and iterators."""
from .io import DataDesc, DataBatch, DataIter, NDArrayIter, ResizeIter, PrefetchingIter  # noqa: F401
