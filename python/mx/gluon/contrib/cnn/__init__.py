"""mx.gluon.contrib.cnn (MXNet 1.x): deformable convolution layers over the core's
``_contrib_DeformableConvolution`` / ``_contrib_ModulatedDeformableConvolution`` operators."""
from .deformable_conv import DeformableConvolution, ModulatedDeformableConvolution  # noqa: F401

__all__ = ["DeformableConvolution", "ModulatedDeformableConvolution"]
