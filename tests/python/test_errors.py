"""Error mapping: each core status becomes the matching Python exception (python/mx/base.py), and
the messages name the function or op, the parameter and the offending value."""
import os

import numpy as np
import pytest

import mx
from mx import base
from mx.ndarray import _internal_ops


def ones(shape, dtype=np.float32):
    """Through mx.nd.array only, so these tests need no creation op."""
    return mx.nd.array(np.ones(shape, dtype=dtype), dtype=dtype)


# ------------------------------------------------------------------ the mapping table itself
@pytest.mark.parametrize("status, cls, builtin", [
    (-1, base.MXValueError, ValueError),
    (-2, base.MXShapeError, ValueError),
    (-3, base.MXTypeError, TypeError),
    (-4, base.MXNotSupportedError, NotImplementedError),
    (-5, base.MXMemoryError, MemoryError),
    (-6, base.MXIOError, OSError),
    (-7, base.MXFormatError, ValueError),
    (-8, base.MXInternalError, base.MXError),
])
def test_status_maps_to_exception(status, cls, builtin):
    with pytest.raises(cls) as info:
        base.check_call(status)
    assert isinstance(info.value, builtin)
    assert isinstance(info.value, mx.MXError)
    assert isinstance(info.value, mx.MXNetError)


def test_unknown_status_is_mxerror():
    with pytest.raises(mx.MXError):
        base.check_call(-99)
    base.check_call(0)  # ok is silent


def test_mxneterror_alias():
    assert mx.MXNetError is mx.MXError


# ------------------------------------------------------------------ real errors from the core
def test_unknown_op_is_value_error():
    with pytest.raises(ValueError) as info:
        _internal_ops.op_handle("no_such_op_xyz")
    assert isinstance(info.value, base.MXValueError)
    assert "no_such_op_xyz" in str(info.value)
    assert "mx_op_find" in str(info.value)


def test_unknown_parameter_is_value_error():
    a = ones((2, 3))
    with pytest.raises(base.MXValueError) as info:
        mx.nd.broadcast_to(a, shape=(4, 2, 3), no_such_param=1)
    assert "no_such_param" in str(info.value)
    assert "broadcast_to" in str(info.value)


def test_bad_parameter_value_is_value_error():
    a = ones((2, 3))
    with pytest.raises(base.MXValueError) as info:
        mx.nd.broadcast_to(a, shape="(2,banana)")
    msg = str(info.value)
    assert "shape" in msg and "banana" in msg


def test_wrong_input_count_is_value_error():
    a = ones((2, 3))
    with pytest.raises(base.MXValueError) as info:
        mx.nd.elemwise_add(a)
    assert "elemwise_add" in str(info.value)


def test_shape_mismatch_is_shape_error():
    a, b = ones((2, 3)), ones((3, 2))
    with pytest.raises(base.MXShapeError) as info:
        mx.nd.elemwise_add(a, b)
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert "elemwise_add" in msg and "(2, 3)" in msg and "(3, 2)" in msg


def test_broadcast_mismatch_is_shape_error():
    with pytest.raises(base.MXShapeError) as info:
        mx.nd.broadcast_add(ones((2, 3)), ones((4,)))
    assert "broadcast_add" in str(info.value)


def test_out_of_wrong_shape_is_shape_error():
    a = ones((2, 3))
    out = mx.nd.empty((3, 2))
    with pytest.raises(base.MXShapeError):
        mx.nd.elemwise_add(a, a, out=out)


def test_dtype_mismatch_is_type_error():
    a = ones((2, 3), dtype=np.float32)
    b = ones((2, 3), dtype=np.float64)
    with pytest.raises(TypeError) as info:
        mx.nd.elemwise_add(a, b)
    assert isinstance(info.value, base.MXTypeError)
    assert "elemwise_add" in str(info.value)


def test_unsupported_dtype_is_type_error():
    with pytest.raises(TypeError) as info:
        mx.nd.array([1, 2], dtype=np.complex64)
    assert "complex64" in str(info.value)


def test_positional_parameter_is_type_error():
    with pytest.raises(TypeError) as info:
        mx.nd.elemwise_add(ones((2,)), 3)
    assert "elemwise_add" in str(info.value)


def test_negative_dimension_is_shape_error():
    with pytest.raises(base.MXShapeError) as info:
        mx.nd.empty((2, -3))
    assert "-3" in str(info.value)


def test_huge_array_is_memory_error():
    # Fits in 64 bits but not in memory: MemoryError, before anything is allocated.
    with pytest.raises(MemoryError) as info:
        mx.nd.empty((1 << 40,))
    assert isinstance(info.value, base.MXMemoryError)
    assert "out of memory" in str(info.value) and "(1099511627776,)" in str(info.value)
    # An element count beyond 64 bits is an impossible shape: ValueError, as numpy's
    # "array is too big" (issue 15: it used to wrap around to a small allocation).
    with pytest.raises(ValueError) as info:
        mx.nd.empty((1 << 30, 1 << 30, 1 << 30))
    assert isinstance(info.value, base.MXShapeError)
    assert "too large" in str(info.value)
    with pytest.raises(ValueError):
        np.empty((1 << 30, 1 << 30, 1 << 30))


def test_copy_size_mismatch_is_shape_error():
    a = ones((2, 3))
    buf = np.empty(5, dtype=np.float32)
    with pytest.raises(base.MXShapeError) as info:
        base.check_call(base.lib.mx_ndarray_copy_to(a.handle, base.ffi.from_buffer(buf), buf.nbytes))
    assert "mx_ndarray_copy_to" in str(info.value) and "20" in str(info.value)


def test_null_handle_is_value_error():
    with pytest.raises(base.MXValueError) as info:
        base.check_call(base.lib.mx_ndarray_size(base.ffi.NULL, base.ffi.new("int64_t *")))
    assert "mx_ndarray_size" in str(info.value) and "NULL" in str(info.value)


def test_gpu_is_not_supported_error():
    if mx.context.num_gpus() > 0:
        pytest.skip("a GPU is present")
    with pytest.raises(NotImplementedError) as info:
        mx.gpu(0)
    assert isinstance(info.value, base.MXNotSupportedError)
    assert "gpu" in str(info.value).lower()
    # The core says the same when asked directly for a GPU array.
    with pytest.raises(base.MXNotSupportedError):
        a = mx.nd.empty((2,), ctx=mx.Context("gpu", 0))
        a.asnumpy()



def test_missing_file_is_os_error(tmp_path):
    path = str(tmp_path / "does_not_exist.params")
    with pytest.raises(OSError) as info:
        mx.nd.load(path)
    assert isinstance(info.value, base.MXIOError)
    assert "does_not_exist.params" in str(info.value)


def test_corrupt_file_is_format_error(tmp_path):
    path = tmp_path / "corrupt.params"
    path.write_bytes(os.urandom(7) + b"\x00" * 9)
    with pytest.raises(base.MXFormatError) as info:
        mx.nd.load(str(path))
    assert isinstance(info.value, ValueError)
    assert str(info.value)


# ------------------------------------------------------------------ the message is per call
def test_message_belongs_to_the_latest_error():
    with pytest.raises(base.MXValueError) as first:
        _internal_ops.op_handle("first_bad_op")
    with pytest.raises(base.MXShapeError) as second:
        mx.nd.empty((-1,))
    assert "first_bad_op" in str(first.value)
    assert "first_bad_op" not in str(second.value)
    # a success in between leaves the library usable
    assert (ones((2,)) + 1).asnumpy().tolist() == [2.0, 2.0]


def test_errors_in_threads_keep_their_own_message():
    import threading
    results = {}

    def worker(name):
        for _ in range(200):
            try:
                _internal_ops.op_handle(name)
            except base.MXValueError as e:
                if name not in str(e):
                    results[name] = "saw: %s" % e
                    return
        results[name] = "ok"

    threads = [threading.Thread(target=worker, args=("thread_op_%d" % i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(v == "ok" for v in results.values()), results
    assert len(results) == 4


# ------------------------------------------------------------------ messages in the user's terms
def test_core_message_starts_with_the_op_and_ends_with_the_c_function():
    with pytest.raises(base.MXShapeError) as info:
        mx.nd.broadcast_add(ones((2, 3)), ones((4, 5)))
    msg = str(info.value)
    assert msg.startswith("broadcast_add: ")
    assert "(2, 3)" in msg and "(4, 5)" in msg
    assert msg.endswith("]") and "[mx_op_invoke" in msg   # the C entry point last, for bug reports


def test_fully_connected_talks_about_the_input_width():
    with pytest.raises(base.MXShapeError) as info:
        mx.nd.FullyConnected(ones((4, 30)), ones((10, 20)), ones((10,)), num_hidden=10)
    msg = str(info.value)
    assert msg.startswith("FullyConnected: input has 30 features")
    assert "takes 20" in msg


def test_dense_layer_names_itself_and_its_in_units():
    from mx import gluon
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(8, in_units=30), gluon.nn.Dense(10, in_units=8))
    net.initialize()
    net(ones((4, 30)))  # fits
    with pytest.raises(base.MXShapeError) as info:
        net[1](ones((4, 30)))
    assert str(info.value).startswith("%s: input has 30 features but in_units=8" % net[1].name)
    # the example of the issue, a layer on its own
    dense = gluon.nn.Dense(3, in_units=20)
    dense.initialize()
    with pytest.raises(base.MXShapeError) as info:
        dense(ones((4, 30)))
    assert str(info.value).startswith(dense.name + ": input has 30 features but in_units=20")
    # raised inside a container, the innermost layer is named, once
    bad = gluon.nn.Sequential()
    bad.add(gluon.nn.Dense(5, in_units=3))
    bad.initialize()
    with pytest.raises(ValueError) as info:
        bad(ones((2, 4)))
    msg = str(info.value)
    assert msg.startswith("%s: input has 4 features but in_units=3" % bad[0].name)
    assert msg.count(": input has") == 1 and bad.name not in msg


def test_hybridized_block_names_itself_for_core_errors():
    from mx import gluon
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(5, in_units=3))
    net.initialize()
    net.hybridize()
    with pytest.raises(base.MXShapeError) as info:
        net(ones((2, 4)))
    msg = str(info.value)
    assert msg.startswith(net[0].name + ": ")  # the layer, as without hybridize()
    assert "input has 4 features" in msg


def test_hybridized_nested_blocks_name_the_innermost_failing_layer():
    from mx import gluon
    outer = gluon.nn.HybridSequential()
    inner = gluon.nn.HybridSequential()
    inner.add(gluon.nn.Dense(8, in_units=30), gluon.nn.Dense(4, in_units=20))
    outer.add(gluon.nn.Dense(30, in_units=6), inner)
    outer.initialize()
    outer.hybridize()
    with pytest.raises(base.MXShapeError) as info:
        outer(ones((2, 6)))
    msg = str(info.value)
    assert msg.startswith(inner[1].name + ": "), msg
    assert "input has 8 features" in msg and msg.count(inner[1].name + ":") == 1


@pytest.mark.parametrize("loss, pred, label", [
    ("SoftmaxCrossEntropyLoss", (4, 3), (5,)),
    ("L2Loss", (4, 1), (5, 1)),
    ("SigmoidBinaryCrossEntropyLoss", (3, 2), (2, 2)),
])
def test_losses_compare_batch_sizes(loss, pred, label):
    from mx import gluon
    fn = getattr(gluon.loss, loss)()
    with pytest.raises(base.MXShapeError) as info:
        fn(ones(pred), ones(label))
    assert str(info.value).startswith("%s: pred has batch size %d but label has %d"
                                      % (loss, pred[0], label[0]))


def test_ctc_loss_compares_the_batch_axes_of_its_layouts():
    from mx import gluon
    fn = gluon.loss.CTCLoss(layout="TNC", label_layout="NT")
    with pytest.raises(base.MXShapeError) as info:
        fn(ones((6, 2, 4)), ones((3, 2)))   # pred batch 2 (axis 1), label batch 3 (axis 0)
    assert "pred has batch size 2 but label has 3" in str(info.value)
