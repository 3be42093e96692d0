"""mx.nd.contrib.foreach / while_loop / cond in imperative mode, against numpy loops."""
import numpy as np
import pytest

import mx


def test_foreach_running_sum_and_gradient():
    xs = np.arange(12, dtype=np.float32).reshape(4, 3)
    data = mx.nd.array(xs)
    data.attach_grad()

    def body(x, states):
        s = states[0] + x
        return s * 2, [s]

    with mx.autograd.record():
        outs, states = mx.nd.contrib.foreach(body, data, [mx.nd.zeros((3,))])
        loss = outs.sum()
    loss.backward()
    np.testing.assert_allclose(outs.asnumpy(), 2 * np.cumsum(xs, axis=0))
    np.testing.assert_allclose(states[0].asnumpy(), xs.sum(axis=0))
    # d/dx_t of sum_t' 2 * cumsum_t' = 2 * (number of steps from t on)
    np.testing.assert_allclose(data.grad.asnumpy(), np.repeat(2.0 * np.arange(4, 0, -1), 3).reshape(4, 3))


def test_foreach_several_inputs_and_nested_outputs():
    a, b = mx.nd.array(np.ones((2, 2))), mx.nd.array(np.full((2, 2), 3.0))
    outs, st = mx.nd.contrib.foreach(lambda d, s: ((d[0] + d[1], [d[0] * s]), s + 1), [a, b], mx.nd.array([1.0]))
    np.testing.assert_allclose(outs[0].asnumpy(), np.full((2, 2), 4.0))
    np.testing.assert_allclose(outs[1][0].asnumpy(), np.array([[1.0, 1.0], [2.0, 2.0]]))
    assert st.asnumpy().tolist() == [3.0]


def test_while_loop_pads_outputs_to_max_iterations():
    def cond(i, acc):
        return i < 4

    def func(i, acc):
        return acc * i, (i + 1, acc * (i + 1))

    outs, (i, acc) = mx.nd.contrib.while_loop(cond, func, (mx.nd.array([1.0]), mx.nd.array([1.0])), max_iterations=6)
    assert i.asnumpy().tolist() == [4.0] and acc.asnumpy().tolist() == [24.0]
    # steps i=1,2,3 output acc*i = 1, 4, 18; three padded zero rows
    np.testing.assert_allclose(outs.asnumpy().ravel(), [1.0, 4.0, 18.0, 0.0, 0.0, 0.0])


def test_cond_picks_a_branch():
    x = mx.nd.array([2.0])
    assert mx.nd.contrib.cond(x > 1, lambda: x * 10, lambda: x - 1).asnumpy().tolist() == [20.0]
    assert mx.nd.contrib.cond(x > 5, lambda: x * 10, lambda: x - 1).asnumpy().tolist() == [1.0]


@pytest.mark.parametrize("call,error,fragment", [
    (lambda: mx.nd.contrib.while_loop(lambda v: v < 3, lambda v: (v, v + 1), mx.nd.array([0.0])), ValueError,
     "max_iterations"),
    (lambda: mx.nd.contrib.cond(mx.nd.ones((2,)), lambda: 1, lambda: 0), ValueError, "scalar"),
    (lambda: mx.nd.contrib.foreach(lambda d, s: (d, s), [mx.nd.ones((2, 1)), mx.nd.ones((3, 1))], []), ValueError,
     "first dimension"),
    (lambda: mx.nd.contrib.foreach(lambda d, s: (5, s), mx.nd.ones((2,)), []), TypeError, "body output"),
])
def test_misuse_is_a_clear_error(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def test_integer_index_is_recorded_by_autograd():
    d = mx.nd.array(np.arange(6.0).reshape(3, 2))
    d.attach_grad()
    with mx.autograd.record():
        y = d[1] * 3 + d[-1]
    y.backward()
    np.testing.assert_allclose(d.grad.asnumpy(), [[0, 0], [3, 3], [1, 1]])
    np.testing.assert_allclose(y.asnumpy(), 3 * np.array([2.0, 3.0]) + np.array([4.0, 5.0]))
