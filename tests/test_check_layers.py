"""dlfs.check.layers: the book's layers pass or are a named variant, dlfs's own pass, and each
buggy layer in tests/fixtures/check_layers/buggy_layers.py gets its diagnosis, with the line
the learner must look at, in English and Korean."""

import re
from pathlib import Path

import check_fixtures
import numpy as np
import pytest
from check_fixtures import assert_bilingual, load_fixture

from dlfs import layers
from dlfs.check.layers import LAYER_NAMES, SPECS, check_layer, reference_name

BOOK = load_fixture("check_layers", "book_layers")
BUGGY = load_fixture("check_layers", "buggy_layers")


def marked_line(module, class_name: str, code: str) -> int:
    return check_fixtures.marked_line(module, f"class {class_name}", code)


# -- names --------------------------------------------------------------------------------------


def test_every_reference_has_its_book_name_and_aliases():
    assert set(LAYER_NAMES.values()) == set(SPECS)
    for alias, reference in (("affine", "Affine"), ("dense", "Affine"), ("linear", "Affine"),
                             ("batchnorm", "BatchNormalization"),
                             ("batch_normalization", "BatchNormalization"),
                             ("softmaxwithloss", "SoftmaxWithLoss"), ("relu", "Relu"),
                             ("dropout", "Dropout"), ("sigmoid", "Sigmoid"), ("tanh", "Tanh")):
        assert LAYER_NAMES[alias] == reference
        assert reference_name(alias.upper()) == reference
    assert all(name == name.lower() for name in LAYER_NAMES)


def test_an_unknown_reference_or_a_non_class_is_refused_in_one_line():
    with pytest.raises(ValueError, match="Convolution.*use one of Affine") as error:
        check_layer(BOOK.Affine, "Convolution", "Convolution")
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="must be a layer class"):
        check_layer(BOOK.Affine(np.ones((2, 2)), np.ones(2)), "Affine", "layer")


# -- the references and the book's code ---------------------------------------------------------


@pytest.mark.parametrize("cls", [layers.Affine, layers.Relu, layers.Sigmoid, layers.Tanh,
                                 layers.BatchNormalization, layers.Dropout,
                                 layers.SoftmaxWithLoss])
def test_dlfs_own_layers_pass(cls):
    result = check_layer(cls, cls.__name__, cls.__name__)
    assert (result.verdict, result.diagnoses, result.first_bad_step) == ("pass", [], None)
    assert result.kind == "layer" and result.reference == cls.__name__


@pytest.mark.parametrize(("name", "reference", "verdict", "variant"), [
    ("Affine", "Affine", "pass", None),
    ("Sigmoid", "Sigmoid", "pass", None),
    ("AffineText", "Affine", "variant", "two-d-only"),
    ("SoftmaxWithLoss", "SoftmaxWithLoss", "variant", "book-cross-entropy-delta"),
    ("Dropout", "Dropout", "variant", "book-dropout"),
    ("BatchNormalization", "BatchNormalization", "variant", "book-batchnorm-statistics"),
])
def test_the_books_layers_pass_or_are_a_named_variant(name, reference, verdict, variant):
    result = check_layer(getattr(BOOK, name), reference, name)
    assert (result.verdict, result.variant) == (verdict, variant)
    assert result.codes() == (["variant"] if variant else [])
    assert_bilingual(result)


def test_the_books_relu_is_a_warn_for_writing_into_dout_at_its_line():
    result = check_layer(BOOK.Relu, "Relu", "Relu")
    assert (result.verdict, result.codes()) == ("warn", ["mutates-input"])
    (found,) = result.diagnoses
    line = next(n for n, text in enumerate(
        Path(BOOK.__file__).read_text(encoding="utf-8").splitlines(), 1) if "writes-dout" in text)
    assert (found.line, Path(found.file).name) == (line, "book_layers.py")
    assert f"book_layers.py:{line}" in found.message["en"] and "dout" in found.message["ko"]


def test_the_books_batch_norm_eps_10e_7_is_dlfs_default_and_its_own_eps_attribute_is_read():
    # The book's ε is written into the formula (10e-7 = 1e-6, dlfs's default): its training
    # outputs equal dlfs's. The fixture's correct BN keeps eps = 1e-5 as an attribute.
    assert check_layer(BUGGY.BatchNormalization, "batchnorm", "BN").verdict == "pass"


def test_the_books_dropout_variant_holds_whatever_random_numbers_it_draws():
    state = np.random.get_state()  # noqa: NPY002 -- the check must leave it as it found it
    first = check_layer(BOOK.Dropout, "Dropout", "Dropout")
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    second = check_layer(BOOK.Dropout, "Dropout", "Dropout")
    np.random.set_state(state)  # noqa: NPY002
    assert first.as_dict() == second.as_dict()


# -- the mistakes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reference", "verdict", "codes"), [
    ("AffineCrash", "Affine", "fail", ["crash"]),
    ("AffineUnfinished", "Affine", "fail", ["unfinished"]),
    ("AffineReturnsNothing", "Affine", "fail", ["unfinished"]),
    ("ReluStub", "Relu", "fail", ["unfinished"]),
    ("AffineDbNotSummed", "Affine", "fail", ["wrong-shape"]),
    ("AffineDwAveraged", "Affine", "fail", ["gradient-mismatch"]),
    ("AffineNoBias", "Affine", "fail", ["wrong-output"]),
    ("AffineCopiesW", "Affine", "warn", ["copies-params"]),
    ("ReluInPlace", "Relu", "warn", ["mutates-input"]),
    ("SigmoidUnstable", "Sigmoid", "fail", ["overflow"]),
    ("SigmoidWrongBackward", "Sigmoid", "fail", ["gradient-mismatch"]),
    ("SoftmaxWithLossNoDelta", "SoftmaxWithLoss", "fail", ["log-zero"]),
    ("SoftmaxWithLossNoMax", "SoftmaxWithLoss", "fail", ["overflow"]),
    ("BatchNormalizationNoVarianceTerm", "BatchNormalization", "fail",
     ["bn-missing-variance-term"]),
    ("BatchNormalizationTestWithBatchStats", "BatchNormalization", "fail",
     ["bn-batch-stats-at-test"]),
    ("DropoutKeepsRatio", "Dropout", "fail", ["wrong-output"]),
    ("DropoutUnscaledTest", "Dropout", "fail", ["wrong-output"]),
    ("DropoutInPlace", "Dropout", "warn", ["mutates-input"]),
    ("Dropout", "Dropout", "pass", []),
])
def test_each_buggy_layer_gets_its_diagnosis_in_both_languages(name, reference, verdict, codes):
    result = check_layer(getattr(BUGGY, name), reference, name)
    assert result.verdict == verdict
    assert result.codes() == codes
    assert_bilingual(result)
    if verdict == "fail":
        assert result.first_bad_step is not None
    assert result.as_dict()["name"] == name


@pytest.mark.parametrize(("name", "reference", "code"), [
    ("AffineCrash", "Affine", "crash"), ("AffineUnfinished", "Affine", "unfinished"),
    ("AffineDbNotSummed", "Affine", "wrong-shape"), ("AffineCopiesW", "Affine", "copies-params"),
    ("ReluInPlace", "Relu", "mutates-input"), ("SigmoidUnstable", "Sigmoid", "overflow"),
    ("SoftmaxWithLossNoDelta", "SoftmaxWithLoss", "log-zero"),
    ("SoftmaxWithLossNoMax", "SoftmaxWithLoss", "overflow"),
    ("DropoutInPlace", "Dropout", "mutates-input"),
    ("DropoutKeepsRatio", "Dropout", "wrong-output"),
    ("DropoutUnscaledTest", "Dropout", "wrong-output"),
    ("SigmoidWrongBackward", "Sigmoid", "gradient-mismatch"),
    ("AffineDwAveraged", "Affine", "gradient-mismatch"),
    ("AffineNoBias", "Affine", "wrong-output"),
])
def test_a_diagnosis_names_the_learners_file_and_line(name, reference, code):
    result = check_layer(getattr(BUGGY, name), reference, name)
    (found,) = [d for d in result.diagnoses if d.code == code]
    line = marked_line(BUGGY, name, code)
    assert found.line == line and Path(found.file).name == "buggy_layers.py"
    for lang in ("en", "ko"):
        assert f"buggy_layers.py:{line}" in found.message[lang]


def test_a_crash_names_the_exception():
    (found,) = check_layer(BUGGY.AffineCrash, "Affine", "AffineCrash").diagnoses
    assert "AttributeError" in found.message["en"] and "'w'" in found.message["ko"]


def test_a_gradient_mismatch_names_the_parameter_and_both_relative_errors():
    result = check_layer(BUGGY.AffineDwAveraged, "Affine", "AffineDwAveraged")
    assert result.first_bad_step == 1  # with a batch of 1, dividing by N changes nothing
    (found,) = result.diagnoses
    message = found.message["en"]
    assert "dW" in message and "db" not in message.split("(")[0]
    # dW/N with N = 4: ‖dW − dW/4‖ / (‖dW‖ + ‖dW/4‖) = 0.75/1.25 = 0.6
    assert "by 0.6 and from dlfs's Affine by 0.6" in message
    assert "dW" in found.message["ko"] and "중심 차분" in found.message["ko"]


def test_a_backward_that_fits_a_wrong_forward_is_blamed_on_the_forward_only():
    # AffineNoBias forgets + b: its backward (db = Σ dout) is still the right one for
    # the real Affine, and for its own forward db would be 0. The forward is named.
    result = check_layer(BUGGY.AffineNoBias, "Affine", "AffineNoBias")
    assert result.codes() == ["wrong-output"]
    assert "forward" in result.diagnoses[0].message["en"]
    assert result.max_rel_error > 0.1


def test_the_wrong_shape_names_db_and_both_shapes():
    (found,) = check_layer(BUGGY.AffineDbNotSummed, "Affine", "Affine").diagnoses
    assert "db has shape (1, 3); it must have shape (3,)" in found.message["en"]


def test_the_dropout_ratio_mistake_says_how_much_it_drops():
    (found,) = check_layer(BUGGY.DropoutKeepsRatio, "Dropout", "Dropout").diagnoses
    assert re.search(r"drops (79|80)\.\d% of the values where dropout_ratio is 0.2",
                     found.message["en"])


def test_a_layer_that_writes_into_its_parameters_is_not_fooled_by_the_shared_arrays():
    # The learner's Affine holds the very arrays the check passed in; a forward that
    # changed W would make the reference (built from copies) disagree.
    class AffineDecaysW(BUGGY.Affine):
        def forward(self, x):
            self.W *= 0.5
            return super().forward(x)

    assert check_layer(AffineDecaysW, "Affine", "AffineDecaysW").verdict == "fail"


def test_every_check_layers_text_is_used_and_every_variant_has_its_text():
    from dlfs import catalogue
    from dlfs.check import _probe, layer_mistakes, layer_modes
    from dlfs.check import functions as function_checks
    from dlfs.check import layers as layer_checks

    keys = {key.split(".", 1)[1] for key in catalogue.CATALOGUE.keys("en")
            if key.startswith("check-layers.")}
    source = "".join(Path(module.__file__).read_text(encoding="utf-8")
                     for module in (layer_checks, function_checks, _probe, layer_mistakes,
                                    layer_modes))
    variants = {*layer_checks.VARIANTS,
                *(v for spec in layer_checks.SPECS.values() for v in spec.optional.values()),
                *(v for spec in function_checks.SPECS.values() for v in spec.variants),
                *(v for spec in function_checks.SPECS.values() for v in spec.optional.values())}
    assert {f"variant-{name}" for name in variants} == {k for k in keys if k.startswith("variant-")}
    unused = [key for key in keys - {"input"} if not key.startswith("variant-")
              and f'"{key}"' not in source and f'"{key}",' not in source]
    assert unused == []
