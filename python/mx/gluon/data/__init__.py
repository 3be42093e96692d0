"""mx.gluon.data: datasets, samplers and the DataLoader (MXNet 1.x ``gluon.data``)."""
from .dataset import Dataset, SimpleDataset, ArrayDataset, RecordFileDataset  # noqa: F401
from .sampler import (Sampler, SequentialSampler, RandomSampler, FilterSampler, BatchSampler,  # noqa: F401
                      IntervalSampler, DistributedSampler)
from .dataloader import DataLoader, default_batchify_fn, default_mp_batchify_fn  # noqa: F401
from . import dataset, sampler, dataloader  # noqa: F401
from . import vision  # noqa: F401
