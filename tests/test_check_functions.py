"""dlfs.check.functions: the book's functions pass or are a named variant (its two errata are
caught as crashes), dlfs's own pass, and each buggy function in
tests/fixtures/check_layers/buggy_functions.py gets its diagnosis and line, in both languages."""

import json
import sys
from pathlib import Path

import check_fixtures
import numpy as np
import pytest
from check_fixtures import assert_bilingual, load_fixture

from dlfs import functions, gradient
from dlfs.check.functions import FUNCTION_NAMES, SPECS, check_function, reference_name

BOOK = load_fixture("check_layers", "book_functions")
BUGGY = load_fixture("check_layers", "buggy_functions")


def marked_line(module, function: str, code: str) -> int:
    return check_fixtures.marked_line(module, f"def {function}(", code)


# -- names --------------------------------------------------------------------------------------


def test_the_book_names_and_common_aliases_lead_to_their_reference():
    assert set(FUNCTION_NAMES.values()) == set(SPECS)
    for alias, reference in (("softmax", "softmax"), ("cross_entropy", "cross_entropy_error"),
                             ("crossentropyerror", "cross_entropy_error"),
                             ("sum_squares_error", "mean_squared_error"),  # Korean edition
                             ("mse", "mean_squared_error"), ("step", "step_function"),
                             ("numerical_gradient", "numerical_gradient"),
                             ("_numerical_gradient_no_batch", "numerical_gradient"),
                             ("numerical_diff", "numerical_diff"),
                             ("sigmoid_grad", "sigmoid_grad"), ("relu_grad", "relu_grad")):
        assert FUNCTION_NAMES[alias] == reference
        assert reference_name(alias.upper()) == reference
    assert all(name == name.lower() for name in FUNCTION_NAMES)


def test_an_unknown_reference_or_what_is_not_a_function_is_refused_in_one_line():
    with pytest.raises(ValueError, match="'leaky_relu' is not a function.*use one of") as error:
        check_function(BOOK.relu, "leaky_relu", "leaky_relu")
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="must be a function"):
        check_function(3.0, "softmax", "softmax")
    with pytest.raises(ValueError, match="must be a function"):  # a class no layer is named
        check_function(dict, "cross_entropy_error", "cross_entropy_error")


# -- dlfs's own and the book's ------------------------------------------------------------------


@pytest.mark.parametrize(("func", "reference"), [
    (functions.softmax, "softmax"), (functions.sigmoid, "sigmoid"), (functions.relu, "relu"),
    (functions.tanh, "tanh"), (functions.step_function, "step_function"),
    (functions.cross_entropy_error, "cross_entropy_error"),
    (functions.mean_squared_error, "mean_squared_error"),
    (gradient.numerical_gradient, "numerical_gradient"),
    (gradient.numerical_diff, "numerical_diff"),
    (lambda x, t: functions.cross_entropy_error(functions.softmax(x), t), "softmax_loss"),
])
def test_dlfs_own_functions_pass(func, reference):
    result = check_function(func, reference, reference)
    assert (result.verdict, result.diagnoses, result.first_bad_step) == ("pass", [], None)
    assert result.kind == "function" and result.reference == reference


@pytest.mark.parametrize(("name", "reference", "verdict", "variant"), [
    ("step_function", "step_function", "pass", None),
    ("step_function_text", "step_function", "variant", "scalar-only"),
    ("sigmoid", "sigmoid", "pass", None),  # exp(1000) overflows to inf, and 1/(1 + inf) = 0
    ("sigmoid_grad", "sigmoid_grad", "pass", None),
    ("relu", "relu", "pass", None),
    ("relu_grad", "relu_grad", "pass", None),
    ("softmax", "softmax", "pass", None),
    ("softmax_ko", "softmax", "pass", None),
    ("softmax_text", "softmax", "variant", "no-batch"),
    ("sum_squared_error", "mean_squared_error", "variant", "book-mse-half-sum"),
    ("mean_squared_error_ko", "mean_squared_error", "variant", "mse-sum-over-len"),
    ("cross_entropy_error", "cross_entropy_error", "variant", "book-cross-entropy-delta"),
    ("cross_entropy_error_text", "cross_entropy_error", "variant",
     "book-cross-entropy-delta+one-hot-only+no-batch"),
    ("cross_entropy_error_batch_text", "cross_entropy_error", "variant",
     "book-cross-entropy-delta+one-hot-only"),
    ("softmax_loss", "softmax_loss", "variant", "book-cross-entropy-delta"),
    ("numerical_diff", "numerical_diff", "pass", None),
    ("numerical_gradient_text", "numerical_gradient", "variant", "one-d-only"),
    ("numerical_gradient", "numerical_gradient", "pass", None),
])
def test_the_books_functions_pass_or_are_a_named_variant(name, reference, verdict, variant):
    result = check_function(getattr(BOOK, name), reference, name)
    assert (result.verdict, result.variant) == (verdict, variant)
    assert result.codes() == ["variant"] * (variant.count("+") + 1 if variant else 0)
    assert_bilingual(result)


@pytest.mark.parametrize(("name", "reference", "code", "words"), [
    ("step_function_ko", "step_function", "crash", ["has no attribute 'int'"]),
    # np.zeros(x) of an array: named, with the call to write instead
    ("relu_grad_ko", "relu_grad", "array-as-shape",
     ["cannot be interpreted as an integer", "np.zeros(x)", "np.zeros_like(x)"]),
])
def test_the_books_errata_fail_at_their_line(name, reference, code, words):
    result = check_function(getattr(BOOK, name), reference, name)
    (found,) = result.diagnoses
    line = marked_line(BOOK, name, code)
    assert (result.verdict, found.code, found.line) == ("fail", code, line)
    assert all(word in found.message["en"] for word in words)
    assert f"book_functions.py:{line}" in found.message["ko"]
    assert_bilingual(result)


def test_an_array_given_as_a_shape_is_said_in_korean_with_the_right_particle():
    (found,) = check_function(BOOK.relu_grad_ko, "relu_grad", "relu_grad_ko").diagnoses
    assert "x는 배열이어서" in found.message["ko"] and "x과" not in found.message["ko"]
    assert "np.zeros_like(x)" in found.message["ko"]


def test_a_variant_says_what_the_book_does_in_both_languages():
    result = check_function(BOOK.cross_entropy_error, "cross_entropy_error", "cee")
    (found,) = result.diagnoses
    assert "1e-7" in found.message["en"] and "1e-7" in found.message["ko"]
    assert 1e-8 < result.max_rel_error < 1e-5  # the δ's size, not a mistake's


# -- the mistakes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reference", "verdict", "codes"), [
    ("softmax_no_max", "softmax", "fail", ["overflow"]),
    ("softmax_in_place", "softmax", "warn", ["mutates-input"]),
    ("softmax_unfinished", "softmax", "fail", ["unfinished"]),
    ("relu_stub", "relu", "fail", ["unfinished"]),
    ("sigmoid_unstable", "sigmoid", "fail", ["overflow"]),
    ("sigmoid_math", "sigmoid", "fail", ["crash"]),
    ("step_at_zero", "step_function", "fail", ["wrong-output"]),
    ("cross_entropy_no_delta", "cross_entropy_error", "fail", ["log-zero"]),
    ("cross_entropy_per_sample", "cross_entropy_error", "fail", ["wrong-shape"]),
    ("squared_error_no_half", "mean_squared_error", "fail", ["wrong-output"]),
    ("numerical_gradient_not_restored", "numerical_gradient", "fail", ["not-restored"]),
    ("numerical_gradient_copy", "numerical_gradient", "fail", ["perturbs-copy"]),
    ("numerical_gradient_forward", "numerical_gradient", "fail", ["forward-difference"]),
    ("numerical_diff_tiny_h", "numerical_diff", "fail", ["wrong-output"]),
])
def test_each_buggy_function_gets_its_diagnosis_in_both_languages(name, reference, verdict,
                                                                  codes):
    result = check_function(getattr(BUGGY, name), reference, name)
    assert (result.verdict, result.codes()) == (verdict, codes)
    assert_bilingual(result)
    if verdict == "fail":
        assert result.first_bad_step is not None
    json.dumps(result.as_dict(), allow_nan=False)  # the CLI's --json: no NaN or Infinity


@pytest.mark.parametrize(("name", "reference", "code"), [
    ("softmax_no_max", "softmax", "overflow"),
    ("softmax_in_place", "softmax", "mutates-input"),
    ("softmax_unfinished", "softmax", "unfinished"),
    ("sigmoid_unstable", "sigmoid", "overflow"),
    ("sigmoid_math", "sigmoid", "crash"),
    ("cross_entropy_no_delta", "cross_entropy_error", "log-zero"),
])
def test_a_diagnosis_names_the_line_where_it_happens(name, reference, code):
    (found,) = check_function(getattr(BUGGY, name), reference, name).diagnoses
    line = marked_line(BUGGY, name, code)
    assert (found.code, found.line, Path(found.file).name) == (code, line,
                                                                "buggy_functions.py")
    assert f"buggy_functions.py:{line}" in found.message["en"]


def test_the_first_bad_input_and_the_error_are_the_numbers_of_the_departure():
    # x ≥ 0 instead of x > 0 differs only at 0: the edge input (index 1), on 1 of 4 values.
    result = check_function(BUGGY.step_at_zero, "step_function", "step")
    assert result.first_bad_step == 1
    assert "input 1" in result.diagnoses[0].message["en"]
    assert "입력 1" in result.diagnoses[0].message["ko"]


def test_the_forward_difference_is_told_to_use_the_central_one():
    (found,) = check_function(BUGGY.numerical_gradient_forward, "numerical_gradient",
                              "numerical_gradient").diagnoses
    assert "central difference" in found.message["en"] and "중심 차분" in found.message["ko"]


def test_checking_leaves_numpy_error_handling_the_trace_and_the_random_state_as_they_were():
    before = (np.geterr(), sys.gettrace(), np.random.get_state()[1].tolist())  # noqa: NPY002
    for name in ("softmax_no_max", "softmax_in_place", "cross_entropy_no_delta"):
        reference = FUNCTION_NAMES[name.split("_no")[0].split("_in_place")[0]]
        check_function(getattr(BUGGY, name), reference, name)
    assert (np.geterr(), sys.gettrace(), np.random.get_state()[1].tolist()) == before  # noqa: NPY002


def test_the_inputs_are_the_same_on_every_check():
    first = check_function(BUGGY.squared_error_no_half, "mse", "sse").as_dict()
    assert check_function(BUGGY.squared_error_no_half, "mse", "sse").as_dict() == first


# NumPy's AttributeError for np.int (removed in 1.24; the book's step_function writes
# dtype=np.int) runs on for four sentences: the crash line keeps the whole ones that fit.
def _step_function(x):
    return np.array(x > 0, dtype=np.int)  # noqa: NPY001  (the learner's line)


def test_a_long_error_is_cut_after_its_last_whole_sentence_not_in_a_word():
    result = check_function(_step_function, "step_function", "step_function")
    (found,) = result.diagnoses
    message = found.message["en"]
    if hasattr(np, "int"):  # a NumPy older than 1.24 still has the alias
        pytest.skip("this NumPy still has np.int")
    assert "has no attribute 'int'. `np.int` was a deprecated alias for the builtin `int`." \
        in message
    said = message.split("it raised ", 1)[1].split(" at ")[0]
    assert len(said) <= 200 and said.endswith(("by itself", "`int`"))  # a sentence's end


def test_error_line_ends_at_a_sentence_else_a_word():
    from dlfs.check.result import error_line

    assert error_line(ValueError("short")) == "ValueError: short"
    long = ValueError("First part. " + "word " * 60)
    assert error_line(long, limit=50) == "ValueError: First part."
    assert error_line(ValueError("x" * 20 + " " + "y" * 80), limit=40) == (
        "ValueError: " + "x" * 20 + "…")  # at the last word in the second half
    cut = error_line(ValueError("z" * 300))  # no word ends late enough: cut at the limit
    assert len(cut) == 200 and cut.startswith("ValueError: zzz") and cut.endswith("z…")
