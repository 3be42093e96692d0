"""MXNet's module-level binary helpers (nd.maximum, nd.power, sym.hypot, ...): an array (or
symbol) with an array uses the broadcasting op, with a number the *_scalar op, and two numbers
give the Python result, as MXNet's _ufunc_helper does."""
import numbers
import operator
import math

# name: (array op, scalar op, reversed scalar op or None when commutative, number function)
TABLE = {
    "add": ("broadcast_add", "_plus_scalar", None, operator.add),
    "subtract": ("broadcast_sub", "_minus_scalar", "_rminus_scalar", operator.sub),
    "multiply": ("broadcast_mul", "_mul_scalar", None, operator.mul),
    "divide": ("broadcast_div", "_div_scalar", "_rdiv_scalar", operator.truediv),
    "true_divide": ("broadcast_div", "_div_scalar", "_rdiv_scalar", operator.truediv),
    "modulo": ("broadcast_mod", "_mod_scalar", "_rmod_scalar", operator.mod),
    "power": ("broadcast_power", "_power_scalar", "_rpower_scalar", operator.pow),
    "maximum": ("broadcast_maximum", "_maximum_scalar", None, max),
    "minimum": ("broadcast_minimum", "_minimum_scalar", None, min),
    "hypot": ("broadcast_hypot", "_hypot_scalar", None, math.hypot),
    "equal": ("broadcast_equal", "_equal_scalar", None, lambda a, b: float(a == b)),
    "not_equal": ("broadcast_not_equal", "_not_equal_scalar", None, lambda a, b: float(a != b)),
    "greater": ("broadcast_greater", "_greater_scalar", "_lesser_scalar", lambda a, b: float(a > b)),
    "greater_equal": ("broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar",
                      lambda a, b: float(a >= b)),
    "lesser": ("broadcast_lesser", "_lesser_scalar", "_greater_scalar", lambda a, b: float(a < b)),
    "lesser_equal": ("broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar",
                     lambda a, b: float(a <= b)),
    "logical_and": ("broadcast_logical_and", "_logical_and_scalar", None, lambda a, b: float(bool(a) and bool(b))),
    "logical_or": ("broadcast_logical_or", "_logical_or_scalar", None, lambda a, b: float(bool(a) or bool(b))),
    "logical_xor": ("broadcast_logical_xor", "_logical_xor_scalar", None, lambda a, b: float(bool(a) != bool(b))),
}


def make(name, array_type, ops_module, internal_module):
    arr_op, scal_op, rscal_op, pyfn = TABLE[name]

    def helper(lhs, rhs, **kwargs):
        l_arr, r_arr = isinstance(lhs, array_type), isinstance(rhs, array_type)
        if l_arr and r_arr:
            return getattr(ops_module, arr_op)(lhs, rhs, **kwargs)
        if l_arr and isinstance(rhs, numbers.Number):
            return getattr(internal_module, scal_op)(lhs, scalar=rhs, **kwargs)
        if r_arr and isinstance(lhs, numbers.Number):
            return getattr(internal_module, rscal_op or scal_op)(rhs, scalar=lhs, **kwargs)
        if isinstance(lhs, numbers.Number) and isinstance(rhs, numbers.Number):
            return pyfn(lhs, rhs)
        raise TypeError("%s: expected arrays or numbers, got %s and %s" % (name, type(lhs).__name__,
                                                                           type(rhs).__name__))
    helper.__name__ = name
    kind = "Symbol" if array_type.__name__ == "Symbol" else "NDArray"
    helper.__doc__ = ("Elementwise %s of lhs and rhs, as MXNet's ``%s``: two arrays use ``%s`` (broadcasting),\n"
                      "an array and a number use ``%s``, two numbers give the Python result.\n\n"
                      "Parameters\n----------\nlhs : %s or number\n    Left operand.\n"
                      "rhs : %s or number\n    Right operand.\n\nReturns\n-------\n%s or number\n"
                      % (name, name, arr_op, scal_op, kind, kind, kind))
    return helper


def install(namespace, array_type, ops_module, internal_module):
    for name in TABLE:
        if name not in namespace or not callable(namespace[name]) or getattr(namespace[name], "__module__", "") == __name__:
            namespace[name] = make(name, array_type, ops_module, internal_module)
