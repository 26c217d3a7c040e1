"""dlfs.check.layers names the mistakes learners make, at the statement that computes the wrong
value: each buggy class in tests/fixtures/check_layers/mistake_layers.py fails with its code and
the line marked `# <- CODE`, and the correct version beside it gets none of the codes; the
second book's layers (params/grads lists) check through that interface."""

from pathlib import Path

import check_fixtures
import numpy as np
import pytest
from check_fixtures import assert_bilingual, load_fixture

from dlfs.check import _probe
from dlfs.check.layers import LAYER_NAMES, check_layer

MISTAKES = load_fixture("check_layers", "mistake_layers")
BOOK2 = load_fixture("check_layers", "book2_layers")

BUGGY = [
    ("DropoutMaskInBackward", "Dropout", "dropout-mask-in-backward"),
    ("AffineDxNotReshaped", "Affine", "dx-not-reshaped"),
    ("SoftmaxWithLossNotAveraged", "SoftmaxWithLoss", "loss-grad-not-averaged"),
    ("SigmoidBackwardFromX", "Sigmoid", "sigmoid-backward-from-x"),
    ("SoftmaxWithLossWholeBatch", "SoftmaxWithLoss", "softmax-wrong-axis"),
    ("SoftmaxColumns", "Softmax", "softmax-wrong-axis"),
    ("SoftmaxWithLossOwnMethods", "SoftmaxWithLoss", "softmax-wrong-axis"),
    ("BatchNormMissingMeanTerm", "BatchNormalization", "bn-missing-mean-term"),
    ("BatchNormMissingVarianceTerm", "BatchNormalization", "bn-missing-variance-term"),
    ("BatchNormVarWithoutEps", "BatchNormalization", "bn-var-without-eps"),
    ("BatchNormBatchStatsAtTest", "BatchNormalization", "bn-batch-stats-at-test"),
]
CORRECT = [("DropoutCorrect", "Dropout"), ("AffineCorrect", "Affine"),
           ("SoftmaxWithLossCorrect", "SoftmaxWithLoss"), ("SigmoidCorrect", "Sigmoid"),
           ("SoftmaxCorrect", "Softmax"), ("BatchNormStagedCorrect", "BatchNormalization"),
           ("BatchNormCompactCorrect", "BatchNormalization"),
           ("SoftmaxWithLossText", "SoftmaxWithLoss")]


def marked_line(name: str, code: str) -> int:
    """The line marked `# <- CODE` after the class (or, for a mistake made in a helper
    function the class calls, after that function)."""
    source = Path(MISTAKES.__file__).read_text(encoding="utf-8")
    helper = {"SoftmaxWithLossWholeBatch": "def softmax_whole",
              "SoftmaxColumns": "def softmax_columns"}.get(name, f"class {name}")
    assert helper.split()[-1] in source
    return check_fixtures.marked_line(MISTAKES, helper, code)


@pytest.mark.parametrize(("name", "reference", "code"), BUGGY)
def test_each_mistake_is_named_alone_at_the_statement_that_computes_it(name, reference, code):
    result = check_layer(getattr(MISTAKES, name), reference, name)
    assert (result.verdict, result.codes()) == ("fail", [code])
    (found,) = result.diagnoses
    line = marked_line(name, code)
    assert (Path(found.file).name, found.line) == ("mistake_layers.py", line)
    for lang in ("en", "ko"):
        assert f"mistake_layers.py:{line}" in found.message[lang]
    assert_bilingual(result)
    assert code in _probe.MISTAKES


@pytest.mark.parametrize(("name", "reference"), CORRECT)
def test_the_correct_version_beside_each_mistake_gets_no_code(name, reference):
    result = check_layer(getattr(MISTAKES, name), reference, name)
    assert result.verdict in ("pass", "variant")
    assert not set(result.codes()) & _probe.MISTAKES


@pytest.mark.parametrize("name", [name for name, _, _ in BUGGY])
def test_a_failed_backward_never_heads_with_a_relative_error_of_zero(name):
    reference = next(ref for n, ref, _ in BUGGY if n == name)
    result = check_layer(getattr(MISTAKES, name), reference, name)
    assert result.max_rel_error is None or result.max_rel_error > 1e-6
    assert "relative error 0)" not in result.headline("en")


def test_the_5_6_3_text_softmax_with_loss_is_the_one_hot_only_variant():
    result = check_layer(MISTAKES.SoftmaxWithLossText, "SoftmaxWithLoss", "SoftmaxWithLoss")
    assert result.variant == "book-cross-entropy-delta+one-hot-only"


def test_a_dx_left_2d_on_4d_input_is_a_mistake_not_the_two_d_only_variant():
    # before issue 21 this passed as "variant: two-d-only"; an Affine that cannot take 4-D
    # input at all (the second book's) still is that variant
    assert check_layer(MISTAKES.AffineDxNotReshaped, "Affine", "Affine").verdict == "fail"
    result = check_layer(BOOK2.Affine, "Affine", "Affine")
    assert (result.verdict, result.variant) == ("variant", "two-d-only")


def test_the_missing_batch_norm_term_is_read_from_the_structure_of_dx():
    # the mean term makes each feature's dx sum to 0 over the batch, the variance term makes it
    # orthogonal to x̂: each message quotes the learner's sum or dot product
    mean = check_layer(MISTAKES.BatchNormMissingMeanTerm, "BN", "BN").diagnoses[0]
    variance = check_layer(MISTAKES.BatchNormMissingVarianceTerm, "BN", "BN").diagnoses[0]
    assert "sums to 0 over the batch" in mean.message["en"]
    assert "orthogonal to x̂" in variance.message["en"]


def test_batch_norm_without_eps_in_backward_is_shown_on_the_feature_of_tiny_variance():
    result = check_layer(MISTAKES.BatchNormVarWithoutEps, "BatchNormalization", "BN")
    (found,) = result.diagnoses
    assert "variance ~1e-6" in found.message["en"]
    assert result.max_rel_error > 0.1  # not "differs by 3.8e-08", which reads as rounding


# -- the second book's interface -------------------------------------------------------------


@pytest.mark.parametrize(("name", "verdict", "variant"), [
    ("Sigmoid", "pass", None),
    ("Affine", "variant", "two-d-only"),
    ("Softmax", "pass", None),
    ("SoftmaxWithLoss", "variant", "book-cross-entropy-delta"),
    ("Dropout", "variant", "book-dropout"),
])
def test_the_second_books_layers_check_through_their_params_and_grads_lists(name, verdict,
                                                                            variant):
    result = check_layer(getattr(BOOK2, name), name, name)
    assert (result.verdict, result.variant) == (verdict, variant)
    assert_bilingual(result)


def test_a_second_book_gradient_written_wrong_in_place_is_named_at_its_line():
    class AffineDwTransposed(BOOK2.Affine):
        def backward(self, dout):
            W, b = self.params
            self.grads[0][...] = np.dot(self.x.T, dout) * 2
            self.grads[1][...] = np.sum(dout, axis=0)
            return np.dot(dout, W.T)

    result = check_layer(AffineDwTransposed, "Affine", "Affine")
    (found,) = result.diagnoses
    assert found.code == "gradient-mismatch" and "dW" in found.message["en"]
    assert found.file == __file__
    assert "self.grads[0][...]" in Path(__file__).read_text().splitlines()[found.line - 1]


def test_softmax_is_a_layer_name_and_a_class_softmax_checks_as_a_layer():
    assert LAYER_NAMES["softmax"] == "Softmax"
    assert check_layer(MISTAKES.SoftmaxCorrect, "softmax", "Softmax").reference == "Softmax"


# -- robust per object -----------------------------------------------------------------------


def test_a_class_with_only_init_is_unfinished_at_its_init():
    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

    result = check_layer(Affine, "Affine", "Affine")
    assert (result.verdict, result.codes()) == ("fail", ["unfinished"])
    assert result.diagnoses[0].file == __file__
    assert_bilingual(result)


def test_a_class_that_cannot_be_built_is_a_crash_at_its_line():
    class Affine:
        def __init__(self, input_size, output_size, weight_init_std=0.01):
            self.W = weight_init_std * np.random.default_rng(0).standard_normal(
                (input_size, output_size))  # a matrix where a number was meant: TypeError

        def forward(self, x):
            return x @ self.W

        def backward(self, dout):
            return dout @ self.W.T

    result = check_layer(Affine, "Affine", "Affine")
    assert result.verdict == "fail" and result.codes()[0] == "crash"
    assert result.diagnoses[0].file == __file__


def test_a_layer_whose_forward_returns_an_odd_object_is_failed_not_raised():
    class Relu:
        def forward(self, x):
            return {"out": x}

        def backward(self, dout):
            return dout

    assert check_layer(Relu, "Relu", "Relu").verdict == "fail"


def test_a_constructor_that_takes_other_arguments_is_a_crash_at_its_init():
    class Affine:
        def __init__(self):  # the layer builds its own weights: Affine(W, b) cannot be called
            self.W = np.zeros((5, 3))

        def forward(self, x):
            return x @ self.W

        def backward(self, dout):
            return dout @ self.W.T

    result = check_layer(Affine, "Affine", "Affine")
    assert result.codes()[0] == "crash"
    found = result.diagnoses[0]
    assert found.file == __file__
    assert "def __init__(self)" in Path(__file__).read_text().splitlines()[found.line - 1]
    assert "TypeError" in found.message["en"]


def test_a_batch_norm_whose_forward_takes_no_train_flg_is_failed_for_batch_statistics_at_test():
    class BatchNormalization(MISTAKES.BatchNormStagedCorrect):
        def forward(self, x):
            return super().forward(x, True)

    result = check_layer(BatchNormalization, "BatchNormalization", "BN")
    assert result.codes() == ["bn-batch-stats-at-test"]


def test_gradients_kept_under_another_spelling_are_found():
    # seen in learners' repos: self.dw and self.d_b where the book writes dW and db
    class Affine(MISTAKES.AffineCorrect):
        def backward(self, dout):
            dx = super().backward(dout)
            self.dw, self.d_b, self.dW, self.db = self.dW, self.db, None, None
            return dx

    assert check_layer(Affine, "Affine", "Affine").verdict == "pass"


def test_a_batch_norm_that_leaves_dx_flat_on_4d_input_is_dx_not_reshaped():
    class BatchNormalization(MISTAKES.BatchNormStagedCorrect):
        def backward(self, dout):
            return super().backward(dout).reshape(dout.shape[0], -1)

    result = check_layer(BatchNormalization, "BatchNormalization", "BN")
    assert (result.verdict, result.codes()) == ("fail", ["dx-not-reshaped"])


def test_a_keyword_only_train_flag_is_passed_by_its_name():
    class BatchNormalization(MISTAKES.BatchNormStagedCorrect):
        def forward(self, x, *, train=True):
            return super().forward(x, train)

    assert check_layer(BatchNormalization, "BatchNormalization", "BN").verdict == "pass"


def test_a_wrong_dx_is_named_where_it_is_computed_not_where_it_is_reshaped():
    class Affine(MISTAKES.AffineCorrect):
        def backward(self, dout):
            dx = 2 * np.dot(dout, self.W.T)  # <- twice the gradient
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            dx = dx.reshape(*self.original_x_shape)
            return dx

    result = check_layer(Affine, "Affine", "Affine")
    (found,) = result.diagnoses
    assert (result.verdict, found.code, found.file) == ("fail", "gradient-mismatch", __file__)
    assert "# <- twice the gradient" in Path(__file__).read_text().splitlines()[found.line - 1]


def test_gradients_kept_in_a_dict_keyed_like_the_parameters_are_found():
    class Affine(MISTAKES.AffineCorrect):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads = {"W": self.dW, "b": self.db}
            self.dW = self.db = None
            return dx

    assert check_layer(Affine, "Affine", "Affine").verdict == "pass"
