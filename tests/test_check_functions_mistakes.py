"""dlfs.check.functions names a softmax over the wrong axis and a one-sided difference at the
statement that computes it, and passes the book's one-line functions (which, before issue 21,
reached the layer checker by their lower-case names)."""

import check_fixtures
import numpy as np
import pytest
from check_fixtures import assert_bilingual, load_fixture

from dlfs.check.functions import FUNCTION_NAMES, check_function
from dlfs.check.layers import LAYER_NAMES

MISTAKES = load_fixture("check_layers", "mistake_functions")


@pytest.mark.parametrize(("name", "reference", "code", "header"), [
    ("softmax_axis0", "softmax", "softmax-wrong-axis", "def softmax_axis0"),
    ("numerical_diff_forward", "numerical_diff", "forward-difference",
     "def numerical_diff_forward"),
    # the line inside the helper the learner's function calls, not the call
    ("numerical_gradient_forward_2d", "numerical_gradient", "forward-difference",
     "def _one_sided_gradient_1d"),
])
def test_each_function_mistake_is_named_at_its_line(name, reference, code, header):
    result = check_function(getattr(MISTAKES, name), reference, name)
    assert (result.verdict, result.codes()) == ("fail", [code])
    (found,) = result.diagnoses
    line = check_fixtures.marked_line(MISTAKES, header, code)
    assert found.line == line
    assert f"mistake_functions.py:{line}" in found.message["ko"]
    assert_bilingual(result)


@pytest.mark.parametrize(("name", "reference"), [
    ("softmax", "softmax"), ("numerical_diff", "numerical_diff"),
    ("numerical_gradient", "numerical_gradient")])
def test_the_correct_function_beside_each_mistake_passes(name, reference):
    result = check_function(getattr(MISTAKES, name), reference, name)
    assert (result.verdict, result.diagnoses) == ("pass", [])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _relu(x):
    return np.maximum(0, x)


def _tanh(x):
    return np.tanh(x)


@pytest.mark.parametrize(("function", "name"), [(_sigmoid, "sigmoid"), (_relu, "relu"),
                                                (_tanh, "tanh")])
def test_the_books_one_line_activation_functions_pass_the_function_check(function, name):
    # the names are in both tables: the dispatcher sends a function to FUNCTION_NAMES and a
    # class to LAYER_NAMES; the function checker itself must pass the book's one-liners
    assert name in FUNCTION_NAMES and name in LAYER_NAMES
    assert check_function(function, FUNCTION_NAMES[name], name).verdict == "pass"


def test_the_two_tables_tell_classes_from_functions():
    assert LAYER_NAMES["softmax"] == "Softmax" and FUNCTION_NAMES["softmax"] == "softmax"
    assert {"affine", "batchnormalization", "dropout", "softmaxwithloss"} <= set(LAYER_NAMES)
    assert not {"affine", "batchnormalization", "dropout"} & set(FUNCTION_NAMES)
    assert {"step_function", "cross_entropy_error", "mean_squared_error",
            "numerical_gradient", "numerical_diff", "sigmoid_grad", "relu_grad"} <= set(
        FUNCTION_NAMES)
    assert not {"step_function", "numerical_gradient", "cross_entropy_error"} & set(LAYER_NAMES)


class _Odd:
    """A result NumPy cannot turn into numbers without the learner's own code raising."""

    def __float__(self):
        raise RuntimeError("not a number yet")


def test_a_function_whose_result_breaks_the_check_is_failed_not_raised():
    def sigmoid(x):
        return _Odd()

    result = check_function(sigmoid, "sigmoid", "sigmoid")
    assert result.verdict == "fail" and result.codes() == ["crash"]
    assert "RuntimeError" in result.diagnoses[0].message["en"]
    assert result.diagnoses[0].file == __file__


def test_a_function_sent_to_the_layer_checker_is_checked_as_a_function_and_back():
    # whatever table a dispatcher looks in first, the book's lower-case one-liners are
    # functions and a class Softmax is a layer
    from dlfs.check.layers import check_layer

    result = check_layer(_sigmoid, "Sigmoid", "sigmoid")
    assert (result.kind, result.reference, result.verdict) == ("function", "sigmoid", "pass")
    result = check_layer(MISTAKES.softmax, "Softmax", "softmax")
    assert (result.kind, result.verdict) == ("function", "pass")
    layers = load_fixture("check_layers", "book2_layers")
    result = check_function(layers.Softmax, "softmax", "Softmax")
    assert (result.kind, result.reference, result.verdict) == ("layer", "Softmax", "pass")
