"""gluon.contrib.nn.SyncBatchNorm: MXNet's synchronised BatchNorm block. MX runs it on one device
per process (the core's _contrib_SyncBatchNorm requires num_devices=1); across processes, reduce
the statistics with a distributed kvstore instead."""
import warnings

from ...nn.basic_layers import BatchNorm, _first, _name


class SyncBatchNorm(BatchNorm):
    """Batch normalization over the whole mini-batch of ``num_devices`` devices (channel axis 1).

    Parameters
    ----------
    in_channels : int, default 0
        Number of channels; 0 infers it at the first forward.
    num_devices : int, optional
        Devices sharing the statistics. MX supports 1 (the default when no GPU is present);
        more raises an error naming the limit at the first forward.
    momentum, epsilon, center, scale, use_global_stats : optional
        As :class:`mx.gluon.nn.BatchNorm`.
    beta_initializer, gamma_initializer, running_mean_initializer, running_variance_initializer : optional
        Initializers (zeros, ones, zeros, ones).
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, in_channels=0, num_devices=None, momentum=0.9, epsilon=1e-5, center=True,
                 scale=True, use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones", **kwargs):
        super().__init__(axis=1, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                         use_global_stats=use_global_stats, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer,
                         running_mean_initializer=running_mean_initializer,
                         running_variance_initializer=running_variance_initializer,
                         in_channels=in_channels, **kwargs)
        if num_devices is None:
            num_devices = self._get_num_devices()
        self._kwargs = {"eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats, "ndev": num_devices, "key": self.prefix}

    def _get_num_devices(self):
        from .... import context
        warnings.warn("Caution using SyncBatchNorm: if not using all the GPUs, please manually set "
                      "num_devices", UserWarning)
        return max(context.num_gpus(), 1)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return _first(F.contrib.SyncBatchNorm(x, gamma, beta, running_mean, running_var,
                                              **self._kwargs, **_name(F, self)))

    def __repr__(self):
        return "SyncBatchNorm(%s, in_channels=%s)" % (
            ", ".join("%s=%s" % kv for kv in self._kwargs.items()), self.gamma.shape[0] or None)
