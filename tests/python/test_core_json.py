"""The core's JSON reading (nlohmann/json behind libmx/src/base/json.h), through the ABI: what the
front ends write is read back (including the non-finite literals of Python's and Julia's writers
and R's 1e999), and malformed documents give a format error that says where and why."""
import json
import math

import pytest

import mx
from mx import base
from mx.base import c_str, check_call, ffi, lib


def _roundtrip(hparams_text):
    """Hyperparameters in, the optimizer's own JSON out (the core parses, then writes)."""
    h = ffi.new("mx_optimizer_t *")
    check_call(lib.mx_optimizer_new(c_str("sgd"), c_str(hparams_text), h))
    try:
        out = ffi.new("const char **")
        check_call(lib.mx_optimizer_json(h[0], out))
        return json.loads(ffi.string(out[0]).decode())
    finally:
        lib.mx_optimizer_free(h[0])


def test_values_round_trip_with_order_unicode_and_escapes():
    cfg = _roundtrip('{"learning_rate": 0.25, "momentum": 5e-1, "wd": 0, "param_idx2name": '
                     '{"1": "b\\u00e9ta\\"\\\\", "0": "w\\ud83d\\ude00"}}')
    hp = cfg["hparams"]
    assert hp["learning_rate"] == 0.25 and hp["momentum"] == 0.5 and hp["wd"] == 0
    assert cfg["idx2name"] == {"1": 'b\u00e9ta"\\', "0": "w\U0001F600"} or \
        hp.get("param_idx2name") == {"1": 'b\u00e9ta"\\', "0": "w\U0001F600"}


@pytest.mark.parametrize("literal, shown", [
    ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "Infinity"), ("-1e999", "-Infinity"),
    ("NaN", "NaN")])
def test_non_finite_literals_of_the_front_end_writers_are_read(literal, shown):
    # read as the non-finite number (which the optimizer then refuses by name), not a JSON error
    with pytest.raises(base.MXValueError) as info:
        _roundtrip('{"learning_rate": 0.1, "clip_gradient": %s}' % literal)
    assert "'clip_gradient' must be finite, got %s" % shown in str(info.value)


def test_non_finite_words_inside_strings_stay_strings():
    cfg = _roundtrip('{"learning_rate": 0.5, "param_idx2name": {"0": "NaN", "1": "-Infinity 1e999"}}')
    assert sorted(cfg["idx2name"].values()) == ["-Infinity 1e999", "NaN"]


@pytest.mark.parametrize("text, where", [
    ('{"learning_rate": 0.1,', "line 1, column 23"),
    ('{"learning_rate" 0.1}', "line 1, column 20"),
    ('{"a": [1, 2}', "line 1, column 12"),
    ('{"a": 1} trailing', "line 1, column 12"),
    ('{\n  "a": tru\n}', "line 3, column 0"),
])
def test_malformed_json_says_where_and_why(text, where):
    with pytest.raises(base.MXValueError) as info:
        _roundtrip(text)
    msg = str(info.value)
    assert "JSON parse error at %s: syntax error" % where in msg
    assert "json.exception" not in msg


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(base.MXValueError) as info:
        _roundtrip("[" * 100000 + "]" * 100000)
    assert "nesting deeper than 512" in str(info.value)


def test_symbol_file_parse_error_names_the_position():
    with pytest.raises(base.MXFormatError) as info:
        mx.sym.load_json('{"nodes": [}')
    assert "line 1, column 12" in str(info.value)
