"""theon.tensor.nnet.conv — ``conv2d`` with Theano's semantics.

NCHW inputs, (out_channels, in_channels / num_groups, rows, cols) filters;
``filter_flip=True`` (the default) is a true convolution. ``border_mode`` is
'valid', 'full', 'half', an int or a pair of ints. Static shapes from the
variables' types and from ``input_shape`` / ``filter_shape`` are checked when
the graph is built.
"""
from theon import _core

__all__ = ["conv2d"]


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip=True, image_shape=None, filter_dilation=(1, 1),
           num_groups=1, unshared=False, **kwargs):
    """2-D convolution of a 4-D input batch with a 4-D filter bank (one op)."""
    if kwargs:
        raise TypeError("conv2d() got unexpected keyword arguments: %s" % ", ".join(sorted(kwargs)))
    if unshared:
        raise ValueError("[conv2d] unshared convolution is not supported")
    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("[conv2d] give input_shape or its deprecated alias image_shape, not both")
        input_shape = image_shape
    return _core.conv2d(input, filters, input_shape=input_shape, filter_shape=filter_shape,
                        border_mode=border_mode, subsample=subsample, filter_flip=filter_flip,
                        filter_dilation=filter_dilation, num_groups=num_groups)
