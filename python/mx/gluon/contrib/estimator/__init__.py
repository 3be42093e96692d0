"""gluon.contrib.estimator (MXNet 1.9): Estimator.fit/evaluate and the event handlers."""
from .batch_processor import BatchProcessor  # noqa: F401
from .estimator import Estimator  # noqa: F401
from .event_handler import (EventHandler, TrainBegin, TrainEnd, EpochBegin, EpochEnd,  # noqa: F401
                            BatchBegin, BatchEnd, StoppingHandler, MetricHandler,
                            ValidationHandler, LoggingHandler, CheckpointHandler,
                            EarlyStoppingHandler, GradientUpdateHandler, ProgressHandler)
